package ingest

import (
	"fmt"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// The id lengths OTLP fixes; an empty id means "none" and is always allowed.
const (
	traceIDLen = 16
	spanIDLen  = 8
)

// decodeProtobuf decodes an OTLP protobuf export request into m (one of the Export*ServiceRequest
// types) and checks it. The input is copied, never aliased, so the caller may reuse it.
func decodeProtobuf(data []byte, r telemetry.Request, maxDepth int) error {
	opts := proto.UnmarshalOptions{RecursionLimit: recursionLimit(maxDepth)}
	if err := opts.Unmarshal(data, r.Message()); err != nil {
		return fmt.Errorf("%w: not a valid protobuf %s export request: %v", errMalformed, r.Signal(), err)
	}
	return checkRequest(r, maxDepth)
}

// recursionLimit bounds protobuf message nesting so that absurdly deep input is cut off while it
// is decoded rather than walked afterwards. It is generous: the deepest AnyValue a valid request
// can hold (under an exemplar's filtered attributes) sits 9 messages down, each AnyValue level
// adds at most 3 (KeyValueList, KeyValue, AnyValue), and an empty KeyValueList or value-less
// KeyValue at the bottom adds 2. The precise rule is checkRequest's.
func recursionLimit(maxDepth int) int {
	return 3*effectiveDepth(maxDepth) + 16
}

func effectiveDepth(maxDepth int) int {
	if maxDepth <= 0 {
		return otlpjson.DefaultMaxDepth
	}
	return maxDepth
}

// invalidField is a problem at a place in a request, named by its OTLP/JSON field path
// (resourceSpans[0].scopeSpans[1].spans[2].traceId), the way the OTLP/JSON decoder names it.
type invalidField struct {
	path string
	msg  string
}

func (e *invalidField) Error() string { return e.path + ": " + e.msg }

// under prefixes the path of a problem found inside a field; the path is only built for a
// request that is refused, so the common case allocates nothing.
func under(err error, format string, args ...any) error {
	if f, ok := err.(*invalidField); ok {
		f.path = fmt.Sprintf(format, args...) + "." + f.path
	}
	return err
}

// checkRequest refuses what the protobuf decoder accepts but OTLP does not: ids of the wrong
// length, and AnyValues nested more than maxDepth levels (an attribute's or a body's value is
// level 1, each array element or key-value list entry inside it one more). The JSON decoder
// applies the same depth rule while decoding; running the check after it too keeps one rule
// for both encodings whatever the decoder counts.
func checkRequest(r telemetry.Request, maxDepth int) error {
	c := checker{maxDepth: effectiveDepth(maxDepth)}
	var err error
	switch {
	case r.Logs != nil:
		err = c.logs(r.Logs)
	case r.Metrics != nil:
		err = c.metrics(r.Metrics)
	case r.Traces != nil:
		err = c.traces(r.Traces)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	return nil
}

type checker struct{ maxDepth int }

func (c checker) logs(req *collogspb.ExportLogsServiceRequest) error {
	for i, rl := range req.ResourceLogs {
		if err := c.resource(rl.Resource); err != nil {
			return under(err, "resourceLogs[%d]", i)
		}
		for j, sl := range rl.ScopeLogs {
			if err := c.scope(sl.Scope); err != nil {
				return under(err, "resourceLogs[%d].scopeLogs[%d]", i, j)
			}
			for k, lr := range sl.LogRecords {
				err := checkID(lr.TraceId, traceIDLen, "traceId")
				if err == nil {
					err = checkID(lr.SpanId, spanIDLen, "spanId")
				}
				if err == nil && lr.Body != nil && !c.value(lr.Body, 1) {
					err = c.tooDeep("body")
				}
				if err == nil {
					err = c.attributes(lr.Attributes, "attributes")
				}
				if err != nil {
					return under(err, "resourceLogs[%d].scopeLogs[%d].logRecords[%d]", i, j, k)
				}
			}
		}
	}
	return nil
}

func (c checker) traces(req *coltracepb.ExportTraceServiceRequest) error {
	for i, rs := range req.ResourceSpans {
		if err := c.resource(rs.Resource); err != nil {
			return under(err, "resourceSpans[%d]", i)
		}
		for j, ss := range rs.ScopeSpans {
			if err := c.scope(ss.Scope); err != nil {
				return under(err, "resourceSpans[%d].scopeSpans[%d]", i, j)
			}
			for k, sp := range ss.Spans {
				if err := c.span(sp); err != nil {
					return under(err, "resourceSpans[%d].scopeSpans[%d].spans[%d]", i, j, k)
				}
			}
		}
	}
	return nil
}

func (c checker) span(sp *tracepb.Span) error {
	if err := checkID(sp.TraceId, traceIDLen, "traceId"); err != nil {
		return err
	}
	if err := checkID(sp.SpanId, spanIDLen, "spanId"); err != nil {
		return err
	}
	if err := checkID(sp.ParentSpanId, spanIDLen, "parentSpanId"); err != nil {
		return err
	}
	if err := c.attributes(sp.Attributes, "attributes"); err != nil {
		return err
	}
	for i, e := range sp.Events {
		if err := c.attributes(e.Attributes, "attributes"); err != nil {
			return under(err, "events[%d]", i)
		}
	}
	for i, l := range sp.Links {
		err := checkID(l.TraceId, traceIDLen, "traceId")
		if err == nil {
			err = checkID(l.SpanId, spanIDLen, "spanId")
		}
		if err == nil {
			err = c.attributes(l.Attributes, "attributes")
		}
		if err != nil {
			return under(err, "links[%d]", i)
		}
	}
	return nil
}

func (c checker) metrics(req *colmetricspb.ExportMetricsServiceRequest) error {
	for i, rm := range req.ResourceMetrics {
		if err := c.resource(rm.Resource); err != nil {
			return under(err, "resourceMetrics[%d]", i)
		}
		for j, sm := range rm.ScopeMetrics {
			if err := c.scope(sm.Scope); err != nil {
				return under(err, "resourceMetrics[%d].scopeMetrics[%d]", i, j)
			}
			for k, m := range sm.Metrics {
				if err := c.metric(m); err != nil {
					return under(err, "resourceMetrics[%d].scopeMetrics[%d].metrics[%d]", i, j, k)
				}
			}
		}
	}
	return nil
}

func (c checker) metric(m *metricspb.Metric) error {
	if err := c.attributes(m.Metadata, "metadata"); err != nil {
		return err
	}
	switch d := m.Data.(type) {
	case *metricspb.Metric_Gauge:
		for i, p := range d.Gauge.GetDataPoints() {
			if err := c.point(p.Attributes, p.Exemplars); err != nil {
				return under(err, "gauge.dataPoints[%d]", i)
			}
		}
	case *metricspb.Metric_Sum:
		for i, p := range d.Sum.GetDataPoints() {
			if err := c.point(p.Attributes, p.Exemplars); err != nil {
				return under(err, "sum.dataPoints[%d]", i)
			}
		}
	case *metricspb.Metric_Histogram:
		for i, p := range d.Histogram.GetDataPoints() {
			if err := c.point(p.Attributes, p.Exemplars); err != nil {
				return under(err, "histogram.dataPoints[%d]", i)
			}
		}
	case *metricspb.Metric_ExponentialHistogram:
		for i, p := range d.ExponentialHistogram.GetDataPoints() {
			if err := c.point(p.Attributes, p.Exemplars); err != nil {
				return under(err, "exponentialHistogram.dataPoints[%d]", i)
			}
		}
	case *metricspb.Metric_Summary:
		for i, p := range d.Summary.GetDataPoints() {
			if err := c.point(p.Attributes, nil); err != nil {
				return under(err, "summary.dataPoints[%d]", i)
			}
		}
	}
	return nil
}

func (c checker) point(attrs []*commonpb.KeyValue, exemplars []*metricspb.Exemplar) error {
	if err := c.attributes(attrs, "attributes"); err != nil {
		return err
	}
	for i, e := range exemplars {
		err := checkID(e.TraceId, traceIDLen, "traceId")
		if err == nil {
			err = checkID(e.SpanId, spanIDLen, "spanId")
		}
		if err == nil {
			err = c.attributes(e.FilteredAttributes, "filteredAttributes")
		}
		if err != nil {
			return under(err, "exemplars[%d]", i)
		}
	}
	return nil
}

func (c checker) resource(r *resourcepb.Resource) error {
	if r == nil {
		return nil
	}
	return under(c.attributes(r.Attributes, "attributes"), "resource")
}

func (c checker) scope(s *commonpb.InstrumentationScope) error {
	if s == nil {
		return nil
	}
	return under(c.attributes(s.Attributes, "attributes"), "scope")
}

func (c checker) attributes(kvs []*commonpb.KeyValue, field string) error {
	for i, kv := range kvs {
		if v := kv.GetValue(); v != nil && !c.value(v, 1) {
			return c.tooDeep(fmt.Sprintf("%s[%d].value", field, i))
		}
	}
	return nil
}

// value reports whether v, at the given level, and everything inside it stays within maxDepth.
// The recursion is bounded by maxDepth, not by the input.
func (c checker) value(v *commonpb.AnyValue, level int) bool {
	if level > c.maxDepth {
		return false
	}
	switch x := v.Value.(type) {
	case *commonpb.AnyValue_ArrayValue:
		for _, e := range x.ArrayValue.GetValues() {
			if e != nil && !c.value(e, level+1) {
				return false
			}
		}
	case *commonpb.AnyValue_KvlistValue:
		for _, kv := range x.KvlistValue.GetValues() {
			if e := kv.GetValue(); e != nil && !c.value(e, level+1) {
				return false
			}
		}
	}
	return true
}

func (c checker) tooDeep(path string) error {
	return &invalidField{path: path, msg: fmt.Sprintf("values nested deeper than %d levels", c.maxDepth)}
}

func checkID(id []byte, want int, field string) error {
	if len(id) == 0 || len(id) == want {
		return nil
	}
	return &invalidField{path: field, msg: fmt.Sprintf("%d bytes, want %d (or none)", len(id), want)}
}
