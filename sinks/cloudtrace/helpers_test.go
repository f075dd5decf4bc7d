package cloudtrace

import (
	"context"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/trace/apiv2/tracepb"
	"github.com/prometheus/client_golang/prometheus/testutil"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	otlptracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"claude-otel-gw/admin"
	"claude-otel-gw/internal/capture"
	faketrace "claude-otel-gw/internal/fakegcp/trace"
	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

const (
	testProject = "p"
	testSink    = "gcp_traces"
)

// harness is a started Writer pointed at a fake Cloud Trace, with what it logs and counts.
type harness struct {
	fake *faketrace.Server
	w    *Writer
	log  *testlog.Buffer
	m    *admin.Metrics
}

// newHarness starts a fake and a Writer writing to it in project "p".
func newHarness(t testing.TB) *harness {
	t.Helper()
	fake := faketrace.Start(t)
	h := &harness{fake: fake, log: &testlog.Buffer{}, m: admin.NewTestMetrics()}
	h.w = startWriter(t, Options{
		Name:    testSink,
		Google:  gcp.Options{Endpoint: fake.Addr(), Insecure: true, Project: testProject, UserAgent: "claude-otel-gw/1.2.3"},
		Metrics: h.m,
		Logger:  h.log.Logger(),
	})
	return h
}

// startWriter builds and starts a Writer, closed when the test ends.
func startWriter(t testing.TB, o Options) *Writer {
	t.Helper()
	w, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w
}

// write makes one Write with a generous deadline, as the sinks engine would.
func (h *harness) write(t testing.TB, r telemetry.Request) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.w.Write(ctx, r)
}

func (h *harness) rejected() float64 {
	return testutil.ToFloat64(h.m.RejectedRecords.WithLabelValues(testSink, "traces"))
}

// onlySpan writes r, which must hold one valid span, and returns what the fake received.
func (h *harness) onlySpan(t testing.TB, r telemetry.Request) *tracepb.Span {
	t.Helper()
	before := len(h.fake.Spans())
	if err := h.write(t, r); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if refused := h.fake.Refusals(); len(refused) > 0 {
		t.Fatalf("Cloud Trace refused the span: %v", refused)
	}
	spans := h.fake.Spans()
	if len(spans) != before+1 {
		t.Fatalf("the fake received %d spans, want 1", len(spans)-before)
	}
	return spans[before]
}

// capturedTraces loads every traces request Claude Code sent in testdata/claude-code.
func capturedTraces(t testing.TB) []capture.Payload {
	t.Helper()
	all, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	var out []capture.Payload
	for _, p := range all {
		if p.Signal == telemetry.Traces {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no captured traces requests")
	}
	return out
}

// nameOf is the Cloud Trace name an OTLP span must get in project p, spelled out here
// independently of the writer.
func nameOf(sp *otlptracepb.Span) string {
	return fmt.Sprintf("projects/%s/traces/%x/spans/%x", testProject, sp.GetTraceId(), sp.GetSpanId())
}

// byName indexes spans by name; a name written twice is there twice.
func byName(spans []*tracepb.Span) map[string][]*tracepb.Span {
	out := map[string][]*tracepb.Span{}
	for _, sp := range spans {
		out[sp.GetName()] = append(out[sp.GetName()], sp)
	}
	return out
}

// Builders for synthetic requests.

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func integer(i int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: i}}
}

func boolean(b bool) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: b}}
}

func double(f float64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
}

func kv(k string, v *commonpb.AnyValue) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: v}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// A valid trace and span id for synthetic spans.
var (
	traceID = mustHex("0af7651916cd43dd8448eb211c80319c")
	spanID  = mustHex("b7ad6b7169203331")
)

// baseSpan is a valid span of one millisecond, starting at a fixed instant.
func baseSpan() *otlptracepb.Span {
	return &otlptracepb.Span{
		TraceId:           traceID,
		SpanId:            spanID,
		Name:              "claude_code.tool",
		Kind:              otlptracepb.Span_SPAN_KIND_INTERNAL,
		StartTimeUnixNano: 1795639688604000000,
		EndTimeUnixNano:   1795639688605000000,
	}
}

// claudeResource is the resource Claude Code sends, with OTEL_RESOURCE_ATTRIBUTES set.
func claudeResource() []*commonpb.KeyValue {
	return []*commonpb.KeyValue{
		kv("team", str("platform")), kv("cost_center", str("eng-42")), kv("host.arch", str("amd64")),
		kv("os.type", str("linux")), kv("os.version", str("6.18.44")),
		kv("service.name", str("claude-code")), kv("service.version", str("2.1.328")),
	}
}

// request wraps spans in one export request under resource.
func request(resource []*commonpb.KeyValue, spans ...*otlptracepb.Span) telemetry.Request {
	return telemetry.Request{Traces: &coltracepb.ExportTraceServiceRequest{
		ResourceSpans: []*otlptracepb.ResourceSpans{{
			Resource: &resourcepb.Resource{Attributes: resource},
			ScopeSpans: []*otlptracepb.ScopeSpans{{
				Scope: &commonpb.InstrumentationScope{Name: "com.anthropic.claude_code.tracing"},
				Spans: spans,
			}},
		}},
	}}
}

// stringAttr returns a string attribute of a Cloud Trace span, failing if it is missing or
// not a string.
func stringAttr(t testing.TB, a *tracepb.Span_Attributes, key string) *tracepb.TruncatableString {
	t.Helper()
	v, ok := a.GetAttributeMap()[key]
	if !ok {
		t.Fatalf("attribute %q missing; have %v", key, keys(a))
		return nil
	}
	s, ok := v.GetValue().(*tracepb.AttributeValue_StringValue)
	if !ok {
		t.Fatalf("attribute %q = %v, not a string", key, v)
		return nil
	}
	return s.StringValue
}

func keys(a *tracepb.Span_Attributes) []string {
	var out []string
	for k := range a.GetAttributeMap() {
		out = append(out, k)
	}
	return out
}
