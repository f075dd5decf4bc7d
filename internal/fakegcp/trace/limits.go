package faketrace

import (
	"errors"
	"fmt"
	"strings"

	"cloud.google.com/go/trace/apiv2/tracepb"
	"google.golang.org/protobuf/proto"
)

// Cloud Trace's limits, from the comments of google/devtools/cloudtrace/v2/trace.proto and
// https://cloud.google.com/trace/docs/quotas ("Limits on spans").
const (
	MaxDisplayNameBytes      = 128 // Span.display_name
	MaxAttributes            = 32  // per span, and per link
	MaxAnnotationAttributes  = 4   // per annotation
	MaxAttributeKeyBytes     = 128
	MaxAttributeValueBytes   = 256 // a string value
	MaxAnnotations           = 32  // per span
	MaxMessageEvents         = 128
	MaxAnnotationDescription = 256 // bytes
	MaxLinks                 = 128
)

// MaxRequestBytes is the request size above which the fake refuses a call with
// INVALID_ARGUMENT, as Google's API front end does ("Request payload size exceeds the limit:
// 10485760 bytes."). Cloud Trace documents no request size or span count of its own for
// BatchWriteSpans.
const MaxRequestBytes = 10 << 20

// checkBatch returns what is wrong with a BatchWriteSpans request, or nil.
func checkBatch(req *tracepb.BatchWriteSpansRequest, maxBytes int) error {
	if n := proto.Size(req); n > maxBytes {
		return fmt.Errorf("request payload size exceeds the limit: %d bytes (this one has %d)", maxBytes, n)
	}
	project, ok := strings.CutPrefix(req.GetName(), "projects/")
	if !ok || !validProject(project) {
		return fmt.Errorf("name %q: want projects/[PROJECT_ID]", req.GetName())
	}
	if len(req.GetSpans()) == 0 {
		return errors.New("spans: at least one span is required")
	}
	for i, sp := range req.GetSpans() {
		if err := checkSpan(sp, project); err != nil {
			return fmt.Errorf("spans[%d]: %w", i, err)
		}
	}
	return nil
}

// checkSpan returns what is wrong with one span of project, or nil.
func checkSpan(sp *tracepb.Span, project string) error {
	p, traceID, spanID := parseSpanName(sp.GetName())
	switch {
	case traceID == "":
		return fmt.Errorf("name %q: want projects/[PROJECT_ID]/traces/[TRACE_ID]/spans/[SPAN_ID] with 32 and 16 lower-case hex digits", sp.GetName())
	case p != project:
		return fmt.Errorf("name %q: not in project %q", sp.GetName(), project)
	case allZero(traceID) || allZero(spanID):
		return fmt.Errorf("name %q: trace and span ids must not be zero", sp.GetName())
	case sp.GetSpanId() != spanID:
		return fmt.Errorf("span_id %q: differs from the name's %q", sp.GetSpanId(), spanID)
	case sp.GetParentSpanId() != "" && !isHex(sp.GetParentSpanId(), 16):
		return fmt.Errorf("parent_span_id %q: want 16 lower-case hex digits", sp.GetParentSpanId())
	case sp.GetDisplayName() == nil:
		return errors.New("display_name: required")
	case sp.GetStartTime() == nil || sp.GetEndTime() == nil:
		return errors.New("start_time and end_time: required")
	case sp.GetStartTime().AsTime().After(sp.GetEndTime().AsTime()):
		return errors.New("end_time: before start_time")
	}
	if err := checkString(sp.GetDisplayName(), MaxDisplayNameBytes); err != nil {
		return fmt.Errorf("display_name: %w", err)
	}
	if err := checkAttributes(sp.GetAttributes(), MaxAttributes); err != nil {
		return fmt.Errorf("attributes: %w", err)
	}
	if err := checkTimeEvents(sp.GetTimeEvents()); err != nil {
		return fmt.Errorf("time_events: %w", err)
	}
	if err := checkLinks(sp.GetLinks()); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	return nil
}

