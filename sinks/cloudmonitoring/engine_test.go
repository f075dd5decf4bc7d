package cloudmonitoring

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/config"
	"claude-otel-gw/sinks"
)

// Through the real delivery engine: Cloud Monitoring unavailable for a while delays the
// captured metrics but loses none, and counts none twice.
func TestOutageThroughEngine(t *testing.T) {
	t.Parallel()
	e := newUnstarted(t, Options{})
	unavailable := status.New(codes.Unavailable, "monitoring.googleapis.com is down")
	for range 8 {
		e.fake.FailNext(unavailable)
	}
	s := sinks.New(e.w, sinks.Options{
		Name:    "gcm",
		Queue:   config.Queue{MaxBytes: 1 << 20},
		Batch:   config.Batch{MaxWait: config.Duration(5 * time.Millisecond)},
		Retry:   config.Retry{InitialInterval: config.Duration(5 * time.Millisecond), MaxInterval: config.Duration(20 * time.Millisecond)},
		Metrics: e.m,
		Logger:  e.log.Logger(),
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	exp := newExpectation()
	records := 0
	for _, r := range capturedMetrics(t) {
		exp.add(t, r)
		records += r.Records()
		n := proto.Size(r.Metrics)
		if err := s.Reserve(n); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(context.Background(), r, n); err != nil {
			t.Fatal(err)
		}
	}
	sent := e.m.SentRecords.WithLabelValues("gcm", "metrics")
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(sent) < float64(records) {
		if time.Now().After(deadline) {
			t.Fatalf("%v of %d records sent after 10s", testutil.ToFloat64(sent), records)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	exp.check(t, e.fake.Series())
	e.noViolations(t)
	if got := testutil.ToFloat64(e.m.SendErrors.WithLabelValues("gcm")); got < 8 {
		t.Errorf("%v failed attempts; want the outage's 8 at least", got)
	}
	if got := testutil.ToFloat64(e.m.DeadLetterRecords.WithLabelValues("gcm", "metrics")); got != 0 {
		t.Errorf("%v records dead-lettered; want none", got)
	}
}
