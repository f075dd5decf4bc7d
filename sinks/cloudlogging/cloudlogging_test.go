package cloudlogging

import (
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	ltype "google.golang.org/genproto/googleapis/logging/type"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// Every captured Claude Code logs request, replayed twice: each record becomes exactly one
// entry per replay, in the right log, at the record's time and severity, against the
// configured resource, with the body and attributes (nested values kept) in the jsonPayload,
// the configured labels, and the trace and span the record belongs to. The replay carries the
// same insertIds, so Cloud Logging keeps one entry of each.
func TestCapturedLogs(t *testing.T) {
	labelKeys := []string{"event.name", "session.id", "event.sequence", "service.version", "no.such.attribute"}
	for _, p := range capturedLogs(t) {
		t.Run(p.Name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.Labels = labelKeys })
			before := proto.CloneOf(p.Request.Logs)
			for range 2 {
				if err := h.write(t, p.Request); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			if !proto.Equal(before, p.Request.Logs) {
				t.Error("Write changed the request")
			}
			recs := records(p.Request)
			got := h.fake.Entries()
			if len(got) != 2*len(recs) {
				t.Fatalf("%d entries for %d records written twice", len(got), len(recs))
			}
			ids := map[string]bool{}
			withTrace := 0
			for i, rec := range recs {
				e, again := got[i], got[len(recs)+i]
				checkEntry(t, i, rec, e)
				if ids[e.InsertId] {
					t.Errorf("record %d: insertId %q repeats", i, e.InsertId)
				}
				ids[e.InsertId] = true
				if again.InsertId != e.InsertId || !again.Timestamp.AsTime().Equal(e.Timestamp.AsTime()) {
					t.Errorf("record %d: replayed as insertId %q at %v, first %q at %v", i, again.InsertId, again.Timestamp.AsTime(), e.InsertId, e.Timestamp.AsTime())
				}
				if e.Trace != "" {
					withTrace++
				}
			}
			if withTrace == 0 {
				t.Error("no captured record came out linked to its trace")
			}
			for _, req := range h.fake.Requests() {
				if !req.PartialSuccess {
					t.Error("a request without partial_success")
				}
			}
			if n := h.rejected(); n != 0 {
				t.Errorf("%v records counted as rejected", n)
			}
		})
	}
}

