package route

import (
	"claude-otel-gw/telemetry"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// filter returns a request holding only the records of req marked in keep. It shares every record,
// resource and scope with req (nothing is copied deeply and req is not modified); only the
// containers along the way are new.
func filter(req telemetry.Request, keep bitset) telemetry.Request {
	i := 0
	switch {
	case req.Logs != nil:
		out := &collogspb.ExportLogsServiceRequest{}
		for _, rl := range req.Logs.ResourceLogs {
			var nrl *logspb.ResourceLogs
			for _, sl := range rl.ScopeLogs {
				var kept []*logspb.LogRecord
				for _, lr := range sl.LogRecords {
					if keep.has(i) {
						kept = append(kept, lr)
					}
					i++
				}
				if kept == nil {
					continue
				}
				nsl := shallowCopy(sl, "log_records")
				nsl.LogRecords = kept
				if nrl == nil {
					nrl = shallowCopy(rl, "scope_logs")
				}
				nrl.ScopeLogs = append(nrl.ScopeLogs, nsl)
			}
			if nrl != nil {
				out.ResourceLogs = append(out.ResourceLogs, nrl)
			}
		}
		return telemetry.Request{Logs: out}
	case req.Traces != nil:
		out := &coltracepb.ExportTraceServiceRequest{}
		for _, rs := range req.Traces.ResourceSpans {
			var nrs *tracepb.ResourceSpans
			for _, ss := range rs.ScopeSpans {
				var kept []*tracepb.Span
				for _, sp := range ss.Spans {
					if keep.has(i) {
						kept = append(kept, sp)
					}
					i++
				}
				if kept == nil {
					continue
				}
				nss := shallowCopy(ss, "spans")
				nss.Spans = kept
				if nrs == nil {
					nrs = shallowCopy(rs, "scope_spans")
				}
				nrs.ScopeSpans = append(nrs.ScopeSpans, nss)
			}
			if nrs != nil {
				out.ResourceSpans = append(out.ResourceSpans, nrs)
			}
		}
		return telemetry.Request{Traces: out}
	case req.Metrics != nil:
		out := &colmetricspb.ExportMetricsServiceRequest{}
		for _, rm := range req.Metrics.ResourceMetrics {
			var nrm *metricspb.ResourceMetrics
			for _, sm := range rm.ScopeMetrics {
				var nsm *metricspb.ScopeMetrics
				for _, m := range sm.Metrics {
					nm := filterPoints(m, keep, &i)
					if nm == nil {
						continue
					}
					if nsm == nil {
						nsm = shallowCopy(sm, "metrics")
					}
					nsm.Metrics = append(nsm.Metrics, nm)
				}
				if nsm == nil {
					continue
				}
				if nrm == nil {
					nrm = shallowCopy(rm, "scope_metrics")
				}
				nrm.ScopeMetrics = append(nrm.ScopeMetrics, nsm)
			}
			if nrm != nil {
				out.ResourceMetrics = append(out.ResourceMetrics, nrm)
			}
		}
		return telemetry.Request{Metrics: out}
	}
	return req
}

// filterPoints returns m with only its kept data points: m itself when all are kept, nil when
// none are. *i is the index of m's first data point and is advanced past its last.
func filterPoints(m *metricspb.Metric, keep bitset, i *int) *metricspb.Metric {
	n := telemetry.DataPoints(m)
	start := *i
	*i += n
	kept := 0
	for j := start; j < start+n; j++ {
		if keep.has(j) {
			kept++
		}
	}
	switch {
	case kept == 0:
		return nil
	case kept == n:
		return m
	}
	nm := shallowCopy(m, "")
	switch d := m.Data.(type) {
	case *metricspb.Metric_Gauge:
		g := shallowCopy(d.Gauge, "data_points")
		g.DataPoints = pick(d.Gauge.DataPoints, keep, start)
		nm.Data = &metricspb.Metric_Gauge{Gauge: g}
	case *metricspb.Metric_Sum:
		s := shallowCopy(d.Sum, "data_points")
		s.DataPoints = pick(d.Sum.DataPoints, keep, start)
		nm.Data = &metricspb.Metric_Sum{Sum: s}
	case *metricspb.Metric_Histogram:
		h := shallowCopy(d.Histogram, "data_points")
		h.DataPoints = pick(d.Histogram.DataPoints, keep, start)
		nm.Data = &metricspb.Metric_Histogram{Histogram: h}
	case *metricspb.Metric_ExponentialHistogram:
		h := shallowCopy(d.ExponentialHistogram, "data_points")
		h.DataPoints = pick(d.ExponentialHistogram.DataPoints, keep, start)
		nm.Data = &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: h}
	case *metricspb.Metric_Summary:
		s := shallowCopy(d.Summary, "data_points")
		s.DataPoints = pick(d.Summary.DataPoints, keep, start)
		nm.Data = &metricspb.Metric_Summary{Summary: s}
	}
	return nm
}

func pick[T any](points []T, keep bitset, start int) []T {
	var out []T
	for j, p := range points {
		if keep.has(start + j) {
			out = append(out, p)
		}
	}
	return out
}

// shallowCopy returns a new message with every populated field of m except the one named skip,
// sharing their values with m. Reflection keeps it right when OTLP adds fields.
func shallowCopy[T proto.Message](m T, skip protoreflect.Name) T {
	src := m.ProtoReflect()
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Name() != skip {
			dst.Set(fd, v)
		}
		return true
	})
	return dst.Interface().(T)
}
