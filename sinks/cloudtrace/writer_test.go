package cloudtrace

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	otlptracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	faketrace "claude-otel-gw/internal/fakegcp/trace"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// New checks what it can offline and nothing more: it neither dials nor looks for
// Application Default Credentials (there are none here), so --check works anywhere.
func TestNew(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(notJSON, []byte("-----BEGIN PRIVATE KEY-----"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		google  gcp.Options
		wantErr string
	}{
		{"defaults: the real service and ADC", gcp.Options{}, ""},
		{"project", gcp.Options{Project: "acme-prod"}, ""},
		{"emulator on loopback", gcp.Options{Project: "p", Endpoint: "127.0.0.1:9999", Insecure: true}, ""},
		{"insecure to a remote host", gcp.Options{Project: "p", Endpoint: "trace.example.com:443", Insecure: true}, "only for a loopback endpoint"},
		{"missing credentials file", gcp.Options{CredentialsFile: filepath.Join(dir, "none.json")}, "credentials file"},
		{"credentials file that is not JSON", gcp.Options{CredentialsFile: notJSON}, "not JSON"},
		{"project that would break span names", gcp.Options{Project: "p/traces/x"}, "not a Google Cloud project id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(Options{Name: testSink, Google: tt.google})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if err := w.Close(); err != nil {
					t.Errorf("Close before Start: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), testSink) {
				t.Fatalf("New = %v, want an error naming the sink and saying %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "BEGIN PRIVATE KEY") {
				t.Errorf("the error quotes the credentials file: %v", err)
			}
		})
	}
}

// Start, Write and Close in every order a gateway might call them.
func TestLifecycle(t *testing.T) {
	fake := faketrace.Start(t)
	w, err := New(Options{Name: testSink, Google: gcp.Options{Endpoint: fake.Addr(), Insecure: true, Project: testProject}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := request(nil, baseSpan())
	if err := w.Write(ctx, r); err == nil || sinks.IsPermanent(err) || !strings.Contains(err.Error(), "not started") {
		t.Errorf("Write before Start = %v, want a retryable error saying so", err)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); err == nil {
		t.Error("a second Start succeeded")
	}
	if err := w.Write(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("a second Close = %v", err)
	}
	if err := w.Write(ctx, r); err == nil || !errors.Is(err, errClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := w.Start(ctx); err == nil {
		t.Error("Start after Close succeeded")
	}
	if n := len(fake.Spans()); n != 1 {
		t.Errorf("the fake has %d spans, want 1", n)
	}
}

// Logs and metrics, which routing should never send here, are taken and ignored, so a sink
// cannot wedge on them.
func TestOtherSignals(t *testing.T) {
	h := newHarness(t)
	for _, r := range []telemetry.Request{
		{Logs: &collogspb.ExportLogsServiceRequest{}},
		{Metrics: &colmetricspb.ExportMetricsServiceRequest{}},
		{},
		request(nil), // traces, but no span
	} {
		if err := h.write(t, r); err != nil {
			t.Errorf("Write(%v) = %v", r.Signal(), err)
		}
	}
	if n := h.fake.Calls(); n != 0 {
		t.Errorf("%d calls to Cloud Trace, want none", n)
	}
}

// Each Write is one attempt: the client library's own retries are off, and the error tells
// the engine whether to retry, and when.
func TestOneAttempt(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		code       codes.Code
		retryAfter time.Duration
		permanent  bool
	}{
		{codes.Unavailable, 0, false},
		{codes.DeadlineExceeded, 0, false},
		{codes.ResourceExhausted, 3 * time.Second, false},
		{codes.Internal, 0, false},
		{codes.PermissionDenied, 0, false},
		{codes.InvalidArgument, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			calls := h.fake.Calls()
			h.fake.FailNext(1, tt.code, tt.retryAfter)
			err := h.write(t, request(nil, baseSpan()))
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if n := h.fake.Calls() - calls; n != 1 {
				t.Errorf("%d calls for one Write, want 1: the library retried", n)
			}
			if sinks.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", sinks.IsPermanent(err), tt.permanent, err)
			}
			if d, ok := sinks.RetryDelay(err); ok != (tt.retryAfter > 0) || d != tt.retryAfter {
				t.Errorf("retry delay = %v, %v; want %v", d, ok, tt.retryAfter)
			}
			if !strings.Contains(err.Error(), "write 1 spans to project p") {
				t.Errorf("error %q does not say what was attempted", err)
			}
			if strings.Contains(err.Error(), "claude_code.tool") {
				t.Errorf("error %q quotes the data", err)
			}
		})
	}
	// And the next Write goes through.
	if err := h.write(t, request(nil, baseSpan())); err != nil {
		t.Fatal(err)
	}
}

// A Write's deadline is the engine's, and is not extended by the library.
func TestDeadlineFromContext(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.w.Write(ctx, request(nil, baseSpan()))
	if err == nil || sinks.IsPermanent(err) {
		t.Fatalf("Write with a cancelled context = %v, want a retryable error", err)
	}
	if n := len(h.fake.Spans()); n != 0 {
		t.Errorf("%d spans written with a cancelled context", n)
	}
}

// A request larger than one call takes is sent in parts, each within the cap, and all of it
// arrives. The cap is lowered to 64 KiB, in the writer and the fake alike, to keep the test
// small.
func TestSplit(t *testing.T) {
	h := newHarness(t)
	const limit = 64 << 10
	h.w.maxRequest = limit
	h.fake.SetMaxRequestBytes(limit)
	value := strings.Repeat("v", 256)
	var spans []*otlptracepb.Span
	for i := range 30 {
		sp := baseSpan()
		sp.SpanId = []byte{0, 0, 0, 0, 0, 0, byte(i), 1}
		for j := range 32 {
			sp.Attributes = append(sp.Attributes, kv(fmt.Sprintf("attribute.%02d", j), str(value)))
		}
		spans = append(spans, sp)
	}
	r := request(nil, spans...)
	if size := proto.Size(r.Traces); size <= 3*limit {
		t.Fatalf("the request is only %d bytes; the test needs more than three calls' worth", size)
	}
	if err := h.write(t, r); err != nil {
		t.Fatal(err)
	}
	if refused := h.fake.Refusals(); len(refused) > 0 {
		t.Fatalf("refused: %v", refused)
	}
	if n := len(h.fake.Requests()); n < 4 {
		t.Errorf("sent in %d calls, want at least 4", n)
	}
	got := h.fake.Spans()
	if len(got) != len(spans) {
		t.Fatalf("%d spans arrived, want %d", len(got), len(spans))
	}
	for i, sp := range spans {
		if got[i].GetName() != nameOf(sp) {
			t.Errorf("span %d is %s, want %s: the parts are out of order", i, got[i].GetName(), nameOf(sp))
		}
	}
	// A part that fails says which it was; a retry sends the whole request again.
	h.fake.FailNext(1, codes.Unavailable, 0)
	calls := h.fake.Calls()
	err := h.write(t, r)
	if err == nil || !strings.Contains(err.Error(), "part 1 of ") {
		t.Errorf("Write = %v, want the failed part named", err)
	}
	if n := h.fake.Calls() - calls; n != 1 {
		t.Errorf("%d calls after the first part failed, want 1", n)
	}
}

// The writer asks the engine for batches one call can take.
func TestLimits(t *testing.T) {
	w, err := New(Options{Name: testSink})
	if err != nil {
		t.Fatal(err)
	}
	if l := w.Limits(); l.MaxBytes != maxRequestBytes || l.MaxBytes > faketrace.MaxRequestBytes || l.Serial {
		t.Errorf("Limits = %+v", l)
	}
}

// With no project set, Start takes the one the credentials name.
func TestProjectFromCredentials(t *testing.T) {
	fake := faketrace.Start(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "from-credentials",
		"private_key_id": "k1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "gateway@from-credentials.iam.gserviceaccount.com",
		"token_uri":      "https://oauth2.googleapis.com/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	w := startWriter(t, Options{Name: testSink, Google: gcp.Options{Endpoint: fake.Addr(), Insecure: true, CredentialsFile: path}})
	if err := w.Write(context.Background(), request(nil, baseSpan())); err != nil {
		t.Fatal(err)
	}
	spans := fake.Spans()
	if len(spans) != 1 || !strings.HasPrefix(spans[0].GetName(), "projects/from-credentials/traces/") {
		t.Fatalf("spans = %v, want one in project from-credentials", spans)
	}
	if reqs := fake.Requests(); reqs[0].GetName() != "projects/from-credentials" {
		t.Errorf("request name = %q", reqs[0].GetName())
	}
}

func TestAgentLabel(t *testing.T) {
	for ua, want := range map[string]string{
		"":                           "claude-otel-gw",
		"claude-otel-gw/1.2.3":       "claude-otel-gw 1.2.3",
		"claude-otel-gw":             "claude-otel-gw",
		"claude-otel-gw/1.2 (linux)": "claude-otel-gw/1.2 (linux)",
	} {
		if got := agentLabel(ua); got != want {
			t.Errorf("agentLabel(%q) = %q, want %q", ua, got, want)
		}
	}
}
