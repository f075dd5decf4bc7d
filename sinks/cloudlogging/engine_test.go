package cloudlogging

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"claude-otel-gw/config"
	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
)

// engine runs h's writer behind the real delivery engine: a memory queue, and retries a few
// milliseconds apart.
func engine(t *testing.T, h *harness) (*sinks.Sink, string) {
	t.Helper()
	dead := filepath.Join(t.TempDir(), "deadletter")
	s := sinks.New(h.w, sinks.Options{
		Name:  h.w.name,
		Queue: config.Queue{MaxBytes: 64 << 20},
		Retry: config.Retry{
			InitialInterval: config.Duration(5 * time.Millisecond),
			MaxInterval:     config.Duration(20 * time.Millisecond),
			AttemptTimeout:  config.Duration(10 * time.Second),
		},
		DeadLetterDir: dead,
		Metrics:       h.m,
		Logger:        h.log.Logger(),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, dead
}

func offer(t *testing.T, s *sinks.Sink, r telemetry.Request) {
	t.Helper()
	size := proto.Size(r.Message())
	if err := s.Reserve(size); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if err := s.Put(context.Background(), r, size); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An outage of Cloud Logging (UNAVAILABLE, then quota exhausted with a RetryInfo) delays
// delivery through the engine but loses nothing: every record of the captures, replayed twice,
// arrives once per replay, and nothing is dead-lettered.
func TestOutageThroughEngine(t *testing.T) {
	h := newUnstarted(t, nil)
	quota, err := status.New(codes.ResourceExhausted, "quota exceeded").
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(30 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	h.fake.FailNext(6, status.New(codes.Unavailable, "service unavailable"))
	h.fake.FailNext(1, quota)
	s, dead := engine(t, h)

	want := map[string]int{} // insertId: entries expected
	total := 0
	logs := capturedLogs(t)
	for range 2 {
		for _, p := range logs {
			offer(t, s, p.Request)
			total += p.Request.Records()
		}
	}
	sent := func() float64 { return testutil.ToFloat64(h.m.SentRecords.WithLabelValues(h.w.name, "logs")) }
	eventually(t, "every record delivered", func() bool { return sent() >= float64(total) })
	got := h.fake.Entries()
	if len(got) != total {
		t.Errorf("%d entries for %d records", len(got), total)
	}
	for _, e := range got {
		want[e.InsertId]++
	}
	for id, n := range want {
		if n != 2 {
			t.Errorf("insertId %s written %d times, want once per replay", id, n)
		}
	}
	if calls := h.fake.Calls(); calls < 8 {
		t.Errorf("%d calls: the outage did not happen", calls)
	}
	retried := testutil.ToFloat64(h.m.RetriedRecords.WithLabelValues(h.w.name, "logs"))
	failed := testutil.ToFloat64(h.m.FailedRecords.WithLabelValues(h.w.name, "logs"))
	if n := sent(); n != float64(total) || retried == 0 || failed != 0 {
		t.Errorf("sent %v (want %d), retried %v (want some), failed %v", n, total, retried, failed)
	}
	if files, _ := os.ReadDir(dead); len(files) != 0 {
		t.Errorf("%d dead letters", len(files))
	}
}

// INVALID_ARGUMENT without partial errors is Cloud Logging refusing the data for good: the
// batch is dead-lettered with the reason, and the sink goes on with the next one.
func TestInvalidArgumentDeadLettered(t *testing.T) {
	h := newUnstarted(t, nil)
	h.fake.FailNext(1, status.New(codes.InvalidArgument, "invalid log entry"))
	s, dead := engine(t, h)
	logs := capturedLogs(t)
	first := logs[0].Request
	offer(t, s, first)
	eventually(t, "a dead letter", func() bool {
		files, _ := os.ReadDir(dead)
		return len(files) == 1 && strings.HasSuffix(files[0].Name(), ".json")
	})
	files, _ := os.ReadDir(dead)
	data, err := os.ReadFile(filepath.Join(dead, files[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	var letter struct {
		Records int    `json:"records"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(data, &letter); err != nil {
		t.Fatal(err)
	}
	if letter.Records != first.Records() || !strings.Contains(letter.Error, "invalid log entry") {
		t.Errorf("dead letter of %d records (want %d), error %q", letter.Records, first.Records(), letter.Error)
	}
	if n := testutil.ToFloat64(h.m.DeadLetterRecords.WithLabelValues(h.w.name, "logs")); n != float64(first.Records()) {
		t.Errorf("dead-lettered records = %v, want %d", n, first.Records())
	}
	if n := len(h.fake.Entries()); n != 0 {
		t.Errorf("%d entries written", n)
	}
	second := logs[1].Request
	offer(t, s, second)
	eventually(t, "the next batch delivered", func() bool { return len(h.fake.Entries()) == second.Records() })
}
