package file

import (
	"context"
	"testing"
	"time"

	"claude-otel-gw/telemetry"
)

// BenchmarkWrite writes Claude Code's captured logs request (01-prompt-pii-grpc) again and
// again, rotating at 16 MiB and removing rotated files at once so the disk does not fill.
func BenchmarkWrite(b *testing.B) {
	r := captured(b)[telemetry.Logs][0]
	w, err := New(Options{Dir: b.TempDir(), MaxFileBytes: 16 << 20, MaxAge: time.Nanosecond})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if err := w.Write(ctx, r); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(w.files[telemetry.Logs].buf)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
