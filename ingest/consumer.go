package ingest

import (
	"context"

	"claude-otel-gw/telemetry"
)

// Consumer takes decoded requests. The request is read-only from the moment it is handed on:
// the consumer and everything after it may share it but never modify it. A nil error means the
// data is accepted (acknowledged to the client); a *telemetry.ThrottledError means "no room now,
// retry"; any other error is an internal failure (the client is told to retry, UNAVAILABLE/503).
//
// Consume is called concurrently, once per export request, with the request's context: it is
// cancelled when the client goes away or the server is forced to stop.
type Consumer interface {
	Consume(ctx context.Context, r telemetry.Request) error
}

// ConsumerFunc adapts a function to the Consumer interface, like http.HandlerFunc.
type ConsumerFunc func(ctx context.Context, r telemetry.Request) error

var _ Consumer = ConsumerFunc(nil)

// Consume calls f(ctx, r).
func (f ConsumerFunc) Consume(ctx context.Context, r telemetry.Request) error { return f(ctx, r) }
