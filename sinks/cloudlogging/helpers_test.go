package cloudlogging

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"github.com/prometheus/client_golang/prometheus/testutil"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"claude-otel-gw/admin"
	"claude-otel-gw/internal/capture"
	fakelogging "claude-otel-gw/internal/fakegcp/logging"
	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// testResource is the generic_node every test writer writes against, unless it says otherwise.
var testResource = gcp.Resource{Type: "generic_node", Location: "us-central1-a", Namespace: "claude-code", NodeID: "dev-laptop-7"}

// harness is a started Writer pointed at a fake Cloud Logging, with what it logs and counts.
type harness struct {
	w    *Writer
	fake *fakelogging.Server
	log  *testlog.Buffer
	m    *admin.Metrics
}

// newHarness starts a fake and a Writer writing to project "p" on it. edit, if not nil, changes
// the options before New.
func newHarness(t testing.TB, edit func(*Options)) *harness {
	t.Helper()
	h := newUnstarted(t, edit)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.w.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return h
}

// newUnstarted is newHarness without Start, for the sinks engine to start.
func newUnstarted(t testing.TB, edit func(*Options)) *harness {
	t.Helper()
	h := &harness{fake: fakelogging.Start(t), log: &testlog.Buffer{}, m: admin.NewTestMetrics()}
	o := Options{
		Name:     "gcp_logs",
		Google:   gcp.Options{Project: "p", Endpoint: h.fake.Addr(), Insecure: true, UserAgent: "claude-otel-gw/test"},
		Resource: testResource,
		Metrics:  h.m,
		Logger:   h.log.Logger(),
	}
	if edit != nil {
		edit(&o)
	}
	w, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	h.w = w
	return h
}

// write makes one Write with a generous deadline, as the sinks engine would.
func (h *harness) write(t testing.TB, r telemetry.Request) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return h.w.Write(ctx, r)
}

func (h *harness) rejected() float64 {
	return testutil.ToFloat64(h.m.RejectedRecords.WithLabelValues(h.w.name, "logs"))
}

// capturedLogs loads every logs request captured from Claude Code.
func capturedLogs(t testing.TB) []capture.Payload {
	t.Helper()
	all, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	var out []capture.Payload
	for _, p := range all {
		if p.Signal == telemetry.Logs {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no captured logs requests")
	}
	return out
}

// capturedOthers loads every metrics and traces request captured from Claude Code.
func capturedOthers() ([]telemetry.Request, error) {
	all, err := capture.All()
	if err != nil {
		return nil, err
	}
	var out []telemetry.Request
	for _, p := range all {
		if p.Signal != telemetry.Logs {
			out = append(out, p.Request)
		}
	}
	return out, nil
}

// record is a log record with the resource and scope it came with.
type record struct {
	lr       *logspb.LogRecord
	resource *resourcepb.Resource
	scope    *commonpb.InstrumentationScope
}

// records flattens a logs request, in order.
func records(r telemetry.Request) []record {
	var out []record
	for _, rl := range r.Logs.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				out = append(out, record{lr: lr, resource: rl.GetResource(), scope: sl.GetScope()})
			}
		}
	}
	return out
}

// logsRequest wraps records in a request of one resource and scope.
func logsRequest(lrs ...*logspb.LogRecord) telemetry.Request {
	return telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{str("service.name", "claude-code")}},
		ScopeLogs: []*logspb.ScopeLogs{{
			Scope:      &commonpb.InstrumentationScope{Name: "com.anthropic.claude_code.events", Version: "2.1.328"},
			LogRecords: lrs,
		}},
	}}}}
}

// event is a log record as Claude Code makes one: body claude_code.<name>, event.name, a time.
func event(name string, seq int, attrs ...*commonpb.KeyValue) *logspb.LogRecord {
	ts := uint64(time.Date(2026, 11, 25, 20, 48, 8, 0, time.UTC).UnixNano()) + uint64(seq)*uint64(time.Millisecond)
	return &logspb.LogRecord{
		TimeUnixNano:         ts,
		ObservedTimeUnixNano: ts,
		Body:                 &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "claude_code." + name}},
		Attributes: append([]*commonpb.KeyValue{
			str("event.name", name),
			{Key: "event.sequence", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: int64(seq)}}},
		}, attrs...),
	}
}

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func attr(e *loggingpb.LogEntry, key string) any {
	a, _ := e.GetJsonPayload().AsMap()["attributes"].(map[string]any)
	return a[key]
}

// wantJSON is what an OTLP value must look like in a jsonPayload, as Go values: the test's own
// account of the mapping, to hold the writer's against.
func wantJSON(av *commonpb.AnyValue) any {
	switch v := av.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return v.StringValue
	case *commonpb.AnyValue_BoolValue:
		return v.BoolValue
	case *commonpb.AnyValue_IntValue:
		if v.IntValue > 1<<53 || v.IntValue < -(1<<53) {
			return strconv.FormatInt(v.IntValue, 10)
		}
		return float64(v.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return v.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return base64.StdEncoding.EncodeToString(v.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		out := []any{}
		for _, e := range v.ArrayValue.GetValues() {
			out = append(out, wantJSON(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return wantObject(v.KvlistValue.GetValues())
	}
	return nil
}

func wantObject(kvs []*commonpb.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range kvs {
		out[kv.GetKey()] = wantJSON(kv.GetValue())
	}
	return out
}

func hexID(b []byte) string { return hex.EncodeToString(b) }
