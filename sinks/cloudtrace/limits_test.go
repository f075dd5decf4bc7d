package cloudtrace

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"cloud.google.com/go/trace/apiv2/tracepb"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	otlptracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// A span far beyond Cloud Trace's limits (60 attributes, a 300-byte name, long values, 50
// events, 130 links, an error) is accepted once shaped: the most useful attributes survive,
// and what was cut or left out is counted where Cloud Trace shows it.
func TestOversizedSpan(t *testing.T) {
	h := newHarness(t)
	sp := baseSpan()
	sp.Name = strings.Repeat("日本", 50) // 300 bytes of three-byte characters
	sp.Kind = otlptracepb.Span_SPAN_KIND_CLIENT
	sp.Status = &otlptracepb.Status{Code: otlptracepb.Status_STATUS_CODE_ERROR, Message: "tool failed: exit status 1"}
	sp.DroppedAttributesCount = 3
	sp.DroppedEventsCount = 2
	sp.DroppedLinksCount = 1
	longCommand := "echo " + strings.Repeat("x", 995)
	// The attributes that matter come last, after 50 that do not, so that keeping the first
	// 32 would lose them.
	for i := range 50 {
		sp.Attributes = append(sp.Attributes, kv(fmt.Sprintf("filler.%02d", i), str("v")))
	}
	sp.Attributes = append(sp.Attributes,
		kv(strings.Repeat("k", 129), str("a key too long for Cloud Trace")),
		kv("http.method", str("POST")),
		kv("model", str("claude-opus-5-5")),
		kv("tool_name", str("Bash")),
		kv("duration_ms", integer(1234)),
		kv("success", boolean(false)),
		kv("cost_usd", double(0.0123)),
		kv("full_command", str(longCommand)),
		kv("span.type", str("tool")),
		kv("session.id", str("61d45cca-9952-4cb0-89d3-0b874f5644b2")),
	)
	for i := range 50 {
		e := &otlptracepb.Span_Event{
			TimeUnixNano: sp.StartTimeUnixNano + uint64(i),
			Name:         fmt.Sprintf("event %02d %s", i, strings.Repeat("e", 300)),
		}
		for j := range 6 {
			e.Attributes = append(e.Attributes, kv(fmt.Sprintf("a%d", j), integer(int64(j))))
		}
		sp.Events = append(sp.Events, e)
	}
	for i := range 130 {
		l := &otlptracepb.Span_Link{TraceId: traceID, SpanId: []byte{0, 0, 0, 0, 0, 0, 1, byte(i + 1)}}
		if i == 7 {
			l.SpanId = make([]byte, 8) // names no span: dropped
		}
		for j := range 40 {
			l.Attributes = append(l.Attributes, kv(fmt.Sprintf("l%02d", j), str("w")))
		}
		sp.Links = append(sp.Links, l)
	}
	resource := claudeResource()

	got := h.onlySpan(t, request(resource, sp))

	if dn := got.GetDisplayName(); len(dn.GetValue()) > 128 || !utf8.ValidString(dn.GetValue()) ||
		!strings.HasPrefix(sp.Name, dn.GetValue()) || int(dn.GetTruncatedByteCount()) != len(sp.Name)-len(dn.GetValue()) ||
		len(dn.GetValue()) != 126 {
		t.Errorf("display name = %q (%d bytes), %d bytes cut; want the first 42 characters, 174 bytes cut", dn.GetValue(), len(dn.GetValue()), dn.GetTruncatedByteCount())
	}
	if got.GetSpanKind() != tracepb.Span_CLIENT {
		t.Errorf("kind = %v, want CLIENT", got.GetSpanKind())
	}
	if st := got.GetStatus(); st.GetCode() != 2 || st.GetMessage() != "tool failed: exit status 1" {
		t.Errorf("status = %v, want UNKNOWN (2) with the message", st)
	}

	attrs := got.GetAttributes()
	if n := len(attrs.GetAttributeMap()); n != 32 {
		t.Errorf("%d attributes, want 32", n)
	}
	for key, want := range map[string]string{
		"/http/method": "POST", "model": "claude-opus-5-5", "tool_name": "Bash",
		"cost_usd": "0.0123", "span.type": "tool", "session.id": "61d45cca-9952-4cb0-89d3-0b874f5644b2",
	} {
		if v := stringAttr(t, attrs, key).GetValue(); v != want {
			t.Errorf("%s = %q, want %q", key, v, want)
		}
	}
	if v := attrs.GetAttributeMap()["duration_ms"].GetIntValue(); v != 1234 {
		t.Errorf("duration_ms = %d, want 1234", v)
	}
	if v, ok := attrs.GetAttributeMap()["success"].GetValue().(*tracepb.AttributeValue_BoolValue); !ok || v.BoolValue {
		t.Errorf("success = %v, want false", attrs.GetAttributeMap()["success"])
	}
	if fc := stringAttr(t, attrs, "full_command"); fc.GetValue() != longCommand[:256] || fc.GetTruncatedByteCount() != 744 {
		t.Errorf("full_command = %d bytes with %d cut, want 256 with 744 cut", len(fc.GetValue()), fc.GetTruncatedByteCount())
	}
	if _, ok := attrs.GetAttributeMap()["http.method"]; ok {
		t.Error("http.method is there under its OpenTelemetry name too")
	}
	// 60 span attributes and 7 of the resource compete for 32 places; with the 3 the client
	// dropped, 38 are dropped.
	if d := attrs.GetDroppedAttributesCount(); d != 60+7-32+3 {
		t.Errorf("dropped attributes = %d, want %d", d, 60+7-32+3)
	}
	if _, ok := attrs.GetAttributeMap()["service.name"]; ok {
		t.Error("service.name kept, crowding out one of the span's own")
	}

	te := got.GetTimeEvents()
	if n := len(te.GetTimeEvent()); n != 32 {
		t.Errorf("%d annotations, want 32", n)
	}
	if d := te.GetDroppedAnnotationsCount(); d != 18+2 {
		t.Errorf("dropped annotations = %d, want 20", d)
	}
	for i, e := range te.GetTimeEvent() {
		a := e.GetAnnotation()
		if d := a.GetDescription(); len(d.GetValue()) != 256 || !strings.HasPrefix(sp.Events[i].Name, d.GetValue()) || int(d.GetTruncatedByteCount()) != len(sp.Events[i].Name)-256 {
			t.Errorf("annotation %d: description of %d bytes, %d cut", i, len(d.GetValue()), d.GetTruncatedByteCount())
		}
		if n, d := len(a.GetAttributes().GetAttributeMap()), a.GetAttributes().GetDroppedAttributesCount(); n != 4 || d != 2 {
			t.Errorf("annotation %d: %d attributes, %d dropped; want 4 and 2", i, n, d)
		}
		if uint64(e.GetTime().AsTime().UnixNano()) != sp.Events[i].TimeUnixNano {
			t.Errorf("annotation %d at %v, want the event's time", i, e.GetTime().AsTime())
		}
	}

	links := got.GetLinks()
	if n := len(links.GetLink()); n != 128 {
		t.Errorf("%d links, want 128", n)
	}
	// One names no span, one does not fit, one the client dropped.
	if d := links.GetDroppedLinksCount(); d != 3 {
		t.Errorf("dropped links = %d, want 3", d)
	}
	for i, l := range links.GetLink() {
		if l.GetTraceId() != fmt.Sprintf("%x", traceID) || l.GetType() != tracepb.Span_Link_TYPE_UNSPECIFIED {
			t.Errorf("link %d = %v", i, l)
		}
		if n, d := len(l.GetAttributes().GetAttributeMap()), l.GetAttributes().GetDroppedAttributesCount(); n != 32 || d != 8 {
			t.Errorf("link %d: %d attributes, %d dropped; want 32 and 8", i, n, d)
		}
	}
}

