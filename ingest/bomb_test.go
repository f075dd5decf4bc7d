package ingest

import (
	"bytes"
	"compress/gzip"
	"runtime"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
)

const bombSize = 1 << 30 // what the bomb decompresses to

// gzipBomb is 1 GiB of zeros as about 1 MiB of gzip: one compressed MiB of zeros, repeated as
// 1024 gzip members (a gzip stream may hold many, and decoders read them all as one).
var gzipBomb = sync.OnceValue(func() []byte {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	return bytes.Repeat(member.Bytes(), bombSize/(1<<20))
})

// allocatedDuring reports how many bytes the process allocated while f ran.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A gzip bomb is refused as too large on both transports, having cost a few times the request
// limit in memory, nowhere near the gigabyte it expands to.
func TestGzipBomb(t *testing.T) {
	const limit = 4 << 20 // more than the bomb's compressed size, so it is decompressed
	const allowance = 64 << 20
	bomb := gzipBomb()
	if len(bomb) >= limit {
		t.Fatalf("the bomb is %d bytes compressed; it must be under the limit to be decompressed at all", len(bomb))
	}
	cfg := testConfig()
	cfg.MaxRequestBytes = limit
	h := start(t, cfg, &recorder{})
	good := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").data

	t.Run("http", func(t *testing.T) {
		var r response
		used := allocatedDuring(func() { r = h.post(t, "/v1/logs", mediaProtobuf, "gzip", bomb) })
		if r.status != 413 {
			t.Fatalf("status %d (body %q), want 413", r.status, r.body)
		}
		if used > allowance {
			t.Errorf("refusing the bomb allocated %d MiB, want at most %d MiB", used>>20, allowance>>20)
		}
		t.Logf("allocated %.1f MiB refusing a %d MiB bomb of %.1f MiB", float64(used)/(1<<20), bombSize>>20, float64(len(bomb))/(1<<20))
		if r := h.post(t, "/v1/logs", mediaProtobuf, "", good); r.status != 200 {
			t.Fatalf("a good request after it: status %d", r.status)
		}
	})
	t.Run("grpc", func(t *testing.T) {
		var code int
		var msg string
		used := allocatedDuring(func() { code, msg = grpcFrame(t, h.srv.GRPCAddr().String(), logsExport, "gzip", bomb) })
		if codes.Code(code) != codes.ResourceExhausted {
			t.Fatalf("got %v %q, want ResourceExhausted", codes.Code(code), msg)
		}
		if used > allowance {
			t.Errorf("refusing the bomb allocated %d MiB, want at most %d MiB", used>>20, allowance>>20)
		}
		t.Logf("allocated %.1f MiB refusing a %d MiB bomb of %.1f MiB", float64(used)/(1<<20), bombSize>>20, float64(len(bomb))/(1<<20))
		if code, msg := grpcFrame(t, h.srv.GRPCAddr().String(), logsExport, "", good); codes.Code(code) != codes.OK {
			t.Fatalf("a good request after it: %v %q", codes.Code(code), msg)
		}
	})
	for _, tr := range []string{"http", "grpc"} {
		if got := refusedSoon(h, tr, "too_large", 1); got != 1 {
			t.Errorf("refused_requests_total{transport=%s,reason=too_large} = %v, want 1 (%v)", tr, got, refusedCounts(h))
		}
	}
}

// refusedCounts lists every non-zero refusal counter, to say where a refusal was counted instead.
func refusedCounts(h *harness) map[string]float64 {
	out := map[string]float64{}
	for _, tr := range []string{"http", "grpc"} {
		for _, r := range []string{"malformed", "too_large", "unavailable", "throttled"} {
			if v := testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues(tr, r)); v != 0 {
				out[tr+"/"+r] = v
			}
		}
	}
	return out
}
