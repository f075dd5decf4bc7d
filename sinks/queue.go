package sinks

import (
	"context"
	"errors"
	"sync"

	"claude-otel-gw/telemetry"
)

// entry is one request waiting for delivery.
type entry struct {
	r       telemetry.Request
	size    int // the request's protobuf size, what the queue's capacity counts
	records int
}

var (
	errFull     = errors.New("queue full")
	errTooLarge = errors.New("larger than the queue")
	errClosed   = errors.New("queue closed")
)

// queue holds requests waiting for delivery, bounded by the sum of their sizes. Room is taken
// in two steps, reserve then put, so the router can offer a request to several sinks and give it
// to all of them or to none. Reservations count against the capacity only when refusing: with
// dropOldest, put makes room by evicting the oldest requests instead.
//
// The queue knows nothing of metrics or logs; the Sink accounts for what goes in and out.
type queue struct {
	capacity   int
	dropOldest bool
	// ready wakes the worker when something it waits for may have changed.
	ready chan struct{}

	mu       sync.Mutex
	items    []entry // items[head:] wait, oldest first
	head     int
	bytes    int // the sizes of the waiting requests
	reserved int // reserved by reserve, not yet put or given back
	closed   bool
	sealed   bool // closed and finished: a put now has nowhere to go
}

func newQueue(capacity int, dropOldest bool) *queue {
	return &queue{capacity: capacity, dropOldest: dropOldest, ready: make(chan struct{}, 1)}
}

func (q *queue) wake() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *queue) reserve(size int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return errClosed
	case size > q.capacity:
		return errTooLarge
	case !q.dropOldest && q.bytes+q.reserved+size > q.capacity:
		return errFull
	}
	q.reserved += size
	return nil
}

func (q *queue) unreserve(size int) {
	q.mu.Lock()
	q.reserved = max(q.reserved-size, 0)
	closed := q.closed
	q.mu.Unlock()
	if closed {
		// A drain waits for outstanding reservations; this may have been the last.
		q.wake()
	}
}

// put appends e using a reservation of e.size bytes and returns what it evicted to make room.
// It fails only once the queue is sealed.
func (q *queue) put(e entry) (evicted []entry, err error) {
	q.mu.Lock()
	if q.sealed {
		q.mu.Unlock()
		return nil, errClosed
	}
	q.reserved = max(q.reserved-e.size, 0)
	if q.dropOldest {
		for q.bytes+e.size > q.capacity && q.head < len(q.items) {
			evicted = append(evicted, q.pop())
		}
	}
	q.items = append(q.items, e)
	q.bytes += e.size
	q.mu.Unlock()
	q.wake()
	return evicted, nil
}

// pop removes the oldest entry; q.mu is held and the queue is not empty.
func (q *queue) pop() entry {
	e := q.items[q.head]
	q.items[q.head] = entry{} // let the request be collected once delivered
	q.head++
	q.bytes -= e.size
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head > len(q.items)/2:
		// A queue that never empties would otherwise grow its backing array forever.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return e
}

// take waits for the oldest entry. It returns false when ctx ends, or when the queue is closed,
// empty and has no reservation left that could still be put: then the queue is sealed.
func (q *queue) take(ctx context.Context) (entry, bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			e := q.pop()
			q.mu.Unlock()
			return e, true
		}
		if q.closed && q.reserved == 0 {
			q.sealed = true
			q.mu.Unlock()
			return entry{}, false
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return entry{}, false
		}
	}
}

// close refuses new reservations; what is queued or reserved can still be put and taken.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wake()
}

// drain seals the queue and returns everything still in it.
func (q *queue) drain() []entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed, q.sealed = true, true
	left := make([]entry, len(q.items)-q.head)
	copy(left, q.items[q.head:])
	clear(q.items)
	q.items, q.head, q.bytes = nil, 0, 0
	return left
}

// len reports how many requests wait.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}