// With room to spare, the resource's attributes follow the span's, service.name first, and
// the gateway names itself in g.co/agent; with none, g.co/agent is what gives way, uncounted.
func TestResourceAttributes(t *testing.T) {
	h := newHarness(t)
	resource := append(claudeResource(), kv("extra.1", str("a")), kv("extra.2", str("b")))
	tests := []struct {
		name        string
		spanAttrs   int
		want        []string // attributes that must be there
		missing     []string // and must not
		wantDropped int32
	}{
		{
			name:      "room for all",
			spanAttrs: 2,
			want:      []string{"service.name", "service.version", "os.type", "extra.2", "g.co/agent", "team"},
		},
		{
			// 26 of the span's and 8 resource attributes it does not have: service.name and
			// service.version fit, then 4 others in order; extra.1 and extra.2 do not.
			name:        "crowded",
			spanAttrs:   26,
			want:        []string{"service.name", "service.version", "cost_center", "os.version"},
			missing:     []string{"extra.1", "extra.2", "g.co/agent"},
			wantDropped: 2,
		},
		{
			name:      "exactly full without the agent",
			spanAttrs: 24,
			want:      []string{"service.name", "extra.2"},
			missing:   []string{"g.co/agent"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := baseSpan()
			sp.Attributes = append(sp.Attributes, kv("team", str("from-the-span")))
			for i := range tt.spanAttrs - 1 {
				sp.Attributes = append(sp.Attributes, kv(fmt.Sprintf("attr.%02d", i), integer(int64(i))))
			}
			got := h.onlySpan(t, request(resource, sp)).GetAttributes()
			for _, k := range tt.want {
				if _, ok := got.GetAttributeMap()[k]; !ok {
					t.Errorf("%q missing; have %v", k, keys(got))
				}
			}
			for _, k := range tt.missing {
				if _, ok := got.GetAttributeMap()[k]; ok {
					t.Errorf("%q is there, want it crowded out", k)
				}
			}
			if v := stringAttr(t, got, "team").GetValue(); v != "from-the-span" {
				t.Errorf("team = %q: the span's own value must win over the resource's", v)
			}
			if d := got.GetDroppedAttributesCount(); d != tt.wantDropped {
				t.Errorf("dropped = %d, want %d", d, tt.wantDropped)
			}
			if v, ok := got.GetAttributeMap()["g.co/agent"]; ok && v.GetStringValue().GetValue() != "claude-otel-gw 1.2.3" {
				t.Errorf("g.co/agent = %v, want claude-otel-gw 1.2.3", v)
			}
		})
	}
}