// checkEntry holds one entry against the record it was made from.
func checkEntry(t *testing.T, i int, rec record, e *loggingpb.LogEntry) {
	t.Helper()
	lr := rec.lr
	if e.LogName != "projects/p/logs/claude_code" {
		t.Errorf("record %d: logName %q", i, e.LogName)
	}
	wantRes := map[string]string{"project_id": "p", "location": "us-central1-a", "namespace": "claude-code", "node_id": "dev-laptop-7"}
	if e.Resource.GetType() != "generic_node" || !reflect.DeepEqual(e.Resource.GetLabels(), wantRes) {
		t.Errorf("record %d: resource %v", i, e.Resource)
	}
	if want := time.Unix(0, int64(lr.TimeUnixNano)); !e.Timestamp.AsTime().Equal(want) {
		t.Errorf("record %d: timestamp %v, want %v", i, e.Timestamp.AsTime(), want)
	}
	if want := wantSeverity[int(lr.SeverityNumber)]; e.Severity != want {
		t.Errorf("record %d: severity %v for OTel %d, want %v", i, e.Severity, lr.SeverityNumber, want)
	}
	p := e.GetJsonPayload().AsMap()
	body := lr.Body.GetStringValue()
	if p["body"] != body || p["message"] != body || body == "" {
		t.Errorf("record %d: body %q, message %q, want %q", i, p["body"], p["message"], body)
	}
	if want := wantObject(lr.Attributes); !reflect.DeepEqual(p["attributes"], want) {
		t.Errorf("record %d: attributes\n got %v\nwant %v", i, p["attributes"], want)
	}
	attrs, _ := p["attributes"].(map[string]any)
	name, _ := attrs["event.name"].(string)
	if name == "" || "claude_code."+name != body {
		t.Errorf("record %d: event.name %q in the payload, body %q", i, name, body)
	}
	if want := wantObject(rec.resource.GetAttributes()); !reflect.DeepEqual(p["resource"], want) {
		t.Errorf("record %d: resource attributes\n got %v\nwant %v", i, p["resource"], want)
	}
	if want := map[string]any{"name": rec.scope.GetName(), "version": rec.scope.GetVersion()}; !reflect.DeepEqual(p["scope"], want) {
		t.Errorf("record %d: scope %v, want %v", i, p["scope"], want)
	}
	if _, ok := p["truncated"]; ok {
		t.Errorf("record %d: marked truncated", i)
	}
	wantLabels := map[string]string{"event.name": name}
	for _, kv := range lr.Attributes {
		switch kv.Key {
		case "session.id":
			wantLabels["session.id"] = kv.Value.GetStringValue()
		case "event.sequence":
			wantLabels["event.sequence"] = strconv.FormatInt(kv.Value.GetIntValue(), 10)
		}
	}
	for _, kv := range rec.resource.GetAttributes() {
		if kv.Key == "service.version" {
			wantLabels["service.version"] = kv.Value.GetStringValue()
		}
	}
	if len(wantLabels) != 4 {
		t.Fatalf("record %d: the capture lacks an attribute the test labels by: %v", i, wantLabels)
	}
	if !reflect.DeepEqual(e.Labels, wantLabels) {
		t.Errorf("record %d: labels %v, want %v", i, e.Labels, wantLabels)
	}
	if len(lr.TraceId) == 16 {
		if want := "projects/p/traces/" + hexID(lr.TraceId); e.Trace != want {
			t.Errorf("record %d: trace %q, want %q", i, e.Trace, want)
		}
		if e.SpanId != hexID(lr.SpanId) || e.TraceSampled != (lr.Flags&1 == 1) {
			t.Errorf("record %d: span %q sampled %v, want %q %v", i, e.SpanId, e.TraceSampled, hexID(lr.SpanId), lr.Flags&1 == 1)
		}
	} else if e.Trace != "" || e.SpanId != "" || e.TraceSampled {
		t.Errorf("record %d has no trace, entry says trace %q span %q sampled %v", i, e.Trace, e.SpanId, e.TraceSampled)
	}
}

// wantSeverity is Cloud Logging's level for each OTel severity number.
var wantSeverity = map[int]ltype.LogSeverity{
	0: ltype.LogSeverity_DEFAULT,
	1: ltype.LogSeverity_DEBUG, 2: ltype.LogSeverity_DEBUG, 3: ltype.LogSeverity_DEBUG, 4: ltype.LogSeverity_DEBUG,
	5: ltype.LogSeverity_DEBUG, 6: ltype.LogSeverity_DEBUG, 7: ltype.LogSeverity_DEBUG, 8: ltype.LogSeverity_DEBUG,
	9: ltype.LogSeverity_INFO, 10: ltype.LogSeverity_INFO, 11: ltype.LogSeverity_INFO, 12: ltype.LogSeverity_INFO,
	13: ltype.LogSeverity_WARNING, 14: ltype.LogSeverity_WARNING, 15: ltype.LogSeverity_WARNING, 16: ltype.LogSeverity_WARNING,
	17: ltype.LogSeverity_ERROR, 18: ltype.LogSeverity_ERROR, 19: ltype.LogSeverity_ERROR, 20: ltype.LogSeverity_ERROR,
	21: ltype.LogSeverity_CRITICAL, 22: ltype.LogSeverity_CRITICAL, 23: ltype.LogSeverity_ALERT, 24: ltype.LogSeverity_EMERGENCY,
	25: ltype.LogSeverity_DEFAULT, -1: ltype.LogSeverity_DEFAULT,
}

