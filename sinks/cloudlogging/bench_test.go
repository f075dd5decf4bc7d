package cloudlogging

import (
	"testing"

	"claude-otel-gw/telemetry"
)

// capturedBatch is every captured logs request merged into one, as the engine batches them.
func capturedBatch(b *testing.B) telemetry.Request {
	var rs []telemetry.Request
	for _, p := range capturedLogs(b) {
		rs = append(rs, p.Request)
	}
	return telemetry.Merge(rs)
}

// BenchmarkWrite converts the captured logs and writes them to the fake through the client
// library, as one Write of the engine does.
func BenchmarkWrite(b *testing.B) {
	r := capturedBatch(b)
	h := newHarness(b, func(o *Options) { o.Labels = []string{"event.name", "session.id", "user.id"} })
	n := r.Records()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := h.write(b, r); err != nil {
			b.Fatal(err)
		}
		h.fake.Reset()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkConvert is the conversion alone: records to entries, insertIds, sizes.
func BenchmarkConvert(b *testing.B) {
	r := capturedBatch(b)
	h := newHarness(b, func(o *Options) { o.Labels = []string{"event.name", "session.id", "user.id"} })
	t := h.w.target.Load()
	n := r.Records()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c := convert(r.Logs, t, h.w.labels)
		if len(c.entries) != n {
			b.Fatalf("%d entries for %d records", len(c.entries), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
