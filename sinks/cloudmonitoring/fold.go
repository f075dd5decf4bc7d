package cloudmonitoring

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"slices"
	"time"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	metricpb "google.golang.org/genproto/googleapis/api/metric"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/attrkey"
)

const (
	delta      = metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA
	cumulative = metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
)

// maxSeries bounds the series the writer keeps state for (and the metric types it knows):
// points that would need more are dropped and counted. A developer's machine with session.id
// dropped writes a few hundred.
const maxSeries = 20000

// reason says why data points were not written.
type reason uint8

const (
	reasonUnsupported reason = iota // summaries and exponential histograms
	reasonInvalid                   // no value, NaN, a monotonic sum going down, no temporality, no usable name, bad buckets
	reasonConflict                  // the metric type is written as another kind, or a histogram's bounds changed
	reasonSeriesLimit               // maxSeries series exist already
	numReasons
)

// reasonNames are the reasons as DroppedRecords labels them.
var reasonNames = [numReasons]string{"unsupported", "invalid", "conflict", "series_limit"}

// tally counts what one Write did not write, with one metric name per reason for the log.
type tally struct {
	points [numReasons]int
	metric [numReasons]string
}

func (t *tally) skip(r reason, metric string, n int) {
	if n == 0 {
		return
	}
	t.points[r] += n
	if t.metric[r] == "" {
		t.metric[r] = metric
	}
}

// batch is what one Write folds: clones of the series its points touch, in the order they
// were first touched. The committed state is left alone until a series is written.
type batch struct {
	w       *Writer
	now     time.Time
	nowNs   uint64
	skip    map[string]struct{} // series written for this request by an earlier attempt
	pending map[string]*series
	touched []*series
	created int
	tally   tally

	key    []byte // scratch: the series key of the current point
	idBase []byte // scratch: the source identity up to the metric
	id     []byte // scratch: the source identity of the current point
	sorted []*commonpb.KeyValue
}

// fold folds every data point of req, but those of the series in skip, into clones of the
// series they belong to.
func (w *Writer) fold(req *colmetricspb.ExportMetricsServiceRequest, skip map[string]struct{}, now time.Time) *batch {
	b := &batch{
		w:       w,
		now:     now,
		nowNs:   uint64(now.UnixNano()),
		skip:    skip,
		pending: map[string]*series{},
	}
	for _, rm := range req.GetResourceMetrics() {
		res := w.labels.resource(rm.GetResource().GetAttributes())
		for _, sm := range rm.GetScopeMetrics() {
			base := attrkey.AppendAttrs(b.idBase[:0], rm.GetResource().GetAttributes(), &b.sorted)
			base = attrkey.AppendString(base, sm.GetScope().GetName())
			base = attrkey.AppendString(base, sm.GetScope().GetVersion())
			for _, m := range sm.GetMetrics() {
				b.idBase = attrkey.AppendString(base, m.GetName())
				b.metric(m, &res)
			}
			b.idBase = base
		}
	}
	clear(b.sorted)
	return b
}

// point is the part of a data point every kind shares.
type point struct {
	attrs []*commonpb.KeyValue
	start uint64 // as sent
	time  uint64 // as sent
	flags uint32
}

func (b *batch) metric(m *metricspb.Metric, res *resourceLabels) {
	info, why := b.w.metricInfo(m)
	if info == nil {
		b.tally.skip(why, m.GetName(), telemetry.DataPoints(m))
		return
	}
	switch d := m.GetData().(type) {
	case *metricspb.Metric_Sum:
		temp := d.Sum.GetAggregationTemporality()
		for _, dp := range d.Sum.GetDataPoints() {
			p := point{attrs: dp.GetAttributes(), start: dp.GetStartTimeUnixNano(), time: dp.GetTimeUnixNano(), flags: dp.GetFlags()}
			b.number(info, res, p, temp, dp)
		}
	case *metricspb.Metric_Gauge:
		for _, dp := range d.Gauge.GetDataPoints() {
			p := point{attrs: dp.GetAttributes(), start: dp.GetStartTimeUnixNano(), time: dp.GetTimeUnixNano(), flags: dp.GetFlags()}
			b.number(info, res, p, metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_UNSPECIFIED, dp)
		}
	case *metricspb.Metric_Histogram:
		temp := d.Histogram.GetAggregationTemporality()
		for _, dp := range d.Histogram.GetDataPoints() {
			p := point{attrs: dp.GetAttributes(), start: dp.GetStartTimeUnixNano(), time: dp.GetTimeUnixNano(), flags: dp.GetFlags()}
			b.histogram(info, res, p, temp, dp)
		}
	}
}

