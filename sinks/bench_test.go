package sinks

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/telemetry"
)

type nopWriter struct{}

func (nopWriter) Write(context.Context, telemetry.Request) error { return nil }
func (nopWriter) Close() error                                   { return nil }

// BenchmarkReservePutDeliver measures the engine with a memory queue: admission and delivery
// of a ten-record logs request through a destination that does nothing. ns/record is the memory
// queue's cost per record.
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
			time.Sleep(time.Microsecond) // the queue is full: let the workers catch up
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
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*r.Records()), "ns/record")
}

// BenchmarkDurableAck measures what a durable queue adds to an acknowledgement: Reserve and a
// Put that returns once the request is fsynced to the spool (default fsync policy), from
// several clients at once, with delivery running behind. It reports the p50 and p99 of the
// Put, and records/s.
func BenchmarkDurableAck(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(map[int]string{1: "clients=1", 8: "clients=8"}[clients], func(b *testing.B) {
			s := New(nopWriter{}, Options{
				Name:     "bench",
				Queue:    config.Queue{Durable: true, MaxBytes: 1 << 30, Workers: 4},
				SpoolDir: b.TempDir(),
				Metrics:  admin.NewTestMetrics(),
			})
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			r := logsRequest("bench", 10)
			n := size(r)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(clients)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					if err := s.Reserve(n); err != nil {
						b.Error(err)
						return
					}
					if err := s.Put(ctx, r, n); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := s.Shutdown(sctx); err != nil {
				b.Fatal(err)
			}
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			}
			b.ReportMetric(float64(len(lat)*r.Records())/elapsed.Seconds(), "records/s")
		})
	}
}
