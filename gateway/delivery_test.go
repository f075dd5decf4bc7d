package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
)

// otlpDest is an OTLP/HTTP destination that is down (503) until told otherwise and records
// the "n" attribute of every log record it takes (other signals it takes and forgets).
type otlpDest struct {
	up   atomic.Bool
	mu   sync.Mutex
	seen map[int64]int
	url  string
}

func startDest(t *testing.T) *otlpDest {
	t.Helper()
	d := &otlpDest{seen: map[int64]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	d.url = "http://" + ln.Addr().String()
	return d
}

func (d *otlpDest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !d.up.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path != "/v1/logs" {
		w.Header().Set("Content-Type", "application/x-protobuf")
		return // an empty response: full success
	}
	req := &collogspb.ExportLogsServiceRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				for _, kv := range lr.Attributes {
					if kv.Key == "n" {
						d.seen[kv.Value.GetIntValue()]++
					}
				}
			}
		}
	}
	d.mu.Unlock()
	out, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (d *otlpDest) has(ids []int64) (missing int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		if d.seen[id] == 0 {
			missing++
		}
	}
	return missing
}

// numbered is a logs request of n records numbered from first, with a body of some size.
func numbered(first int64, n int) telemetry.Request {
	sl := &logspb.ScopeLogs{}
	for i := range int64(n) {
		sl.LogRecords = append(sl.LogRecords, &logspb.LogRecord{
			Attributes: []*commonpb.KeyValue{{Key: "n", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: first + i}}}},
			Body:       &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: string(bytes.Repeat([]byte("x"), 500))}},
		})
	}
	return telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{sl}}}}}
}

// A 1 MiB memory queue in front of a destination that is down fills up and then refuses with
// the codes OTLP clients retry on (429 with Retry-After, RESOURCE_EXHAUSTED with RetryInfo);
// once the destination is back, everything it acknowledged arrives.
func TestFullMemoryQueueRefusesRetryablyAndDeliversWhatItTook(t *testing.T) {
	dest := startDest(t)
	dir := t.TempDir()
	cfg := loopbackConfig(t, dir, fmt.Sprintf(`
[[route]]
name = "all"
redaction = "none"
sinks = ["dest"]
[sink.dest]
type = "otlp"
endpoint = %q
compression = "none"
[sink.dest.queue]
durable = false
max_bytes = "1MiB"
[sink.dest.retry]
initial_interval = "20ms"
max_interval = "100ms"
`, dest.url))
	g := start(t, cfg)
	c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	var acked []int64
	var next int64
	httpRefused := false
	for range 1000 {
		r := numbered(next, 20)
		body, _ := proto.Marshal(r.Logs)
		code, resp, err := c.Post(ctx, telemetry.Logs, "application/x-protobuf", body)
		if err != nil {
			t.Fatal(err)
		}
		if code == http.StatusTooManyRequests {
			httpRefused = true
			break
		}
		if code != http.StatusOK {
			t.Fatalf("HTTP %d before the queue was full: %s", code, resp)
		}
		for i := range int64(20) {
			acked = append(acked, next+i)
		}
		next += 20
	}
	if !httpRefused {
		t.Fatal("1000 requests of 10 KiB taken by a 1 MiB queue whose destination is down")
	}
	// The HTTP refusal carries a delay.
	resp, err := http.Post("http://"+g.HTTPAddr().String()+"/v1/logs", "application/x-protobuf", bytes.NewReader(mustMarshal(t, numbered(next, 20).Logs)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("HTTP status %d on a full queue, want 429", resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want a number of seconds", resp.Header.Get("Retry-After"))
	}
	// So does the gRPC one.
	err = c.SendGRPC(ctx, numbered(next, 20))
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("gRPC on a full queue = %v, want RESOURCE_EXHAUSTED", err)
	}
	var retryInfo *errdetails.RetryInfo
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retryInfo = ri
		}
	}
	if retryInfo == nil || retryInfo.RetryDelay.AsDuration() < time.Second {
		t.Errorf("gRPC refusal details %v, want RetryInfo with a delay", st.Details())
	}

	dest.up.Store(true)
	deadline := time.Now().Add(30 * time.Second)
	for dest.has(acked) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged records never arrived", dest.has(acked), len(acked))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d records acknowledged, all delivered after the outage", len(acked))
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