// Span-level fields, one case at a time.
func TestSpanFields(t *testing.T) {
	h := newHarness(t)
	parent := mustHex("00f067aa0ba902b7")
	tests := []struct {
		name  string
		edit  func(*otlptracepb.Span)
		check func(*testing.T, *tracepb.Span)
	}{
		{"root span", func(sp *otlptracepb.Span) {}, func(t *testing.T, got *tracepb.Span) {
			if got.GetParentSpanId() != "" {
				t.Errorf("parent = %q, want none", got.GetParentSpanId())
			}
		}},
		{"parent", func(sp *otlptracepb.Span) { sp.ParentSpanId = parent }, func(t *testing.T, got *tracepb.Span) {
			if got.GetParentSpanId() != "00f067aa0ba902b7" {
				t.Errorf("parent = %q", got.GetParentSpanId())
			}
		}},
		{"zero parent is a root", func(sp *otlptracepb.Span) { sp.ParentSpanId = make([]byte, 8) }, func(t *testing.T, got *tracepb.Span) {
			if got.GetParentSpanId() != "" {
				t.Errorf("parent = %q, want none", got.GetParentSpanId())
			}
		}},
		{"malformed parent is a root", func(sp *otlptracepb.Span) { sp.ParentSpanId = []byte{1, 2, 3} }, func(t *testing.T, got *tracepb.Span) {
			if got.GetParentSpanId() != "" {
				t.Errorf("parent = %q, want none", got.GetParentSpanId())
			}
		}},
		{"ends before it starts", func(sp *otlptracepb.Span) { sp.EndTimeUnixNano = sp.StartTimeUnixNano - 5 }, func(t *testing.T, got *tracepb.Span) {
			if !got.GetEndTime().AsTime().Equal(got.GetStartTime().AsTime()) || got.GetStartTime().AsTime().UnixNano() != 1795639688604000000 {
				t.Errorf("start %v end %v, want both at the start", got.GetStartTime().AsTime(), got.GetEndTime().AsTime())
			}
		}},
		{"nanoseconds kept", func(sp *otlptracepb.Span) { sp.EndTimeUnixNano = 1795639688651509403 }, func(t *testing.T, got *tracepb.Span) {
			if e := got.GetEndTime(); e.GetSeconds() != 1795639688 || e.GetNanos() != 651509403 {
				t.Errorf("end = %v", e)
			}
		}},
		{"status ok", func(sp *otlptracepb.Span) { sp.Status = &otlptracepb.Status{Code: otlptracepb.Status_STATUS_CODE_OK} }, func(t *testing.T, got *tracepb.Span) {
			if got.GetStatus().GetCode() != 0 {
				t.Errorf("status = %v, want OK", got.GetStatus())
			}
		}},
		{"long error message", func(sp *otlptracepb.Span) {
			sp.Status = &otlptracepb.Status{Code: otlptracepb.Status_STATUS_CODE_ERROR, Message: strings.Repeat("é", 5000)}
		}, func(t *testing.T, got *tracepb.Span) {
			if m := got.GetStatus().GetMessage(); got.GetStatus().GetCode() != 2 || len(m) != 2048 || !utf8.ValidString(m) {
				t.Errorf("status code %d, message of %d bytes", got.GetStatus().GetCode(), len(m))
			}
		}},
		{"empty name", func(sp *otlptracepb.Span) { sp.Name = "" }, func(t *testing.T, got *tracepb.Span) {
			if got.GetDisplayName() == nil || got.GetDisplayName().GetValue() != "" {
				t.Errorf("display name = %v", got.GetDisplayName())
			}
		}},
	}
	kinds := map[otlptracepb.Span_SpanKind]tracepb.Span_SpanKind{
		otlptracepb.Span_SPAN_KIND_UNSPECIFIED: tracepb.Span_SPAN_KIND_UNSPECIFIED,
		otlptracepb.Span_SPAN_KIND_INTERNAL:    tracepb.Span_INTERNAL,
		otlptracepb.Span_SPAN_KIND_SERVER:      tracepb.Span_SERVER,
		otlptracepb.Span_SPAN_KIND_CLIENT:      tracepb.Span_CLIENT,
		otlptracepb.Span_SPAN_KIND_PRODUCER:    tracepb.Span_PRODUCER,
		otlptracepb.Span_SPAN_KIND_CONSUMER:    tracepb.Span_CONSUMER,
		otlptracepb.Span_SpanKind(42):          tracepb.Span_SPAN_KIND_UNSPECIFIED,
	}
	for in, want := range kinds {
		tests = append(tests, struct {
			name  string
			edit  func(*otlptracepb.Span)
			check func(*testing.T, *tracepb.Span)
		}{"kind " + in.String(), func(sp *otlptracepb.Span) { sp.Kind = in }, func(t *testing.T, got *tracepb.Span) {
			if got.GetSpanKind() != want {
				t.Errorf("kind = %v, want %v", got.GetSpanKind(), want)
			}
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := baseSpan()
			tt.edit(sp)
			tt.check(t, h.onlySpan(t, request(claudeResource(), sp)))
		})
	}
}

// Values of every OTLP kind become ones Cloud Trace takes.
func TestAttributeValues(t *testing.T) {
	h := newHarness(t)
	kvlist := &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{
		kv("command", str("echo \"hi\"\n")), kv("timeout", integer(30)), kv("bg", boolean(true)),
		kv("ratio", double(0.5)), kv("nothing", &commonpb.AnyValue{}),
	}}}}
	array := &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{
		str("a"), integer(1), double(1e21), double(2.5e-7), kvlist,
	}}}}
	tests := []struct {
		name string
		v    *commonpb.AnyValue
		want *tracepb.AttributeValue
	}{
		{"string", str("Bash"), strValue("Bash", 0)},
		{"int", integer(-7), &tracepb.AttributeValue{Value: &tracepb.AttributeValue_IntValue{IntValue: -7}}},
		{"bool", boolean(true), &tracepb.AttributeValue{Value: &tracepb.AttributeValue_BoolValue{BoolValue: true}}},
		{"double", double(0.0123), strValue("0.0123", 0)},
		{"whole double", double(3), strValue("3", 0)},
		{"large double", double(1234567.5), strValue("1234567.5", 0)},
		{"bytes", &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte("hi")}}, strValue("aGk=", 0)},
		{"no value", &commonpb.AnyValue{}, strValue("", 0)},
		{"map", kvlist, strValue(`{"command":"echo \"hi\"\n","timeout":30,"bg":true,"ratio":0.5,"nothing":null}`, 0)},
		{"array", array, strValue(`["a",1,1e+21,2.5e-7,{"command":"echo \"hi\"\n","timeout":30,"bg":true,"ratio":0.5,"nothing":null}]`, 0)},
		{"long string cut on a character", str(strings.Repeat("a", 255) + "é" + "zz"), strValue(strings.Repeat("a", 255), 4)},
		{"long array", &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{str(strings.Repeat("b", 300))}}}},
			strValue(`["`+strings.Repeat("b", 254), 48)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := baseSpan()
			sp.Attributes = []*commonpb.KeyValue{kv("value", tt.v)}
			got := h.onlySpan(t, request(nil, sp)).GetAttributes().GetAttributeMap()["value"]
			if got.String() != tt.want.String() {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func strValue(s string, cut int32) *tracepb.AttributeValue {
	return &tracepb.AttributeValue{Value: &tracepb.AttributeValue_StringValue{StringValue: &tracepb.TruncatableString{Value: s, TruncatedByteCount: cut}}}
}

// A span that cannot be named (a zero or malformed trace or span id) is not sent, and is
// counted and logged; the others in the request are sent.
func TestInvalidSpans(t *testing.T) {
	h := newHarness(t)
	zeroTrace, shortSpan, good := baseSpan(), baseSpan(), baseSpan()
	zeroTrace.TraceId = make([]byte, 16)
	shortSpan.SpanId = []byte{1, 2, 3}
	if err := h.write(t, request(nil, zeroTrace, shortSpan, good)); err != nil {
		t.Fatal(err)
	}
	if n := len(h.fake.Spans()); n != 1 {
		t.Errorf("the fake received %d spans, want 1", n)
	}
	if r := h.rejected(); r != 2 {
		t.Errorf("rejected = %v, want 2", r)
	}
	if lines := h.log.Lines("not sent"); len(lines) != 1 || !strings.Contains(lines[0], "spans=2") {
		t.Errorf("log lines about it: %q", lines)
	}
	// Nothing left to send makes no call.
	calls := h.fake.Calls()
	if err := h.write(t, request(nil, zeroTrace)); err != nil {
		t.Fatal(err)
	}
	if h.fake.Calls() != calls {
		t.Error("a request with no valid span made a call")
	}
	if r := h.rejected(); r != 3 {
		t.Errorf("rejected = %v, want 3", r)
	}
}
