package otlp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"claude-otel-gw/admin"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/telemetry"
)

// The credentials every test writer sends. Neither may ever show in an error or a log line.
const (
	apiKey      = "dx-key-7f3a9c0e51b24d68"
	bearerToken = "tok-e2b8f4a1c9d7e6b5"
)

func testHeaders() map[string]string {
	return map[string]string{"x-api-key": apiKey, "Authorization": "Bearer " + bearerToken}
}

// harness is a Writer under test with what it logs and counts.
type harness struct {
	w   *Writer
	log *testlog.Buffer
	m   *admin.Metrics
}

// newHarness builds a Writer with o, filling in a name, the test headers, a log buffer and
// metrics of its own.
func newHarness(t testing.TB, o Options) *harness {
	t.Helper()
	h := &harness{log: &testlog.Buffer{}, m: admin.NewTestMetrics()}
	if o.Name == "" {
		o.Name = "dx"
	}
	if o.Headers == nil {
		o.Headers = testHeaders()
	}
	if o.UserAgent == "" {
		o.UserAgent = "claude-otel-gw/test"
	}
	o.Metrics = h.m
	o.Logger = h.log.Logger()
	w, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	h.w = w
	return h
}

func (h *harness) rejected(sig telemetry.Signal) float64 {
	return testutil.ToFloat64(h.m.RejectedRecords.WithLabelValues(h.w.name, sig.String()))
}

// write makes one Write with a generous deadline, as the sinks engine would.
func (h *harness) write(t testing.TB, r telemetry.Request) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.w.Write(ctx, r)
}

// assertNoSecrets fails if a header value shows in s.
func assertNoSecrets(t testing.TB, what, s string) {
	t.Helper()
	for _, secret := range []string{apiKey, bearerToken} {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows a header value:\n%s", what, s)
		}
	}
}

// captured loads every request captured from Claude Code.
func captured(t testing.TB) []capture.Payload {
	t.Helper()
	all, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// capturedLogs is the first logs request captured from Claude Code.
func capturedLogs(t testing.TB) telemetry.Request {
	t.Helper()
	for _, p := range captured(t) {
		if p.Signal == telemetry.Logs {
			return p.Request
		}
	}
	t.Fatal("no captured logs request")
	return telemetry.Request{}
}
