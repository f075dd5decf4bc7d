// Package sinks is the delivery engine every destination shares: a bounded queue in front of
// each destination, a worker that drains it, retry with backoff, the sink's metrics and health,
// and a shutdown that drains what it can before a deadline.
//
// It is not for destinations: each one lives in a sub-package (sinks/file, ...) and implements
// Writer, the only part that knows where the data goes. It is not for routing either: the
// router decides which sinks get a request and offers it to them with Reserve and Put.
package sinks

import (
	"context"

	"claude-otel-gw/telemetry"
)

// Writer delivers requests to one destination. The engine calls Write from one goroutine at a
// time and never after Close.
type Writer interface {
	// Write delivers r, which is read-only and shared with other sinks. An error wrapped with
	// Permanent means the destination refused the data for good; any other error is retried.
	Write(ctx context.Context, r telemetry.Request) error
	// Close flushes and releases the destination; called once, after the last Write.
	Close() error
}
