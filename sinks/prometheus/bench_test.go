package promsink

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"claude-otel-gw/admin"
)

func benchWriter(b *testing.B) *Writer {
	b.Helper()
	w, err := New(Options{Name: "prom", Listen: "127.0.0.1:0", Metrics: admin.NewTestMetrics(),
		Labels: []string{"user.id", "model", "type", "decision", "tool_name"}})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkWrite folds Claude Code's captured metrics requests into the state, one request per
// iteration (DELTA and CUMULATIVE ones in the proportion the captures have).
func BenchmarkWrite(b *testing.B) {
	reqs := capturedMetrics(b)
	points := 0
	for _, r := range reqs {
		points += r.Records()
	}
	w := benchWriter(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := w.Write(ctx, reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(points)/float64(len(reqs)), "points/op")
}

// BenchmarkScrape serves /metrics with 1000 series (100 users, 10 token series each).
func BenchmarkScrape(b *testing.B) {
	w := benchWriter(b)
	var dps []*metricspb.NumberDataPoint
	for u := range 100 {
		for m := range 10 {
			dps = append(dps, num(0, 1, 1, "user.id", fmt.Sprintf("user-%03d", u), "model", fmt.Sprintf("model-%d", m), "type", "input"))
		}
	}
	if err := w.Write(context.Background(), request(claudeResource, sum("claude_code.token.usage", "tokens", delta, true, dps...))); err != nil {
		b.Fatal(err)
	}
	h := w.handler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