func checkAttributes(a *tracepb.Span_Attributes, most int) error {
	if n := len(a.GetAttributeMap()); n > most {
		return fmt.Errorf("%d attributes, at most %d", n, most)
	}
	if a.GetDroppedAttributesCount() < 0 {
		return errors.New("dropped_attributes_count: negative")
	}
	for k, v := range a.GetAttributeMap() {
		if k == "" || len(k) > MaxAttributeKeyBytes {
			return fmt.Errorf("key of %d bytes: want 1 to %d", len(k), MaxAttributeKeyBytes)
		}
		switch v := v.GetValue().(type) {
		case *tracepb.AttributeValue_StringValue:
			if err := checkString(v.StringValue, MaxAttributeValueBytes); err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
		case *tracepb.AttributeValue_IntValue, *tracepb.AttributeValue_BoolValue:
		default:
			return fmt.Errorf("%q: no value", k)
		}
	}
	return nil
}

func checkTimeEvents(te *tracepb.Span_TimeEvents) error {
	var annotations, messages int
	for i, e := range te.GetTimeEvent() {
		if e.GetTime() == nil {
			return fmt.Errorf("time_event[%d].time: required", i)
		}
		switch v := e.GetValue().(type) {
		case *tracepb.Span_TimeEvent_Annotation_:
			annotations++
			if err := checkString(v.Annotation.GetDescription(), MaxAnnotationDescription); err != nil {
				return fmt.Errorf("time_event[%d].annotation.description: %w", i, err)
			}
			if err := checkAttributes(v.Annotation.GetAttributes(), MaxAnnotationAttributes); err != nil {
				return fmt.Errorf("time_event[%d].annotation.attributes: %w", i, err)
			}
		case *tracepb.Span_TimeEvent_MessageEvent_:
			messages++
		default:
			return fmt.Errorf("time_event[%d]: neither an annotation nor a message event", i)
		}
	}
	switch {
	case annotations > MaxAnnotations:
		return fmt.Errorf("%d annotations, at most %d", annotations, MaxAnnotations)
	case messages > MaxMessageEvents:
		return fmt.Errorf("%d message events, at most %d", messages, MaxMessageEvents)
	case te.GetDroppedAnnotationsCount() < 0 || te.GetDroppedMessageEventsCount() < 0:
		return errors.New("dropped counts: negative")
	}
	return nil
}

func checkLinks(l *tracepb.Span_Links) error {
	if n := len(l.GetLink()); n > MaxLinks {
		return fmt.Errorf("%d links, at most %d", n, MaxLinks)
	}
	if l.GetDroppedLinksCount() < 0 {
		return errors.New("dropped_links_count: negative")
	}
	for i, k := range l.GetLink() {
		if !isHex(k.GetTraceId(), 32) || !isHex(k.GetSpanId(), 16) {
			return fmt.Errorf("link[%d]: want a trace id of 32 and a span id of 16 lower-case hex digits", i)
		}
		if err := checkAttributes(k.GetAttributes(), MaxAttributes); err != nil {
			return fmt.Errorf("link[%d].attributes: %w", i, err)
		}
	}
	return nil
}

// checkString checks a TruncatableString against a limit in bytes.
func checkString(s *tracepb.TruncatableString, most int) error {
	switch {
	case len(s.GetValue()) > most:
		return fmt.Errorf("%d bytes, at most %d", len(s.GetValue()), most)
	case s.GetTruncatedByteCount() < 0:
		return errors.New("truncated_byte_count: negative")
	}
	return nil
}

// parseSpanName splits projects/P/traces/T/spans/S; traceID is "" when name is not of that
// form with ids of the right length.
func parseSpanName(name string) (project, traceID, spanID string) {
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "traces" || parts[4] != "spans" ||
		!validProject(parts[1]) || !isHex(parts[3], 32) || !isHex(parts[5], 16) {
		return "", "", ""
	}
	return parts[1], parts[3], parts[5]
}

func validProject(p string) bool {
	return p != "" && !strings.ContainsAny(p, "/ \t\n")
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool { return strings.Trim(s, "0") == "" }