func (b *batch) number(info *metricInfo, res *resourceLabels, p point, temp metricspb.AggregationTemporality, dp *metricspb.NumberDataPoint) {
	if noValue(p.flags) {
		return
	}
	name := info.typ
	var v float64
	switch x := dp.GetValue().(type) {
	case *metricspb.NumberDataPoint_AsDouble:
		v = x.AsDouble
	case *metricspb.NumberDataPoint_AsInt:
		v = float64(x.AsInt)
	default:
		b.tally.skip(reasonInvalid, name, 1)
		return
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		b.tally.skip(reasonInvalid, name, 1)
		return
	}
	switch {
	case info.kind == kindGauge:
	case temp == delta:
		if info.kind == kindCounter && v < 0 {
			b.tally.skip(reasonInvalid, name, 1)
			return
		}
	case temp != cumulative:
		b.tally.skip(reasonInvalid, name, 1)
		return
	}
	s := b.series(info, res, p.attrs, nil)
	if s == nil {
		return
	}
	start, t := b.times(p)
	if info.kind != kindGauge && temp == delta {
		s.addDelta(v)
	} else if !s.setLatest(b.sourceID(info, p), t, v, nil, b.now) {
		return
	}
	b.touch(s, start, t)
}

func (b *batch) histogram(info *metricInfo, res *resourceLabels, p point, temp metricspb.AggregationTemporality, dp *metricspb.HistogramDataPoint) {
	if noValue(p.flags) {
		return
	}
	d, bounds, ok := histogramValue(dp)
	if !ok || (temp != delta && temp != cumulative) {
		b.tally.skip(reasonInvalid, info.typ, 1)
		return
	}
	s := b.series(info, res, p.attrs, bounds)
	if s == nil {
		return
	}
	if !slices.Equal(s.bounds, bounds) {
		b.tally.skip(reasonConflict, info.typ, 1)
		return
	}
	start, t := b.times(p)
	if temp == delta {
		s.addDeltaDist(d)
	} else if !s.setLatest(b.sourceID(info, p), t, 0, d, b.now) {
		return
	}
	b.touch(s, start, t)
}

// histogramValue reads an explicit-bucket histogram point, refusing malformed buckets.
func histogramValue(dp *metricspb.HistogramDataPoint) (*dist, []float64, bool) {
	d := &dist{count: dp.GetCount(), sum: dp.GetSum()}
	if math.IsNaN(d.sum) || math.IsInf(d.sum, 0) {
		return nil, nil, false
	}
	counts, bounds := dp.GetBucketCounts(), dp.GetExplicitBounds()
	if len(counts) == 0 {
		return d, nil, true
	}
	if len(counts) != len(bounds)+1 {
		return nil, nil, false
	}
	for i, x := range bounds {
		if math.IsNaN(x) || math.IsInf(x, 0) || i > 0 && x <= bounds[i-1] {
			return nil, nil, false
		}
	}
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total != d.count {
		return nil, nil, false
	}
	d.counts = append([]uint64(nil), counts...)
	return d, bounds, true
}

// times are a point's start and time as the series uses them. A point time in the future (a
// client clock ahead of the gateway's) is taken as now, and a start before the writer
// started as its start: a gateway restarted loses its totals, and its series then start
// again after everything the previous run wrote, which Cloud Monitoring takes as a reset.
func (b *batch) times(p point) (start, t uint64) {
	t = p.time
	if t == 0 || t > b.nowNs {
		t = b.nowNs
	}
	start = p.start
	if start == 0 || start > t {
		start = t
	}
	return max(start, b.w.startedNs), t
}

func (b *batch) touch(s *series, start, t uint64) {
	s.observe(start, t)
	if !s.touched {
		s.touched = true
		b.touched = append(b.touched, s)
	}
}

