package cloudmonitoring

import (
	"context"
	"testing"
	"time"

	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// BenchmarkFold folds every captured metrics request, merged into one batch as the engine
// would, and builds the time series it writes, without the network: the writer's own cost.
func BenchmarkFold(b *testing.B) {
	r := telemetry.Merge(capturedMetrics(b))
	w, err := New(Options{Name: "gcm", Resource: gcp.Resource{Type: "global"}, MinInterval: time.Nanosecond})
	if err != nil {
		b.Fatal(err)
	}
	w.project, w.resource = project, w.res.Proto(project)
	w.started = time.Now().Add(-time.Hour)
	w.startedNs = uint64(w.started.UnixNano())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		bt := w.fold(r.Metrics, nil, time.Now())
		for _, s := range bt.touched {
			s.lastEnd = s.endTime(w.minInterval)
			_ = w.timeSeries(s)
			s.written, s.touched = true, false
			w.series[s.key] = s
		}
	}
	b.ReportMetric(float64(r.Records()), "points/op")
}

// BenchmarkWrite writes every captured metrics request, merged into one batch, to the fake
// through the real client: folding, the request and the round trip on loopback.
func BenchmarkWrite(b *testing.B) {
	r := telemetry.Merge(capturedMetrics(b))
	e := newEnv(b, Options{MinInterval: time.Nanosecond})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := e.w.Write(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Records()), "points/op")
}
