package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"claude-otel-gw/internal/capture"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// BenchmarkPipeline measures the whole path, ingest -> route -> redact -> file sink, for the
// captured logs request of a session whose prompt is full of personal data, sent by real
// clients over loopback from several goroutines. It waits until the sink has written every
// record, so the figure is end-to-end throughput.
func BenchmarkPipeline(b *testing.B) {
	p, err := capture.Load("01-prompt-pii-grpc/logs.grpc.pb")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, encoding string }{
		{"grpc", capture.GRPC},
		{"http-protobuf", capture.HTTPProtobuf},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			cfg := loopbackConfig(b, dir, fmt.Sprintf(`
[[route]]
name = "local"
sinks = ["local"]
[sink.local]
type = "file"
path = %q
[sink.local.queue]
max_bytes = "256MiB"
`, filepath.Join(dir, "out")))
			g, err := Build(cfg, slog.New(slog.DiscardHandler), Info{})
			if err != nil {
				b.Fatal(err)
			}
			if err := g.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer g.Shutdown(context.Background())
			sent := g.metrics.SentRecords.WithLabelValues("local", "logs")
			payload := p
			payload.Encoding = tc.encoding
			records := p.Request.Records()

			b.ReportAllocs()
			b.SetBytes(int64(len(p.Body)))
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				for pb.Next() {
					if err := c.Send(context.Background(), payload); err != nil {
						b.Error(err)
						return
					}
				}
			})
			want := float64(b.N * records)
			for testutil.ToFloat64(sent) < want {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(want/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/want, "allocs/record")
		})
	}
}
