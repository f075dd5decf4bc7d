package redact

import (
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

func (w *walker) metrics(r *colmetricspb.ExportMetricsServiceRequest) *colmetricspb.ExportMetricsServiceRequest {
	rms, changed := cow(r.ResourceMetrics, w.resourceMetrics)
	if !changed {
		return r
	}
	return carry(&colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: rms}, r)
}

func (w *walker) resourceMetrics(rm *metricspb.ResourceMetrics) *metricspb.ResourceMetrics {
	if rm == nil {
		return nil
	}
	res := w.resource(rm.Resource)
	sms, changed := cow(rm.ScopeMetrics, w.scopeMetrics)
	if !changed && res == rm.Resource {
		return rm
	}
	return carry(&metricspb.ResourceMetrics{Resource: res, ScopeMetrics: sms, SchemaUrl: rm.SchemaUrl}, rm)
}

func (w *walker) scopeMetrics(sm *metricspb.ScopeMetrics) *metricspb.ScopeMetrics {
	if sm == nil {
		return nil
	}
	scope := w.scope(sm.Scope)
	ms, changed := cow(sm.Metrics, w.metric)
	if !changed && scope == sm.Scope {
		return sm
	}
	return carry(&metricspb.ScopeMetrics{Scope: scope, Metrics: ms, SchemaUrl: sm.SchemaUrl}, sm)
}

func (w *walker) metric(m *metricspb.Metric) *metricspb.Metric {
	if m == nil {
		return nil
	}
	meta, metaChanged := w.attrs(m.Metadata, 0)
	data := m.Data
	switch d := m.Data.(type) {
	case *metricspb.Metric_Gauge:
		if g := w.gauge(d.Gauge); g != d.Gauge {
			data = &metricspb.Metric_Gauge{Gauge: g}
		}
	case *metricspb.Metric_Sum:
		if s := w.sum(d.Sum); s != d.Sum {
			data = &metricspb.Metric_Sum{Sum: s}
		}
	case *metricspb.Metric_Histogram:
		if h := w.histogram(d.Histogram); h != d.Histogram {
			data = &metricspb.Metric_Histogram{Histogram: h}
		}
	case *metricspb.Metric_ExponentialHistogram:
		if h := w.expHistogram(d.ExponentialHistogram); h != d.ExponentialHistogram {
			data = &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: h}
		}
	case *metricspb.Metric_Summary:
		if s := w.summary(d.Summary); s != d.Summary {
			data = &metricspb.Metric_Summary{Summary: s}
		}
	}
	if !metaChanged && data == m.Data {
		return m
	}
	return carry(&metricspb.Metric{
		Name:        m.Name,
		Description: m.Description,
		Unit:        m.Unit,
		Data:        data,
		Metadata:    meta,
	}, m)
}

func (w *walker) gauge(g *metricspb.Gauge) *metricspb.Gauge {
	if g == nil {
		return nil
	}
	dps, changed := cow(g.DataPoints, w.numberPoint)
	if !changed {
		return g
	}
	return carry(&metricspb.Gauge{DataPoints: dps}, g)
}

func (w *walker) sum(s *metricspb.Sum) *metricspb.Sum {
	if s == nil {
		return nil
	}
	dps, changed := cow(s.DataPoints, w.numberPoint)
	if !changed {
		return s
	}
	return carry(&metricspb.Sum{
		DataPoints:             dps,
		AggregationTemporality: s.AggregationTemporality,
		IsMonotonic:            s.IsMonotonic,
	}, s)
}

func (w *walker) histogram(h *metricspb.Histogram) *metricspb.Histogram {
	if h == nil {
		return nil
	}
	dps, changed := cow(h.DataPoints, w.histogramPoint)
	if !changed {
		return h
	}
	return carry(&metricspb.Histogram{DataPoints: dps, AggregationTemporality: h.AggregationTemporality}, h)
}

func (w *walker) expHistogram(h *metricspb.ExponentialHistogram) *metricspb.ExponentialHistogram {
	if h == nil {
		return nil
	}
	dps, changed := cow(h.DataPoints, w.expHistogramPoint)
	if !changed {
		return h
	}
	return carry(&metricspb.ExponentialHistogram{DataPoints: dps, AggregationTemporality: h.AggregationTemporality}, h)
}

