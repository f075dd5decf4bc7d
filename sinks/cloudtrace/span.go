package cloudtrace

import (
	"encoding/hex"

	"cloud.google.com/go/trace/apiv2/tracepb"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	otlptracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Cloud Trace's limits on a span, from google/devtools/cloudtrace/v2/trace.proto and
// https://cloud.google.com/trace/docs/quotas.
const (
	maxDisplayNameBytes = 128
	maxAnnotations      = 32  // time events of the annotation kind, per span
	maxDescriptionBytes = 256 // an annotation's description
	maxLinks            = 128
)

// maxStatusMessageBytes bounds a status message. The API documents no limit; this one keeps
// a span's size bounded (see maxRequestBytes) and is far longer than an error message needs.
const maxStatusMessageBytes = 2048

// convert turns the spans of an OTLP request into Cloud Trace spans of project, leaving the
// request as it was. Spans without a valid trace or span id cannot be named; they are left
// out and counted in invalid.
func convert(req *coltracepb.ExportTraceServiceRequest, project, agent string) (spans []*tracepb.Span, invalid int) {
	n := 0
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			n += len(ss.GetSpans())
		}
	}
	spans = make([]*tracepb.Span, 0, n)
	prefix := "projects/" + project + "/traces/"
	for _, rs := range req.GetResourceSpans() {
		resource := rs.GetResource().GetAttributes()
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				if !validID(sp.GetTraceId(), 16) || !validID(sp.GetSpanId(), 8) {
					invalid++
					continue
				}
				spans = append(spans, convertSpan(sp, resource, prefix, agent))
			}
		}
	}
	return spans, invalid
}

// convertSpan makes one Cloud Trace span; its ids are valid.
func convertSpan(sp *otlptracepb.Span, resource []*commonpb.KeyValue, prefix, agent string) *tracepb.Span {
	spanID := hex.EncodeToString(sp.GetSpanId())
	out := &tracepb.Span{
		Name:        spanName(prefix, sp.GetTraceId(), spanID),
		SpanId:      spanID,
		DisplayName: truncatable(sp.GetName(), maxDisplayNameBytes),
		Attributes:  spanAttributes(sp, resource, agent),
		TimeEvents:  timeEvents(sp),
		Links:       links(sp),
		Status:      spanStatus(sp.GetStatus()),
		SpanKind:    spanKind(sp.GetKind()),
	}
	if validID(sp.GetParentSpanId(), 8) {
		out.ParentSpanId = hex.EncodeToString(sp.GetParentSpanId())
	}
	start, end := sp.GetStartTimeUnixNano(), sp.GetEndTimeUnixNano()
	// Cloud Trace refuses a span that ends before it starts, and with it the whole request;
	// a clock step on the client can produce one, and the span is still worth having.
	end = max(end, start)
	out.StartTime, out.EndTime = timestamp(start), timestamp(end)
	return out
}

// spanName is projects/P/traces/T/spans/S, built in one allocation.
func spanName(prefix string, traceID []byte, spanID string) string {
	b := make([]byte, 0, len(prefix)+32+len("/spans/")+16)
	b = append(b, prefix...)
	b = hex.AppendEncode(b, traceID)
	b = append(b, "/spans/"...)
	b = append(b, spanID...)
	return string(b)
}

// validID reports whether id is an OTLP trace or span id of n bytes that is not all zero: the
// only kind Cloud Trace can name.
func validID(id []byte, n int) bool {
	if len(id) != n {
		return false
	}
	for _, b := range id {
		if b != 0 {
			return true
		}
	}
	return false
}

func timestamp(unixNano uint64) *timestamppb.Timestamp {
	return &timestamppb.Timestamp{Seconds: int64(unixNano / 1e9), Nanos: int32(unixNano % 1e9)}
}

// spanKind maps OTLP's span kinds to Cloud Trace's, which are the same five.
func spanKind(k otlptracepb.Span_SpanKind) tracepb.Span_SpanKind {
	switch k {
	case otlptracepb.Span_SPAN_KIND_INTERNAL:
		return tracepb.Span_INTERNAL
	case otlptracepb.Span_SPAN_KIND_SERVER:
		return tracepb.Span_SERVER
	case otlptracepb.Span_SPAN_KIND_CLIENT:
		return tracepb.Span_CLIENT
	case otlptracepb.Span_SPAN_KIND_PRODUCER:
		return tracepb.Span_PRODUCER
	case otlptracepb.Span_SPAN_KIND_CONSUMER:
		return tracepb.Span_CONSUMER
	}
	return tracepb.Span_SPAN_KIND_UNSPECIFIED
}

// spanStatus maps an OTLP status to a google.rpc.Status. OpenTelemetry has no error codes, so
// an error is UNKNOWN (2), which Cloud Trace shows as a failed span with the message; unset
// and OK are left out, which Cloud Trace reads as OK.
func spanStatus(s *otlptracepb.Status) *rpcstatus.Status {
	if s.GetCode() != otlptracepb.Status_STATUS_CODE_ERROR {
		return nil
	}
	return &rpcstatus.Status{Code: int32(codes.Unknown), Message: cut(s.GetMessage(), maxStatusMessageBytes)}
}

// timeEvents turns span events into annotations: the first maxAnnotations of them, the rest
// counted as dropped with those the client dropped.
func timeEvents(sp *otlptracepb.Span) *tracepb.Span_TimeEvents {
	events := sp.GetEvents()
	if len(events) == 0 && sp.GetDroppedEventsCount() == 0 {
		return nil
	}
	kept := events[:min(len(events), maxAnnotations)]
	te := &tracepb.Span_TimeEvents{
		TimeEvent:               make([]*tracepb.Span_TimeEvent, 0, len(kept)),
		DroppedAnnotationsCount: clip32(int64(len(events)-len(kept)) + int64(sp.GetDroppedEventsCount())),
	}
	for _, e := range kept {
		te.TimeEvent = append(te.TimeEvent, &tracepb.Span_TimeEvent{
			Time: timestamp(e.GetTimeUnixNano()),
			Value: &tracepb.Span_TimeEvent_Annotation_{Annotation: &tracepb.Span_TimeEvent_Annotation{
				Description: truncatable(e.GetName(), maxDescriptionBytes),
				Attributes:  plainAttributes(e.GetAttributes(), maxAnnotationAttributes, e.GetDroppedAttributesCount()),
			}},
		})
	}
	return te
}

// links keeps the first maxLinks links that name a valid span; the rest, and those the client
// dropped, are counted as dropped. Cloud Trace's link type (child or parent) has no OTLP
// equivalent and stays unspecified.
func links(sp *otlptracepb.Span) *tracepb.Span_Links {
	in := sp.GetLinks()
	if len(in) == 0 && sp.GetDroppedLinksCount() == 0 {
		return nil
	}
	out := &tracepb.Span_Links{Link: make([]*tracepb.Span_Link, 0, min(len(in), maxLinks))}
	dropped := int64(sp.GetDroppedLinksCount())
	for _, l := range in {
		if len(out.Link) == maxLinks || !validID(l.GetTraceId(), 16) || !validID(l.GetSpanId(), 8) {
			dropped++
			continue
		}
		out.Link = append(out.Link, &tracepb.Span_Link{
			TraceId:    hex.EncodeToString(l.GetTraceId()),
			SpanId:     hex.EncodeToString(l.GetSpanId()),
			Attributes: plainAttributes(l.GetAttributes(), maxAttributes, l.GetDroppedAttributesCount()),
		})
	}
	out.DroppedLinksCount = clip32(dropped)
	return out
}
