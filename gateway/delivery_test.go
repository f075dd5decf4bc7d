package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
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
	dest := capture.StartReceiver(t, "")
	dest.Down.Store(true)
	dir := t.TempDir()
	cfg := loopbackConfig(t, dir, fmt.Sprintf(`
[[route]]
name = "all"
redaction = "none"
sinks = ["dest"]
[sink.dest]
type = "otlp"
endpoint = %q
[sink.dest.queue]
durable = false
max_bytes = "1MiB"
[sink.dest.retry]
initial_interval = "20ms"
max_interval = "100ms"
`, dest.URL))
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

	dest.Down.Store(false)
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing, _ := dest.Missing("n", acked)
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged records never arrived", missing, len(acked))
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