func (w *walker) summary(s *metricspb.Summary) *metricspb.Summary {
	if s == nil {
		return nil
	}
	dps, changed := cow(s.DataPoints, w.summaryPoint)
	if !changed {
		return s
	}
	return carry(&metricspb.Summary{DataPoints: dps}, s)
}

// The data points share their value oneofs, bucket slices and optional numbers with the
// originals: those are read-only and hold no text.

func (w *walker) numberPoint(p *metricspb.NumberDataPoint) *metricspb.NumberDataPoint {
	if p == nil {
		return nil
	}
	attrs, attrsChanged := w.attrs(p.Attributes, 0)
	exemplars, exChanged := cow(p.Exemplars, w.exemplar)
	if !attrsChanged && !exChanged {
		return p
	}
	return carry(&metricspb.NumberDataPoint{
		Attributes:        attrs,
		StartTimeUnixNano: p.StartTimeUnixNano,
		TimeUnixNano:      p.TimeUnixNano,
		Value:             p.Value,
		Exemplars:         exemplars,
		Flags:             p.Flags,
	}, p)
}

func (w *walker) histogramPoint(p *metricspb.HistogramDataPoint) *metricspb.HistogramDataPoint {
	if p == nil {
		return nil
	}
	attrs, attrsChanged := w.attrs(p.Attributes, 0)
	exemplars, exChanged := cow(p.Exemplars, w.exemplar)
	if !attrsChanged && !exChanged {
		return p
	}
	return carry(&metricspb.HistogramDataPoint{
		Attributes:        attrs,
		StartTimeUnixNano: p.StartTimeUnixNano,
		TimeUnixNano:      p.TimeUnixNano,
		Count:             p.Count,
		Sum:               p.Sum,
		BucketCounts:      p.BucketCounts,
		ExplicitBounds:    p.ExplicitBounds,
		Exemplars:         exemplars,
		Flags:             p.Flags,
		Min:               p.Min,
		Max:               p.Max,
	}, p)
}

func (w *walker) expHistogramPoint(p *metricspb.ExponentialHistogramDataPoint) *metricspb.ExponentialHistogramDataPoint {
	if p == nil {
		return nil
	}
	attrs, attrsChanged := w.attrs(p.Attributes, 0)
	exemplars, exChanged := cow(p.Exemplars, w.exemplar)
	if !attrsChanged && !exChanged {
		return p
	}
	return carry(&metricspb.ExponentialHistogramDataPoint{
		Attributes:        attrs,
		StartTimeUnixNano: p.StartTimeUnixNano,
		TimeUnixNano:      p.TimeUnixNano,
		Count:             p.Count,
		Sum:               p.Sum,
		Scale:             p.Scale,
		ZeroCount:         p.ZeroCount,
		Positive:          p.Positive,
		Negative:          p.Negative,
		Flags:             p.Flags,
		Exemplars:         exemplars,
		Min:               p.Min,
		Max:               p.Max,
		ZeroThreshold:     p.ZeroThreshold,
	}, p)
}

func (w *walker) summaryPoint(p *metricspb.SummaryDataPoint) *metricspb.SummaryDataPoint {
	if p == nil {
		return nil
	}
	attrs, changed := w.attrs(p.Attributes, 0)
	if !changed {
		return p
	}
	return carry(&metricspb.SummaryDataPoint{
		Attributes:        attrs,
		StartTimeUnixNano: p.StartTimeUnixNano,
		TimeUnixNano:      p.TimeUnixNano,
		Count:             p.Count,
		Sum:               p.Sum,
		QuantileValues:    p.QuantileValues,
		Flags:             p.Flags,
	}, p)
}

func (w *walker) exemplar(e *metricspb.Exemplar) *metricspb.Exemplar {
	if e == nil {
		return nil
	}
	attrs, changed := w.attrs(e.FilteredAttributes, 0)
	if !changed {
		return e
	}
	return carry(&metricspb.Exemplar{
		FilteredAttributes: attrs,
		TimeUnixNano:       e.TimeUnixNano,
		Value:              e.Value,
		SpanId:             e.SpanId,
		TraceId:            e.TraceId,
	}, e)
}