// Each OTel severity number, and the level names in severity_text when there is no number,
// arrive as the Cloud Logging level a reader expects.
func TestSeverity(t *testing.T) {
	type tc struct {
		num  int
		text string
		want ltype.LogSeverity
	}
	var tests []tc
	for n, want := range wantSeverity {
		tests = append(tests, tc{num: n, want: want})
	}
	tests = append(tests,
		tc{text: "warn", want: ltype.LogSeverity_WARNING},
		tc{text: "Error", want: ltype.LogSeverity_ERROR},
		tc{text: "NOTICE", want: ltype.LogSeverity_NOTICE},
		tc{text: "fatal", want: ltype.LogSeverity_CRITICAL},
		tc{text: "verbose", want: ltype.LogSeverity_DEFAULT},
		tc{num: 17, text: "info", want: ltype.LogSeverity_ERROR}, // the number wins
	)
	var lrs []*logspb.LogRecord
	for i, tt := range tests {
		lr := event("severity", i)
		lr.SeverityNumber = logspb.SeverityNumber(tt.num)
		lr.SeverityText = tt.text
		lrs = append(lrs, lr)
	}
	h := newHarness(t, nil)
	if err := h.write(t, logsRequest(lrs...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Entries()
	if len(got) != len(tests) {
		t.Fatalf("%d entries for %d records", len(got), len(tests))
	}
	for i, tt := range tests {
		if got[i].Severity != tt.want {
			t.Errorf("severity number %d, text %q: %v, want %v", tt.num, tt.text, got[i].Severity, tt.want)
		}
	}
}

// Values of every kind arrive in the jsonPayload as a reader of JSON expects them: maps and
// arrays nested, integers as numbers unless a double would round them, bytes as base64, NaN
// and the infinities as strings, a body that is not a string under "body" only.
func TestPayloadValues(t *testing.T) {
	kv := func(k string, v *commonpb.AnyValue) *commonpb.KeyValue { return &commonpb.KeyValue{Key: k, Value: v} }
	s := func(v string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}
	}
	i := func(v int64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}
	}
	d := func(v float64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v}}
	}
	b := func(v bool) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v}}
	}
	arr := func(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
	}
	kvl := func(kvs ...*commonpb.KeyValue) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}}
	}
	lr := &logspb.LogRecord{
		TimeUnixNano: 1795639688450000000,
		Body:         kvl(kv("tool", s("Bash")), kv("input", kvl(kv("command", s("echo hi")), kv("timeout", i(30))))),
		EventName:    "tool_result",
		Attributes: []*commonpb.KeyValue{
			kv("small", i(42)),
			kv("limit", i(1<<53)),
			kv("big", i(1<<53+1)),
			kv("negative_big", i(-(1 << 62))),
			kv("cost_usd", d(0.0125)),
			kv("nan", d(math.NaN())),
			kv("inf", d(math.Inf(1))),
			kv("minus_inf", d(math.Inf(-1))),
			kv("success", b(true)),
			kv("bytes", &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{1, 2, 0xff}}}),
			kv("sources", arr()),
			kv("mixed", arr(s("a"), i(1), b(false), &commonpb.AnyValue{}, arr(s("nested")))),
			kv("empty", &commonpb.AnyValue{}),
			kv("dup", s("first")),
			kv("dup", s("last")),
		},
	}
	want := map[string]any{
		"body":       map[string]any{"tool": "Bash", "input": map[string]any{"command": "echo hi", "timeout": 30.0}},
		"event_name": "tool_result",
		"attributes": map[string]any{
			"small":        42.0,
			"limit":        9007199254740992.0,
			"big":          "9007199254740993",
			"negative_big": "-4611686018427387904",
			"cost_usd":     0.0125,
			"nan":          "NaN",
			"inf":          "+Inf",
			"minus_inf":    "-Inf",
			"success":      true,
			"bytes":        "AQL/",
			"sources":      []any{},
			"mixed":        []any{"a", 1.0, false, nil, []any{"nested"}},
			"empty":        nil,
			"dup":          "last",
		},
	}
	h := newHarness(t, func(o *Options) { o.Labels = []string{"big", "mixed", "cost_usd", "bytes", "success"} })
	req := logsRequest(lr)
	req.Logs.ResourceLogs[0].Resource = nil
	req.Logs.ResourceLogs[0].ScopeLogs[0].Scope = nil
	if err := h.write(t, req); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Entries()
	if len(got) != 1 {
		t.Fatalf("%d entries, want 1", len(got))
	}
	if p := got[0].GetJsonPayload().AsMap(); !reflect.DeepEqual(p, want) {
		t.Errorf("payload\n got %v\nwant %v", p, want)
	}
	wantLabels := map[string]string{
		"big": "9007199254740993", "mixed": `["a",1,false,null,["nested"]]`, "cost_usd": "0.0125", "bytes": "AQL/", "success": "true",
	}
	if !reflect.DeepEqual(got[0].Labels, wantLabels) {
		t.Errorf("labels %v, want %v", got[0].Labels, wantLabels)
	}
}

