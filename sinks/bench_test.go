package sinks

import (
	"context"
	"testing"
	"time"

	"claude-otel-gw/admin"
	"claude-otel-gw/telemetry"
)

type nopWriter struct{}

func (nopWriter) Write(context.Context, telemetry.Request) error { return nil }
func (nopWriter) Close() error                                   { return nil }

// BenchmarkReservePutDeliver measures the engine alone: admission and delivery of a ten-record
// logs request through a destination that does nothing.
func BenchmarkReservePutDeliver(b *testing.B) {
	s := New(nopWriter{}, Options{Name: "bench", Metrics: admin.NewTestMetrics()})
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	r := logsRequest("bench", 10)
	n := size(r)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		for s.Reserve(n) != nil {
			time.Sleep(time.Microsecond) // the queue is full: let the worker catch up
		}
		if err := s.Put(ctx, r, n); err != nil {
			b.Fatal(err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		b.Fatal(err)
	}
}
