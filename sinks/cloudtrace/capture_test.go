package cloudtrace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"cloud.google.com/go/trace/apiv2/tracepb"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	otlptracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Every span Claude Code sent in the captured sessions (they come from
// CLAUDE_CODE_ENHANCED_TELEMETRY_BETA) reaches Cloud Trace as one span with its name, parent,
// times, kind, status, display name, attributes and events. Replayed twice, every span is
// there twice (Cloud Trace keeps one per name), and Cloud Trace refuses nothing.
func TestCapturedSpans(t *testing.T) {
	h := newHarness(t)
	payloads := capturedTraces(t)
	originals := make([][]byte, len(payloads))
	for i, p := range payloads {
		originals[i] = marshal(t, p.Request.Traces)
	}
	total := 0
	for range 2 {
		for _, p := range payloads {
			if err := h.write(t, p.Request); err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
		}
	}
	if refused := h.fake.Refusals(); len(refused) > 0 {
		t.Fatalf("Cloud Trace refused: %v", refused)
	}
	got := byName(h.fake.Spans())
	for i, p := range payloads {
		if !bytes.Equal(marshal(t, p.Request.Traces), originals[i]) {
			t.Errorf("%s: Write changed the request it was given", p.Name)
		}
		for _, rs := range p.Request.Traces.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					total++
					name := nameOf(sp)
					copies := got[name]
					if len(copies) != 2 {
						t.Errorf("%s: span %s (%s) arrived %d times, want 2", p.Name, name, sp.GetName(), len(copies))
						continue
					}
					if !proto.Equal(copies[0], copies[1]) {
						t.Errorf("%s: span %s differs between the two replays", p.Name, name)
					}
					checkCaptured(t, p.Name, sp, rs.GetResource().GetAttributes(), copies[0])
				}
			}
		}
	}
	if n := len(h.fake.Spans()); n != 2*total {
		t.Errorf("the fake has %d spans, want %d (every captured span twice)", n, 2*total)
	}
	if total < 30 {
		t.Errorf("only %d captured spans: the test data is not what it was", total)
	}
	if r := h.rejected(); r != 0 {
		t.Errorf("%v captured spans counted as rejected", r)
	}
}

// checkCaptured compares one span as Cloud Trace got it with what Claude Code sent.
func checkCaptured(t *testing.T, where string, sp *otlptracepb.Span, resource []*commonpb.KeyValue, got *tracepb.Span) {
	t.Helper()
	where = fmt.Sprintf("%s: %s %x", where, sp.GetName(), sp.GetSpanId())
	wantParent := ""
	if len(sp.GetParentSpanId()) == 8 {
		wantParent = fmt.Sprintf("%x", sp.GetParentSpanId())
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"span_id", got.GetSpanId(), fmt.Sprintf("%x", sp.GetSpanId())},
		{"parent_span_id", got.GetParentSpanId(), wantParent},
		{"display_name", got.GetDisplayName().GetValue(), sp.GetName()},
		{"display_name truncated", got.GetDisplayName().GetTruncatedByteCount(), int32(0)},
		{"start_time", uint64(got.GetStartTime().AsTime().UnixNano()), sp.GetStartTimeUnixNano()},
		{"end_time", uint64(got.GetEndTime().AsTime().UnixNano()), sp.GetEndTimeUnixNano()},
		{"span_kind", got.GetSpanKind().String(), "INTERNAL"},
		{"status", got.GetStatus() == nil, sp.GetStatus().GetCode() != otlptracepb.Status_STATUS_CODE_ERROR},
		{"annotations", len(got.GetTimeEvents().GetTimeEvent()), len(sp.GetEvents())},
		{"links", len(got.GetLinks().GetLink()), len(sp.GetLinks())},
		{"service.name", got.GetAttributes().GetAttributeMap()["service.name"].GetStringValue().GetValue(), "claude-code"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %s = %v, want %v", where, c.what, c.got, c.want)
		}
	}
	// Claude Code's spans have at most 28 attributes of their own: every one of them fits,
	// with its value; the resource's fill the rest, and what does not fit is counted.
	attrs := got.GetAttributes().GetAttributeMap()
	for _, a := range sp.GetAttributes() {
		v, ok := attrs[a.GetKey()]
		if !ok {
			t.Errorf("%s: attribute %q missing", where, a.GetKey())
			continue
		}
		if want := expectedValue(a.GetValue()); !proto.Equal(v, want) {
			t.Errorf("%s: attribute %q = %v, want %v", where, a.GetKey(), v, want)
		}
	}
	candidates := len(sp.GetAttributes())
	for _, r := range resource {
		if !hasKey(sp.GetAttributes(), r.GetKey()) {
			candidates++
		}
	}
	kept := len(attrs)
	if _, ok := attrs["g.co/agent"]; ok {
		kept--
	}
	if n := len(attrs); n > 32 {
		t.Errorf("%s: %d attributes", where, n)
	}
	if dropped := int(got.GetAttributes().GetDroppedAttributesCount()); kept+dropped != candidates {
		t.Errorf("%s: %d attributes kept and %d counted as dropped, of %d", where, kept, dropped, candidates)
	}
	for i, e := range sp.GetEvents() {
		a := got.GetTimeEvents().GetTimeEvent()[i]
		if a.GetAnnotation().GetDescription().GetValue() != e.GetName() || uint64(a.GetTime().AsTime().UnixNano()) != e.GetTimeUnixNano() {
			t.Errorf("%s: event %d = %v, want %q at %d", where, i, a, e.GetName(), e.GetTimeUnixNano())
		}
		for _, ea := range e.GetAttributes() {
			if v := a.GetAnnotation().GetAttributes().GetAttributeMap()[ea.GetKey()]; !proto.Equal(v, expectedValue(ea.GetValue())) {
				t.Errorf("%s: event %d attribute %q = %v", where, i, ea.GetKey(), v)
			}
		}
	}
}

// expectedValue is what Cloud Trace should get for the kinds of value Claude Code sends,
// written out here rather than taken from the writer.
func expectedValue(v *commonpb.AnyValue) *tracepb.AttributeValue {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_BoolValue:
		return &tracepb.AttributeValue{Value: &tracepb.AttributeValue_BoolValue{BoolValue: x.BoolValue}}
	case *commonpb.AnyValue_IntValue:
		return &tracepb.AttributeValue{Value: &tracepb.AttributeValue_IntValue{IntValue: x.IntValue}}
	case *commonpb.AnyValue_ArrayValue, *commonpb.AnyValue_KvlistValue:
		return expectedValue(str(jsonOf(v)))
	case *commonpb.AnyValue_StringValue:
		s := x.StringValue
		ts := &tracepb.TruncatableString{Value: s}
		if len(s) > 256 {
			n := 256
			for n > 0 && s[n]&0xC0 == 0x80 {
				n--
			}
			ts = &tracepb.TruncatableString{Value: s[:n], TruncatedByteCount: int32(len(s) - n)}
		}
		return &tracepb.AttributeValue{Value: &tracepb.AttributeValue_StringValue{StringValue: ts}}
	}
	return nil
}

// jsonOf renders an array or map value as encoding/json does.
func jsonOf(v *commonpb.AnyValue) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(goValue(v)); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func goValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		out := []any{}
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, goValue(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		out := map[string]any{}
		for _, kv := range x.KvlistValue.GetValues() {
			out[kv.GetKey()] = goValue(kv.GetValue())
		}
		return out
	}
	return nil
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
