package otlp

import (
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"claude-otel-gw/telemetry"
)

// split cuts a request of more than budget protobuf bytes into requests of at most budget,
// keeping every record under its own resource and scope (and every data point under its own
// metric), in order. A record larger than budget by itself goes alone, in a request over budget
// that the destination may refuse.
//
// The parts share the request's messages: only the containers along the cuts are new, shallow
// copies, so that splitting costs little and leaves the shared request as it was.
func split(r telemetry.Request, budget int) []telemetry.Request {
	var out []telemetry.Request
	switch {
	case r.Logs != nil:
		for _, p := range splitLevel(r.Logs, budget, logsRequest) {
			out = append(out, telemetry.Request{Logs: p})
		}
	case r.Metrics != nil:
		for _, p := range splitLevel(r.Metrics, budget, metricsRequest) {
			out = append(out, telemetry.Request{Metrics: p})
		}
	case r.Traces != nil:
		for _, p := range splitLevel(r.Traces, budget, tracesRequest) {
			out = append(out, telemetry.Request{Traces: p})
		}
	}
	return out
}

// level is one layer of an export request: a message P with a repeated field of Cs that may be
// spread over several copies of P.
type level[P, C proto.Message] struct {
	children func(P) []C
	set      func(P, []C) // called on a shallow copy of a P, never on the original
	// split cuts a child larger than a budget into several; nil for records, which are whole.
	split func(C, int) []C
}

// nestedSlack covers what a level's size does not see: the length prefix of a message between
// it and its children (a metric's Gauge or Sum) growing from one byte to up to five.
const nestedSlack = 8

// splitLevel cuts p, which is larger than budget, into copies of it that each hold a run of its
// children, splitting first any child too large for a copy of its own.
func splitLevel[P, C proto.Message](p P, budget int, l level[P, C]) []P {
	shell := shallow(p)
	l.set(shell, nil)
	room := budget - proto.Size(shell) - nestedSlack // for the children, each with its tag and length
	childBudget := room - 1 - protowire.SizeVarint(uint64(max(room, 0)))

	var (
		pieces []C
		sizes  []int // of pieces, as elements of the repeated field
	)
	for _, c := range l.children(p) {
		n := proto.Size(c)
		if l.split == nil || n <= childBudget {
			pieces, sizes = append(pieces, c), append(sizes, elemSize(n))
			continue
		}
		for _, part := range l.split(c, childBudget) {
			pieces, sizes = append(pieces, part), append(sizes, elemSize(proto.Size(part)))
		}
	}

	var out []P
	start, used := 0, 0
	for i := range pieces {
		if i > start && used+sizes[i] > room {
			out = append(out, wrap(p, l, pieces[start:i:i]))
			start, used = i, 0
		}
		used += sizes[i]
	}
	if start < len(pieces) || len(out) == 0 {
		out = append(out, wrap(p, l, pieces[start:len(pieces):len(pieces)]))
	}
	return out
}

func wrap[P, C proto.Message](p P, l level[P, C], children []C) P {
	s := shallow(p)
	l.set(s, children)
	return s
}

// elemSize is the size of an n-byte message as an element of a repeated field: every field cut
// here has a number below 16, so a one-byte tag, then the length, then the message.
func elemSize(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

// shallow copies m's fields into a new message, sharing what they point to.
func shallow[M proto.Message](m M) M {
	src := m.ProtoReflect()
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dst.Set(fd, v)
		return true
	})
	if u := src.GetUnknown(); len(u) > 0 {
		dst.SetUnknown(u)
	}
	return dst.Interface().(M)
}

