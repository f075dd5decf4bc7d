package cloudtrace

import (
	"context"
	"testing"

	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
)

// benchPayload is the largest captured traces request: six spans of a Claude Code session
// (testdata/claude-code/03-jwt-ip-http-json), with up to 28 attributes each.
const benchPayload = "03-jwt-ip-http-json/traces.http.json"

func benchRequest(b *testing.B) telemetry.Request {
	b.Helper()
	p, err := capture.Load(benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	return p.Request
}

// BenchmarkConvert measures shaping the captured spans for Cloud Trace.
func BenchmarkConvert(b *testing.B) {
	r := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		spans, _ := convert(r.Traces, testProject, "claude-otel-gw 1.2.3")
		if len(spans) == 0 {
			b.Fatal("no spans")
		}
	}
}

// BenchmarkWrite measures a whole Write of the captured request: converting it and one
// BatchWriteSpans call through the client library to the fake on loopback.
func BenchmarkWrite(b *testing.B) {
	h := newHarness(b)
	r := benchRequest(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := h.w.Write(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if refused := h.fake.Refusals(); len(refused) > 0 {
		b.Fatalf("refused: %v", refused)
	}
}
