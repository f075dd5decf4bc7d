package redact

import (
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

func (w *walker) traces(r *coltracepb.ExportTraceServiceRequest) *coltracepb.ExportTraceServiceRequest {
	rss, changed := cow(r.ResourceSpans, w.resourceSpans)
	if !changed {
		return r
	}
	return carry(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rss}, r)
}

func (w *walker) resourceSpans(rs *tracepb.ResourceSpans) *tracepb.ResourceSpans {
	if rs == nil {
		return nil
	}
	res := w.resource(rs.Resource)
	sss, changed := cow(rs.ScopeSpans, w.scopeSpans)
	if !changed && res == rs.Resource {
		return rs
	}
	return carry(&tracepb.ResourceSpans{Resource: res, ScopeSpans: sss, SchemaUrl: rs.SchemaUrl}, rs)
}

func (w *walker) scopeSpans(ss *tracepb.ScopeSpans) *tracepb.ScopeSpans {
	if ss == nil {
		return nil
	}
	scope := w.scope(ss.Scope)
	spans, changed := cow(ss.Spans, w.span)
	if !changed && scope == ss.Scope {
		return ss
	}
	return carry(&tracepb.ScopeSpans{Scope: scope, Spans: spans, SchemaUrl: ss.SchemaUrl}, ss)
}

func (w *walker) span(s *tracepb.Span) *tracepb.Span {
	if s == nil {
		return nil
	}
	name := w.str(s.Name)
	attrs, attrsChanged := w.attrs(s.Attributes, 0)
	events, eventsChanged := cow(s.Events, w.event)
	links, linksChanged := cow(s.Links, w.link)
	status := w.status(s.Status)
	if !attrsChanged && !eventsChanged && !linksChanged && name == s.Name && status == s.Status {
		return s
	}
	return carry(&tracepb.Span{
		TraceId:                s.TraceId,
		SpanId:                 s.SpanId,
		TraceState:             s.TraceState,
		ParentSpanId:           s.ParentSpanId,
		Flags:                  s.Flags,
		Name:                   name,
		Kind:                   s.Kind,
		StartTimeUnixNano:      s.StartTimeUnixNano,
		EndTimeUnixNano:        s.EndTimeUnixNano,
		Attributes:             attrs,
		DroppedAttributesCount: s.DroppedAttributesCount,
		Events:                 events,
		DroppedEventsCount:     s.DroppedEventsCount,
		Links:                  links,
		DroppedLinksCount:      s.DroppedLinksCount,
		Status:                 status,
	}, s)
}

func (w *walker) event(e *tracepb.Span_Event) *tracepb.Span_Event {
	if e == nil {
		return nil
	}
	name := w.str(e.Name)
	attrs, changed := w.attrs(e.Attributes, 0)
	if !changed && name == e.Name {
		return e
	}
	return carry(&tracepb.Span_Event{
		TimeUnixNano:           e.TimeUnixNano,
		Name:                   name,
		Attributes:             attrs,
		DroppedAttributesCount: e.DroppedAttributesCount,
	}, e)
}

func (w *walker) link(l *tracepb.Span_Link) *tracepb.Span_Link {
	if l == nil {
		return nil
	}
	attrs, changed := w.attrs(l.Attributes, 0)
	if !changed {
		return l
	}
	return carry(&tracepb.Span_Link{
		TraceId:                l.TraceId,
		SpanId:                 l.SpanId,
		TraceState:             l.TraceState,
		Attributes:             attrs,
		DroppedAttributesCount: l.DroppedAttributesCount,
		Flags:                  l.Flags,
	}, l)
}

func (w *walker) status(s *tracepb.Status) *tracepb.Status {
	if s == nil {
		return nil
	}
	msg := w.str(s.Message)
	if msg == s.Message {
		return s
	}
	return carry(&tracepb.Status{Message: msg, Code: s.Code}, s)
}
