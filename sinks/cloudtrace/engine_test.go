package cloudtrace

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	faketrace "claude-otel-gw/internal/fakegcp/trace"
	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// engine is the writer behind the real delivery engine: a memory queue, retries a few
// milliseconds apart, and a dead-letter folder.
type engine struct {
	fake *faketrace.Server
	sink *sinks.Sink
	m    *admin.Metrics
	dead string
}

func startEngine(t *testing.T) *engine {
	t.Helper()
	e := &engine{fake: faketrace.Start(t), m: admin.NewTestMetrics(), dead: filepath.Join(t.TempDir(), "deadletter")}
	log := (&testlog.Buffer{}).Logger()
	w, err := New(Options{
		Name:    testSink,
		Google:  gcp.Options{Endpoint: e.fake.Addr(), Insecure: true, Project: testProject},
		Metrics: e.m,
		Logger:  log,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.sink = sinks.New(w, sinks.Options{
		Name:  testSink,
		Queue: config.Queue{Workers: 2},
		Retry: config.Retry{
			InitialInterval: config.Duration(time.Millisecond),
			MaxInterval:     config.Duration(5 * time.Millisecond),
			AttemptTimeout:  config.Duration(5 * time.Second),
		},
		DeadLetterDir: e.dead,
		Metrics:       e.m,
		Logger:        log,
	})
	if err := e.sink.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.shutdown(t) })
	return e
}

func (e *engine) put(t *testing.T, r telemetry.Request) {
	t.Helper()
	size := proto.Size(r.Message())
	if err := e.sink.Reserve(size); err != nil {
		t.Fatal(err)
	}
	if err := e.sink.Put(context.Background(), r, size); err != nil {
		t.Fatal(err)
	}
}

func (e *engine) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.sink.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func (e *engine) sent() float64 {
	return testutil.ToFloat64(e.m.SentRecords.WithLabelValues(testSink, "traces"))
}

func (e *engine) deadLettered() float64 {
	return testutil.ToFloat64(e.m.DeadLetterRecords.WithLabelValues(testSink, "traces"))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Cloud Trace away for a while (UNAVAILABLE, then a quota error asking for a pause) delays the
// captured sessions' spans but loses none: the engine retries until each arrives, and the
// library never retried on its own (each injected failure cost exactly one send error).
func TestOutageLosesNothing(t *testing.T) {
	e := startEngine(t)
	e.fake.FailNext(6, codes.Unavailable, 0)
	e.fake.FailNext(1, codes.ResourceExhausted, 20*time.Millisecond)
	payloads := capturedTraces(t)
	total := 0
	for range 2 {
		for _, p := range payloads {
			e.put(t, p.Request)
			total += p.Request.Records()
		}
	}
	waitFor(t, "every span to be sent", func() bool { return e.sent() == float64(total) })
	e.shutdown(t)

	if refused := e.fake.Refusals(); len(refused) > 0 {
		t.Fatalf("Cloud Trace refused: %v", refused)
	}
	got := byName(e.fake.Spans())
	for _, p := range payloads {
		for _, rs := range p.Request.Traces.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					if n := len(got[nameOf(sp)]); n != 2 {
						t.Errorf("%s: span %s arrived %d times, want 2", p.Name, nameOf(sp), n)
					}
				}
			}
		}
	}
	if n := testutil.ToFloat64(e.m.SendErrors.WithLabelValues(testSink)); n != 7 {
		t.Errorf("send errors = %v, want 7 (one per injected failure)", n)
	}
	if n := testutil.ToFloat64(e.m.RetriedRecords.WithLabelValues(testSink, "traces")); n == 0 {
		t.Error("nothing was retried: the outage did not happen")
	}
	if n := e.deadLettered() + testutil.ToFloat64(e.m.FailedRecords.WithLabelValues(testSink, "traces")); n != 0 {
		t.Errorf("%v spans dead-lettered or failed", n)
	}
	if e.fake.Calls() < 8 {
		t.Errorf("%d calls; the failures were not all served", e.fake.Calls())
	}
}

// A batch Cloud Trace refuses as invalid is dead-lettered, whole and readable, and what comes
// after it is delivered.
func TestInvalidArgumentDeadLettered(t *testing.T) {
	e := startEngine(t)
	payloads := capturedTraces(t)
	first, second := payloads[0], payloads[1]
	e.fake.FailNext(1, codes.InvalidArgument, 0)
	e.put(t, first.Request)
	waitFor(t, "the refused batch to be dead-lettered", func() bool { return e.deadLettered() == float64(first.Request.Records()) })
	e.put(t, second.Request)
	waitFor(t, "the next request to be sent", func() bool { return e.sent() == float64(second.Request.Records()) })
	e.shutdown(t)

	files, err := filepath.Glob(filepath.Join(e.dead, "traces-*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("dead letters: %v, %v; want one", files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var dl struct {
		Records int    `json:"records"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(data, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Records != first.Request.Records() || !strings.Contains(dl.Error, "InvalidArgument") {
		t.Errorf("dead letter: %d records, error %q", dl.Records, dl.Error)
	}
	spans := e.fake.Spans()
	if len(spans) != second.Request.Records() {
		t.Errorf("the fake has %d spans, want the %d of the second request only", len(spans), second.Request.Records())
	}
	want := byName(nil)
	for _, rs := range second.Request.Traces.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				want[nameOf(sp)] = nil
			}
		}
	}
	for _, sp := range spans {
		if _, ok := want[sp.GetName()]; !ok {
			t.Errorf("span %s is not from the second request", sp.GetName())
		}
	}
}