// The levels of the three requests, outermost first.
var (
	logsRequest = level[*collogspb.ExportLogsServiceRequest, *logspb.ResourceLogs]{
		children: (*collogspb.ExportLogsServiceRequest).GetResourceLogs,
		set:      func(p *collogspb.ExportLogsServiceRequest, c []*logspb.ResourceLogs) { p.ResourceLogs = c },
		split:    func(c *logspb.ResourceLogs, b int) []*logspb.ResourceLogs { return splitLevel(c, b, resourceLogs) },
	}
	resourceLogs = level[*logspb.ResourceLogs, *logspb.ScopeLogs]{
		children: (*logspb.ResourceLogs).GetScopeLogs,
		set:      func(p *logspb.ResourceLogs, c []*logspb.ScopeLogs) { p.ScopeLogs = c },
		split:    func(c *logspb.ScopeLogs, b int) []*logspb.ScopeLogs { return splitLevel(c, b, scopeLogs) },
	}
	scopeLogs = level[*logspb.ScopeLogs, *logspb.LogRecord]{
		children: (*logspb.ScopeLogs).GetLogRecords,
		set:      func(p *logspb.ScopeLogs, c []*logspb.LogRecord) { p.LogRecords = c },
	}

	tracesRequest = level[*coltracepb.ExportTraceServiceRequest, *tracepb.ResourceSpans]{
		children: (*coltracepb.ExportTraceServiceRequest).GetResourceSpans,
		set:      func(p *coltracepb.ExportTraceServiceRequest, c []*tracepb.ResourceSpans) { p.ResourceSpans = c },
		split:    func(c *tracepb.ResourceSpans, b int) []*tracepb.ResourceSpans { return splitLevel(c, b, resourceSpans) },
	}
	resourceSpans = level[*tracepb.ResourceSpans, *tracepb.ScopeSpans]{
		children: (*tracepb.ResourceSpans).GetScopeSpans,
		set:      func(p *tracepb.ResourceSpans, c []*tracepb.ScopeSpans) { p.ScopeSpans = c },
		split:    func(c *tracepb.ScopeSpans, b int) []*tracepb.ScopeSpans { return splitLevel(c, b, scopeSpans) },
	}
	scopeSpans = level[*tracepb.ScopeSpans, *tracepb.Span]{
		children: (*tracepb.ScopeSpans).GetSpans,
		set:      func(p *tracepb.ScopeSpans, c []*tracepb.Span) { p.Spans = c },
	}

	metricsRequest = level[*colmetricspb.ExportMetricsServiceRequest, *metricspb.ResourceMetrics]{
		children: (*colmetricspb.ExportMetricsServiceRequest).GetResourceMetrics,
		set: func(p *colmetricspb.ExportMetricsServiceRequest, c []*metricspb.ResourceMetrics) {
			p.ResourceMetrics = c
		},
		split: func(c *metricspb.ResourceMetrics, b int) []*metricspb.ResourceMetrics {
			return splitLevel(c, b, resourceMetrics)
		},
	}
	resourceMetrics = level[*metricspb.ResourceMetrics, *metricspb.ScopeMetrics]{
		children: (*metricspb.ResourceMetrics).GetScopeMetrics,
		set:      func(p *metricspb.ResourceMetrics, c []*metricspb.ScopeMetrics) { p.ScopeMetrics = c },
		split: func(c *metricspb.ScopeMetrics, b int) []*metricspb.ScopeMetrics {
			return splitLevel(c, b, scopeMetrics)
		},
	}
	scopeMetrics = level[*metricspb.ScopeMetrics, *metricspb.Metric]{
		children: (*metricspb.ScopeMetrics).GetMetrics,
		set:      func(p *metricspb.ScopeMetrics, c []*metricspb.Metric) { p.Metrics = c },
		split:    splitMetric,
	}
)

// splitMetric spreads a metric's data points over copies of it, each with the metric's name,
// unit, type and temporality.
func splitMetric(m *metricspb.Metric, budget int) []*metricspb.Metric {
	switch d := m.Data.(type) {
	case *metricspb.Metric_Gauge:
		return splitLevel(m, budget, level[*metricspb.Metric, *metricspb.NumberDataPoint]{
			children: func(m *metricspb.Metric) []*metricspb.NumberDataPoint { return m.GetGauge().GetDataPoints() },
			set: func(m *metricspb.Metric, c []*metricspb.NumberDataPoint) {
				g := shallow(d.Gauge)
				g.DataPoints = c
				m.Data = &metricspb.Metric_Gauge{Gauge: g}
			},
		})
	case *metricspb.Metric_Sum:
		return splitLevel(m, budget, level[*metricspb.Metric, *metricspb.NumberDataPoint]{
			children: func(m *metricspb.Metric) []*metricspb.NumberDataPoint { return m.GetSum().GetDataPoints() },
			set: func(m *metricspb.Metric, c []*metricspb.NumberDataPoint) {
				s := shallow(d.Sum)
				s.DataPoints = c
				m.Data = &metricspb.Metric_Sum{Sum: s}
			},
		})
	case *metricspb.Metric_Histogram:
		return splitLevel(m, budget, level[*metricspb.Metric, *metricspb.HistogramDataPoint]{
			children: func(m *metricspb.Metric) []*metricspb.HistogramDataPoint { return m.GetHistogram().GetDataPoints() },
			set: func(m *metricspb.Metric, c []*metricspb.HistogramDataPoint) {
				h := shallow(d.Histogram)
				h.DataPoints = c
				m.Data = &metricspb.Metric_Histogram{Histogram: h}
			},
		})
	case *metricspb.Metric_ExponentialHistogram:
		return splitLevel(m, budget, level[*metricspb.Metric, *metricspb.ExponentialHistogramDataPoint]{
			children: func(m *metricspb.Metric) []*metricspb.ExponentialHistogramDataPoint {
				return m.GetExponentialHistogram().GetDataPoints()
			},
			set: func(m *metricspb.Metric, c []*metricspb.ExponentialHistogramDataPoint) {
				h := shallow(d.ExponentialHistogram)
				h.DataPoints = c
				m.Data = &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: h}
			},
		})
	case *metricspb.Metric_Summary:
		return splitLevel(m, budget, level[*metricspb.Metric, *metricspb.SummaryDataPoint]{
			children: func(m *metricspb.Metric) []*metricspb.SummaryDataPoint { return m.GetSummary().GetDataPoints() },
			set: func(m *metricspb.Metric, c []*metricspb.SummaryDataPoint) {
				s := shallow(d.Summary)
				s.DataPoints = c
				m.Data = &metricspb.Metric_Summary{Summary: s}
			},
		})
	}
	return []*metricspb.Metric{m}
}