// Trace and span ids link an entry to its trace only when they are set and not zero;
// traceSampled follows bit 0 of the record's flags.
func TestTraceContext(t *testing.T) {
	traceID := []byte{0xbf, 0x57, 0xaa, 0xc6, 0x22, 0x53, 0x73, 0x66, 0xc8, 0x60, 0xe1, 0xd7, 0x11, 0x6c, 0xc8, 0x35}
	spanID := []byte{0x74, 0xc6, 0x83, 0x36, 0x1a, 0xdb, 0x6c, 0xfa}
	tests := []struct {
		name         string
		trace, span  []byte
		flags        uint32
		wantTrace    string
		wantSpan     string
		wantSampled  bool
		wantNoFields bool
	}{
		{name: "sampled", trace: traceID, span: spanID, flags: 0x01, wantTrace: "projects/p/traces/bf57aac622537366c860e1d7116cc835", wantSpan: "74c683361adb6cfa", wantSampled: true},
		{name: "not sampled", trace: traceID, span: spanID, flags: 0x02, wantTrace: "projects/p/traces/bf57aac622537366c860e1d7116cc835", wantSpan: "74c683361adb6cfa"},
		{name: "trace without span", trace: traceID, flags: 1, wantTrace: "projects/p/traces/bf57aac622537366c860e1d7116cc835", wantSampled: true},
		{name: "none", flags: 1},
		{name: "zero ids", trace: make([]byte, 16), span: make([]byte, 8), flags: 1},
	}
	var lrs []*logspb.LogRecord
	for i, tt := range tests {
		lr := event("trace", i)
		lr.TraceId, lr.SpanId, lr.Flags = tt.trace, tt.span, tt.flags
		lrs = append(lrs, lr)
	}
	h := newHarness(t, nil)
	if err := h.write(t, logsRequest(lrs...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Entries()
	for i, tt := range tests {
		e := got[i]
		if e.Trace != tt.wantTrace || e.SpanId != tt.wantSpan || e.TraceSampled != tt.wantSampled {
			t.Errorf("%s: trace %q span %q sampled %v, want %q %q %v", tt.name, e.Trace, e.SpanId, e.TraceSampled, tt.wantTrace, tt.wantSpan, tt.wantSampled)
		}
	}
}

// A record with no time of its own takes its observed time, and one with neither is stamped
// when it is written.
func TestTimestamp(t *testing.T) {
	observed := event("observed", 1)
	observed.TimeUnixNano = 0
	none := event("none", 2)
	none.TimeUnixNano, none.ObservedTimeUnixNano = 0, 0
	h := newHarness(t, nil)
	before := time.Now()
	if err := h.write(t, logsRequest(observed, none)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Entries()
	if want := time.Unix(0, int64(observed.ObservedTimeUnixNano)); !got[0].Timestamp.AsTime().Equal(want) {
		t.Errorf("observed only: %v, want %v", got[0].Timestamp.AsTime(), want)
	}
	if ts := got[1].Timestamp.AsTime(); ts.Before(before) || ts.After(time.Now()) {
		t.Errorf("no time: %v, want the time of writing", ts)
	}
}

// A log name with a '/' reaches the API URL-encoded, as Cloud Logging wants it.
func TestLogNameEscaped(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.LogName = "claude-code/events.v1" })
	if err := h.write(t, logsRequest(event("user_prompt", 1))); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Entries()[0].LogName; got != "projects/p/logs/claude-code%2Fevents.v1" {
		t.Errorf("logName %q", got)
	}
}

// The global resource, and a generic_node whose node id is left to the host name.
func TestResource(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	tests := []struct {
		res  gcp.Resource
		want map[string]string
	}{
		{gcp.Resource{Type: "global"}, map[string]string{"project_id": "p"}},
		{gcp.Resource{Type: "generic_node", Location: "global", Namespace: "fleet"}, map[string]string{"project_id": "p", "location": "global", "namespace": "fleet", "node_id": host}},
	}
	for _, tt := range tests {
		t.Run(tt.res.Type, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.Resource = tt.res })
			if err := h.write(t, logsRequest(event("user_prompt", 1))); err != nil {
				t.Fatal(err)
			}
			got := h.fake.Entries()[0].Resource
			if got.GetType() != tt.res.Type || !reflect.DeepEqual(got.GetLabels(), tt.want) {
				t.Errorf("resource %v, want %s %v", got, tt.res.Type, tt.want)
			}
		})
	}
}

