package sinks

import (
	"context"
	"sync"
	"time"
)

// memory is a queue held in memory, bounded by the sizes of what it holds: what waits and what
// is being delivered, so the bound is the memory the sink may use. Room is taken in two steps,
// reserve then put, so the router can offer a request to several sinks and give it to all of
// them or to none. With dropOldest a full queue evicts its oldest waiting requests instead of
// refusing.
//
// It knows nothing of metrics or logs; the Sink accounts for what goes in and out.
type memory struct {
	capacity   int
	dropOldest bool
	// ready wakes the batcher when something it waits for may have changed.
	ready chan struct{}

	mu       sync.Mutex
	items    []item // items[head:] wait, oldest first
	head     int
	bytes    int // the sizes of the waiting and taken (not yet done) requests
	records  int // their records
	reserved int // reserved by reserve, not yet put or given back
	closed   bool
	sealed   bool // closed and finished: a put now has nowhere to go
	// taken holds the acceptance times of the requests taken, oldest first (they are taken in
	// order), from takenHead on; finished counts those done while an older one was not, so that
	// the head moves past them when it gets there. Together they give the oldest age.
	taken     []int64
	takenHead int
	finished  map[int64]int
}

func newMemory(capacity int, dropOldest bool) *memory {
	return &memory{capacity: capacity, dropOldest: dropOldest, ready: make(chan struct{}, 1)}
}

func (q *memory) wake() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *memory) reserve(size int) error {
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

func (q *memory) unreserve(size int) {
	q.mu.Lock()
	q.reserved = max(q.reserved-size, 0)
	closed := q.closed
	q.mu.Unlock()
	if closed {
		// A drain waits for outstanding reservations; this may have been the last.
		q.wake()
	}
}

// put appends it using a reservation of it.size bytes and returns what it evicted to make
// room. It fails only once the queue is sealed.
func (q *memory) put(_ context.Context, it item) (evicted []item, err error) {
	q.mu.Lock()
	if q.sealed {
		q.mu.Unlock()
		return nil, errClosed
	}
	q.reserved = max(q.reserved-it.size, 0)
	if q.dropOldest {
		for q.bytes+it.size > q.capacity && q.head < len(q.items) {
			e := q.pop()
			q.bytes -= e.size
			q.records -= e.records
			evicted = append(evicted, e)
		}
	}
	q.items = append(q.items, it)
	q.bytes += it.size
	q.records += it.records
	q.mu.Unlock()
	q.wake()
	return evicted, nil
}

// pop removes the oldest waiting item; q.mu is held and one waits.
func (q *memory) pop() item {
	it := q.items[q.head]
	q.items[q.head] = item{} // let the request be collected once delivered
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head > len(q.items)/2:
		// A queue that never empties would otherwise grow its backing array forever.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return it
}

// take waits for the oldest item. It returns false when ctx ends, or when the queue is closed,
// empty and has no reservation left that could still be put: then the queue is sealed.
func (q *memory) take(ctx context.Context) (item, bool) {
	for {
		if it, ok, done := q.poll(); ok || done {
			return it, ok
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return item{}, false
		}
	}
}

// tryTake takes the oldest item if one waits.
func (q *memory) tryTake() (item, bool) {
	it, ok, _ := q.poll()
	return it, ok
}

// poll takes the oldest item if one waits. done reports a sealed queue: nothing will come.
func (q *memory) poll() (it item, ok, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head < len(q.items) {
		it = q.pop()
		q.taken = append(q.taken, it.at.UnixNano())
		return it, true, false
	}
	if q.closed && q.reserved == 0 {
		q.sealed = true
		return item{}, false, true
	}
	return item{}, false, false
}

// done releases the room of taken items: delivered, dead-lettered or dropped.
func (q *memory) done(its []item) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range its {
		q.bytes -= its[i].size
		q.records -= its[i].records
		at := its[i].at.UnixNano()
		if q.takenHead < len(q.taken) && q.taken[q.takenHead] == at {
			q.takenHead++
		} else {
			// Finished before an older one (several workers): remembered until the head
			// reaches it.
			if q.finished == nil {
				q.finished = map[int64]int{}
			}
			q.finished[at]++
		}
		for q.takenHead < len(q.taken) && q.finished[q.taken[q.takenHead]] > 0 {
			t := q.taken[q.takenHead]
			if q.finished[t]--; q.finished[t] == 0 {
				delete(q.finished, t)
			}
			q.takenHead++
		}
	}
	if q.takenHead == len(q.taken) {
		q.taken, q.takenHead = q.taken[:0], 0
	} else if q.takenHead > len(q.taken)/2 {
		n := copy(q.taken, q.taken[q.takenHead:])
		q.taken, q.takenHead = q.taken[:n], 0
	}
}

// close refuses new reservations; what is queued or reserved can still be put and taken.
func (q *memory) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wake()
}

// drain seals the queue and returns everything still waiting.
func (q *memory) drain() []item {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed, q.sealed = true, true
	left := make([]item, len(q.items)-q.head)
	copy(left, q.items[q.head:])
	for _, it := range left {
		q.bytes -= it.size
		q.records -= it.records
	}
	clear(q.items)
	q.items, q.head = nil, 0
	return left
}

// stats reports the records and bytes held (waiting and taken) and the acceptance time of the
// oldest (zero when empty).
func (q *memory) stats() (records, bytes int, oldest time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.takenHead < len(q.taken) {
		oldest = time.Unix(0, q.taken[q.takenHead])
	} else if q.head < len(q.items) {
		oldest = q.items[q.head].at
	}
	return q.records, q.bytes, oldest
}

// waiting reports whether a request waits to be taken.
func (q *memory) waiting() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.head < len(q.items)
}
