// Package sinks is the delivery engine every destination shares: a bounded queue in front of
// each destination (in memory, or spooled to disk so it survives restarts and crashes), a
// batcher merging requests of one signal, workers that deliver with retry and backoff, a
// dead-letter folder for what a destination refuses for good, the sink's metrics and health,
// and a shutdown that drains what it can before a deadline.
//
// It is not for destinations: each one lives in a sub-package (sinks/file, sinks/otlp, ...)
// and implements Writer, the only part that knows where the data goes. It is not for routing
// either: the router decides which sinks get a request and offers it to them with Reserve and
// Put.
package sinks

import (
	"context"
	"errors"
	"time"

	"claude-otel-gw/telemetry"
)

// Writer delivers requests to one destination.
type Writer interface {
	// Write delivers r, which is read-only and shared with other sinks. An error wrapped with
	// Permanent means the destination refused the data for good (it is dead-lettered); one
	// wrapped with RetryAfter is retried no sooner than the destination asked; any other error
	// is retried with backoff. Unless Limits says Serial, Write is called from several
	// goroutines at once.
	Write(ctx context.Context, r telemetry.Request) error
	// Close flushes and releases the destination; called once, after the last Write.
	Close() error
}

// Limits are what a destination can take in one Write. Zero means no limit.
type Limits struct {
	// MaxRecords and MaxBytes cap a batch (records, and protobuf bytes). A single request
	// larger than either is still written whole: the writer splits it if it must.
	MaxRecords int
	MaxBytes   int
	// Serial: Write must not be called concurrently, and batches arrive in queue order.
	Serial bool
}

// Limiter is implemented by a Writer that has Limits.
type Limiter interface {
	Limits() Limits
}

// retryAfterError asks for the next attempt no sooner than after.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e retryAfterError) Error() string { return e.err.Error() }
func (e retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err as retryable no sooner than d, as the destination asked (gRPC
// RetryInfo, HTTP Retry-After). RetryAfter(nil, d) is nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return retryAfterError{err: err, after: d}
}

// RetryDelay returns the delay asked for by RetryAfter in err's chain, if any.
func RetryDelay(err error) (time.Duration, bool) {
	var r retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// Starter is implemented by a Writer that has something to start before the first Write (a
// listener of its own): the sink's Start calls it, so that building a sink (as --check does)
// binds and dials nothing.
type Starter interface {
	Start(ctx context.Context) error
}
