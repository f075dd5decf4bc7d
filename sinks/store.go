package sinks

import (
	"context"
	"errors"
	"time"

	"claude-otel-gw/telemetry"
)

// item is one accepted request on its way to the destination.
type item struct {
	r       telemetry.Request
	size    int // the request's protobuf size, what the queue's capacity counts
	records int
	at      time.Time // when it was accepted
	id      uint64    // its spool record, in a durable queue
}

// store is a sink's queue: in memory, or durable in a spool. Room is reserved, then used by
// put or given back; the batcher takes items in order; done releases them once delivered,
// dead-lettered or dropped.
type store interface {
	reserve(size int) error
	unreserve(size int)
	// put accepts it, using its reservation; what it evicts to make room is returned.
	put(ctx context.Context, it item) (evicted []item, err error)
	// take waits for the next item; false when ctx ends or nothing more will come.
	take(ctx context.Context) (item, bool)
	// tryTake takes the next item if one waits.
	tryTake() (item, bool)
	done(its []item)
	// close refuses new reservations.
	close()
}

var (
	errFull     = errors.New("queue full")
	errTooLarge = errors.New("larger than the queue")
	errClosed   = errors.New("queue closed")
)