// series finds the series a point belongs to, as a clone this batch may change, or makes a
// new one. It returns nil (and counts why) when the point's series is not to be folded: one
// written for this request by an earlier attempt, or one past maxSeries.
func (b *batch) series(info *metricInfo, res *resourceLabels, attrs []*commonpb.KeyValue, bounds []float64) *series {
	labels := b.w.labels.point(attrs, res, info.typ)
	k := attrkey.AppendString(b.key[:0], info.typ)
	for _, l := range labels {
		k = attrkey.AppendString(attrkey.AppendString(k, l.key), l.value)
	}
	b.key = k
	if _, ok := b.skip[string(k)]; ok {
		return nil
	}
	if s := b.pending[string(k)]; s != nil {
		return s
	}
	if c := b.w.series[string(k)]; c != nil {
		s := c.clone()
		b.pending[s.key] = s
		return s
	}
	if len(b.w.series)+b.created >= maxSeries {
		b.tally.skip(reasonSeriesLimit, info.typ, 1)
		return nil
	}
	b.created++
	s := &series{
		key:       string(k),
		metric:    info,
		labels:    make(map[string]string, len(labels)),
		bounds:    bounds,
		lastEnd:   b.w.startedNs,
		lastWrite: b.w.started,
	}
	for _, l := range labels {
		s.labels[l.key] = l.value
	}
	b.pending[s.key] = s
	return s
}

// sourceID identifies the source of a point: its resource, scope and metric (in b.idBase),
// its attributes, and for a cumulative kind its start time, so that a sender's restart is a
// new source and what the old one counted stays in the total.
func (b *batch) sourceID(info *metricInfo, p point) sourceID {
	id := attrkey.AppendAttrs(append(b.id[:0], b.idBase...), p.attrs, &b.sorted)
	id = append(id, byte(info.kind))
	if info.kind.cumulative() {
		id = binary.BigEndian.AppendUint64(id, p.start)
	}
	b.id = id
	return sha256.Sum256(id)
}

// noValue reports the flag a sender sets on a point that only marks a series as gone.
func noValue(flags uint32) bool {
	return flags&uint32(metricspb.DataPointFlags_DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK) != 0
}

// metricID is a metric as it arrives; what the writer decided for it is cached under it.
type metricID struct {
	name string
	kind kind
}

// metricInfo returns what the writer decided for a metric, deciding on its first sight. It
// returns nil and why when the metric is not written.
func (w *Writer) metricInfo(m *metricspb.Metric) (*metricInfo, reason) {
	k := kindOf(m)
	if k == 0 {
		return nil, reasonUnsupported
	}
	id := metricID{name: m.GetName(), kind: k}
	if info := w.byName[id]; info != nil {
		return info, 0
	}
	typ := metricType(w.prefix, m.GetName())
	if typ == "" {
		return nil, reasonInvalid
	}
	info := w.byType[typ]
	switch {
	case info != nil && info.kind != k:
		return nil, reasonConflict
	case info == nil && len(w.byType) >= maxSeries:
		return nil, reasonSeriesLimit
	case info == nil:
		info = &metricInfo{typ: typ, kind: k, valueType: valueType(m, k), description: m.GetDescription()}
		w.byType[typ] = info
	}
	if len(w.byName) < maxSeries {
		w.byName[id] = info
	}
	return info, 0
}

// kindOf is how a metric is written; 0 for the types that are not (summaries, and exponential
// histograms: see the package documentation).
func kindOf(m *metricspb.Metric) kind {
	switch d := m.GetData().(type) {
	case *metricspb.Metric_Sum:
		if d.Sum.GetIsMonotonic() {
			return kindCounter
		}
		return kindUpDown
	case *metricspb.Metric_Gauge:
		return kindGauge
	case *metricspb.Metric_Histogram:
		return kindHistogram
	}
	return 0
}

// valueType is INT64 for a sum or gauge whose points are all integers where the metric is
// first seen, DOUBLE otherwise, and DISTRIBUTION for a histogram.
func valueType(m *metricspb.Metric, k kind) metricpb.MetricDescriptor_ValueType {
	if k == kindHistogram {
		return metricpb.MetricDescriptor_DISTRIBUTION
	}
	var dps []*metricspb.NumberDataPoint
	if k == kindGauge {
		dps = m.GetGauge().GetDataPoints()
	} else {
		dps = m.GetSum().GetDataPoints()
	}
	for _, dp := range dps {
		if _, ok := dp.GetValue().(*metricspb.NumberDataPoint_AsInt); !ok {
			return metricpb.MetricDescriptor_DOUBLE
		}
	}
	if len(dps) == 0 {
		return metricpb.MetricDescriptor_DOUBLE
	}
	return metricpb.MetricDescriptor_INT64
}
