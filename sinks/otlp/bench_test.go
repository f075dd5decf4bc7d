package otlp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/telemetry"
)

// capturedLogsBatch is every logs request captured from Claude Code in one batch, as the sinks
// engine would merge them.
func capturedLogsBatch(b *testing.B) telemetry.Request {
	batch := &collogspb.ExportLogsServiceRequest{}
	for _, p := range captured(b) {
		if p.Signal == telemetry.Logs {
			batch.ResourceLogs = append(batch.ResourceLogs, p.Request.Logs.ResourceLogs...)
		}
	}
	return telemetry.Request{Logs: batch}
}

// startDiscarding serves a destination that reads each export and answers success without
// decoding it, so that a benchmark measures the client alone.
func startDiscarding(b *testing.B, protocol string) string {
	if protocol == GRPC {
		return serveGRPC(b, nil, "127.0.0.1:0", grpc.ForceServerCodecV2(discardCodec{})).endpoint
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// discardCodec reads nothing into requests and writes empty responses, which is what an
// export response without a partial success encodes to.
type discardCodec struct{}

func (discardCodec) Marshal(any) (mem.BufferSlice, error) { return nil, nil }
func (discardCodec) Unmarshal(mem.BufferSlice, any) error { return nil }
func (discardCodec) Name() string                         { return "proto" }

// BenchmarkWrite measures one Write of a batch of captured log records to a fake destination on
// loopback, over each protocol, with and without gzip. The destination reads what it gets
// (and decompresses it, over gRPC) but does not decode it.
func BenchmarkWrite(b *testing.B) {
	r := capturedLogsBatch(b)
	records := r.Records()
	for _, protocol := range protocols {
		for _, compression := range []string{"none", "gzip"} {
			b.Run(strings.ReplaceAll(protocol, "/", "-")+"/"+compression, func(b *testing.B) {
				h := newHarness(b, Options{Endpoint: startDiscarding(b, protocol), Protocol: protocol, Compression: compression})
				ctx := context.Background()
				if err := h.w.Write(ctx, r); err != nil { // connect outside the measurement
					b.Fatal(err)
				}
				b.SetBytes(int64(proto.Size(r.Message())))
				b.ReportAllocs()
				for b.Loop() {
					if err := h.w.Write(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkWriteParallel is BenchmarkWrite with Writes from several goroutines, as the sinks
// engine's workers make them.
func BenchmarkWriteParallel(b *testing.B) {
	r := capturedLogsBatch(b)
	records := r.Records()
	for _, protocol := range protocols {
		b.Run(strings.ReplaceAll(protocol, "/", "-")+"/gzip", func(b *testing.B) {
			h := newHarness(b, Options{Endpoint: startDiscarding(b, protocol), Protocol: protocol, Compression: "gzip"})
			b.SetBytes(int64(proto.Size(r.Message())))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := h.w.Write(context.Background(), r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