// insertIds depend on the records, not on how they were batched: the same records written in
// one merged request or in two get the same ids, and so do an export and its copy merged into
// one batch. Records identical in every byte within one export still get ids of their own.
func TestInsertIDs(t *testing.T) {
	logs := capturedLogs(t)
	a, b := logs[0].Request, logs[1].Request
	h := newHarness(t, nil)
	for _, r := range []telemetry.Request{a, b, telemetry.Merge([]telemetry.Request{a, b, a})} {
		if err := h.write(t, r); err != nil {
			t.Fatal(err)
		}
	}
	got := h.fake.Entries()
	na, n := len(records(a)), len(records(a))+len(records(b))
	if len(got) != 2*n+na {
		t.Fatalf("%d entries, want %d", len(got), 2*n+na)
	}
	for i := range n {
		if got[i].InsertId != got[n+i].InsertId {
			t.Errorf("record %d: insertId %q alone, %q merged", i, got[i].InsertId, got[n+i].InsertId)
		}
	}
	for i := range na {
		if got[i].InsertId != got[2*n+i].InsertId {
			t.Errorf("record %d: insertId %q, %q for its copy merged into the same batch", i, got[i].InsertId, got[2*n+i].InsertId)
		}
	}

	h = newHarness(t, nil)
	same := event("user_prompt", 1)
	if err := h.write(t, logsRequest(same, proto.CloneOf(same), proto.CloneOf(same))); err != nil {
		t.Fatal(err)
	}
	got = h.fake.Entries()
	if got[0].InsertId == got[1].InsertId || got[1].InsertId == got[2].InsertId || got[0].InsertId == got[2].InsertId {
		t.Errorf("identical records share insertIds: %q %q %q", got[0].InsertId, got[1].InsertId, got[2].InsertId)
	}
	if !strings.HasPrefix(got[1].InsertId, got[0].InsertId) {
		t.Errorf("the repeat of a record has id %q, the record %q", got[1].InsertId, got[0].InsertId)
	}
}

// Metrics and traces are not for this sink: they are taken and ignored, never sent; nor is a
// logs request without records.
func TestNothingToWrite(t *testing.T) {
	all, err := capturedOthers()
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil)
	for _, r := range append(all, telemetry.Request{}, telemetry.Empty(telemetry.Logs), logsRequest()) {
		if err := h.write(t, r); err != nil {
			t.Errorf("%v request: %v", r.Signal(), err)
		}
	}
	if n := h.fake.Calls(); n != 0 {
		t.Errorf("%d calls to Cloud Logging with nothing to write", n)
	}
}
