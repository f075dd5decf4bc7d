package redact

import (
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
)

func (w *walker) logs(r *collogspb.ExportLogsServiceRequest) *collogspb.ExportLogsServiceRequest {
	rls, changed := cow(r.ResourceLogs, w.resourceLogs)
	if !changed {
		return r
	}
	return carry(&collogspb.ExportLogsServiceRequest{ResourceLogs: rls}, r)
}

func (w *walker) resourceLogs(rl *logspb.ResourceLogs) *logspb.ResourceLogs {
	if rl == nil {
		return nil
	}
	res := w.resource(rl.Resource)
	sls, changed := cow(rl.ScopeLogs, w.scopeLogs)
	if !changed && res == rl.Resource {
		return rl
	}
	return carry(&logspb.ResourceLogs{Resource: res, ScopeLogs: sls, SchemaUrl: rl.SchemaUrl}, rl)
}

func (w *walker) scopeLogs(sl *logspb.ScopeLogs) *logspb.ScopeLogs {
	if sl == nil {
		return nil
	}
	scope := w.scope(sl.Scope)
	lrs, changed := cow(sl.LogRecords, w.logRecord)
	if !changed && scope == sl.Scope {
		return sl
	}
	return carry(&logspb.ScopeLogs{Scope: scope, LogRecords: lrs, SchemaUrl: sl.SchemaUrl}, sl)
}

func (w *walker) logRecord(lr *logspb.LogRecord) *logspb.LogRecord {
	if lr == nil {
		return nil
	}
	body := w.value(lr.Body, 0)
	attrs, changed := w.attrs(lr.Attributes, 0)
	eventName := w.str(lr.EventName)
	if !changed && body == lr.Body && eventName == lr.EventName {
		return lr
	}
	return carry(&logspb.LogRecord{
		TimeUnixNano:           lr.TimeUnixNano,
		ObservedTimeUnixNano:   lr.ObservedTimeUnixNano,
		SeverityNumber:         lr.SeverityNumber,
		SeverityText:           lr.SeverityText,
		Body:                   body,
		Attributes:             attrs,
		DroppedAttributesCount: lr.DroppedAttributesCount,
		Flags:                  lr.Flags,
		TraceId:                lr.TraceId,
		SpanId:                 lr.SpanId,
		EventName:              eventName,
	}, lr)
}
