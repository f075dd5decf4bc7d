package promsink

import (
	"crypto/sha256"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/attrkey"
)

// kind is the Prometheus type a metric is exported as.
type kind uint8

const (
	kindCounter   kind = iota + 1 // monotonic sums
	kindGauge                     // gauges and non-monotonic sums
	kindHistogram                 // explicit-bucket histograms, as _count and _sum
)

// family is one exported metric name with its series. Several OpenTelemetry metrics may land in
// one family when their names translate alike; they must be of the same kind.
type family struct {
	name   string
	help   string
	kind   kind
	descs  map[uint64]*prometheus.Desc // by the mask of labels present
	series map[string]*series          // by appendSeriesKey
}

// series is one exported time series: the sum over every source merged into it.
type series struct {
	desc    *prometheus.Desc
	values  []string  // the values of the labels present, in desc's order
	value   float64   // a counter's total, a gauge's value, a histogram's sum
	count   float64   // a histogram's count
	time    uint64    // a gauge's: the time of the point that set value
	created time.Time // when the sink started counting it
}

// metricID is a metric as it arrives; the family it maps to is cached under it.
type metricID struct {
	name, unit string
	kind       kind
}

// reason says why data points were not exported.
type reason uint8

const (
	reasonSeriesLimit reason = iota // MaxSeries series (or cumulative sources) exist already
	reasonUnsupported               // summaries and exponential histograms
	reasonInvalid                   // no value, NaN, a negative counter increment, no temporality, no name
	reasonConflict                  // the name is exported already as another type
	numReasons
)

// tally counts what one Write did not export, with one metric name per reason for the log.
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

// store is the sink's state: the exported families and the cumulative sources behind them.
// Its memory is bounded by maxSeries (series, sources and cached metric names) times the size
// of a series, which maxLabelValueBytes bounds. It is not safe for concurrent use.
type store struct {
	labels    []label
	maxSeries int
	nSeries   int
	families  map[string]*family
	byMetric  map[metricID]*family
	sources   *sources

	// Scratch space reused by every point.
	vals    []string
	key     []byte
	idBuf   []byte
	sortBuf []*commonpb.KeyValue
}

// sourceIdle is how long a cumulative source must have been quiet before it may be forgotten
// to make room: far longer than any export interval Claude Code is run with (60 s by default).
const sourceIdle = 15 * time.Minute

func newStore(labels []label, maxSeries int) *store {
	return &store{
		labels:    labels,
		maxSeries: maxSeries,
		families:  make(map[string]*family),
		byMetric:  make(map[metricID]*family),
		sources:   newSources(maxSeries, sourceIdle),
	}
}

// point is where a data point came from, for the labels and a source's identity.
type point struct {
	resource []*commonpb.KeyValue
	scope    *commonpb.InstrumentationScope
	metric   *metricspb.Metric
	attrs    []*commonpb.KeyValue
}

// apply folds every data point of req into the state, in O(points).
func (s *store) apply(req *colmetricspb.ExportMetricsServiceRequest, now time.Time) tally {
	var t tally
	for _, rm := range req.GetResourceMetrics() {
		res := rm.GetResource().GetAttributes()
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				s.metric(point{resource: res, scope: sm.GetScope(), metric: m}, now, &t)
			}
		}
	}
	return t
}

func (s *store) metric(p point, now time.Time, t *tally) {
	m := p.metric
	switch d := m.GetData().(type) {
	case *metricspb.Metric_Sum:
		k := kindGauge
		if d.Sum.GetIsMonotonic() {
			k = kindCounter
		}
		f, why := s.family(m, k)
		if f == nil {
			t.skip(why, m.GetName(), len(d.Sum.GetDataPoints()))
			return
		}
		temp := d.Sum.GetAggregationTemporality()
		for _, dp := range d.Sum.GetDataPoints() {
			p.attrs = dp.GetAttributes()
			s.sumPoint(f, p, temp, dp, now, t)
		}
	case *metricspb.Metric_Gauge:
		f, why := s.family(m, kindGauge)
		if f == nil {
			t.skip(why, m.GetName(), len(d.Gauge.GetDataPoints()))
			return
		}
		for _, dp := range d.Gauge.GetDataPoints() {
			p.attrs = dp.GetAttributes()
			s.gaugePoint(f, p, dp, now, t)
		}
	case *metricspb.Metric_Histogram:
		f, why := s.family(m, kindHistogram)
		if f == nil {
			t.skip(why, m.GetName(), len(d.Histogram.GetDataPoints()))
			return
		}
		temp := d.Histogram.GetAggregationTemporality()
		for _, dp := range d.Histogram.GetDataPoints() {
			p.attrs = dp.GetAttributes()
			s.histogramPoint(f, p, temp, dp, now, t)
		}
	default:
		t.skip(reasonUnsupported, m.GetName(), telemetry.DataPoints(m))
	}
}

// family finds the family a metric is exported in, or makes a new one, which is only kept
// once it has a series (and cached for the metric from the next request on). It returns nil
// and why when the metric cannot be exported.
func (s *store) family(m *metricspb.Metric, k kind) (*family, reason) {
	id := metricID{name: m.GetName(), unit: m.GetUnit(), kind: k}
	if f := s.byMetric[id]; f != nil {
		return f, 0
	}
	name := metricName(id.name, id.unit, k)
	if name == "" {
		return nil, reasonInvalid
	}
	if f := s.families[name]; f != nil {
		if f.kind != k {
			return nil, reasonConflict
		}
		s.remember(id, f)
		return f, 0
	}
	if s.collides(name, k) {
		return nil, reasonConflict
	}
	help := m.GetDescription()
	if help == "" {
		help = m.GetName()
	}
	return &family{
		name: name, help: help, kind: k,
		descs:  make(map[uint64]*prometheus.Desc),
		series: make(map[string]*series),
	}, 0
}

// remember caches a metric's family; the cache is bounded like the rest of the state, and a
// metric left out of it is merely looked up again.
func (s *store) remember(id metricID, f *family) {
	if len(s.byMetric) < s.maxSeries {
		s.byMetric[id] = f
	}
}

// collides reports whether a new family would clash with the _count, _sum and _bucket series
// of a histogram in the exposition.
func (s *store) collides(name string, k kind) bool {
	if k == kindHistogram {
		for _, suffix := range []string{"_count", "_sum", "_bucket"} {
			if s.families[name+suffix] != nil {
				return true
			}
		}
	}
	for _, suffix := range []string{"_count", "_sum", "_bucket"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f := s.families[base]; f != nil && f.kind == kindHistogram {
				return true
			}
		}
	}
	return false
}

// find looks up the series a point belongs to, leaving its label values and key in the scratch
// space for newSeries. It returns nil if the series does not exist yet.
func (s *store) find(f *family, p point) (*series, uint64) {
	var mask uint64
	s.vals, mask = labelValues(s.labels, p.attrs, p.resource, s.vals[:0])
	s.key = appendSeriesKey(s.key[:0], mask, s.vals)
	return f.series[string(s.key)], mask
}

func (s *store) full() bool { return s.nSeries >= s.maxSeries }

// orNew returns ser, or, when find found none, a new series for the point of metric name; nil
// (and the point counted) when the store is full.
func (s *store) orNew(ser *series, f *family, mask uint64, now time.Time, t *tally, name string) *series {
	if ser != nil {
		return ser
	}
	if s.full() {
		t.skip(reasonSeriesLimit, name, 1)
		return nil
	}
	return s.newSeries(f, mask, now)
}

// newSeries adds the series find did not find; the caller has checked full.
func (s *store) newSeries(f *family, mask uint64, now time.Time) *series {
	desc := f.descs[mask]
	if desc == nil {
		var names []string
		for i, l := range s.labels {
			if mask&(1<<i) != 0 {
				names = append(names, l.name)
			}
		}
		desc = prometheus.NewDesc(f.name, f.help, names, nil)
		f.descs[mask] = desc
	}
	if len(f.series) == 0 {
		s.families[f.name] = f
	}
	ser := &series{desc: desc, values: slices.Clone(s.vals), created: now}
	f.series[string(s.key)] = ser
	s.nSeries++
	return ser
}

func (s *store) sumPoint(f *family, p point, temp metricspb.AggregationTemporality, dp *metricspb.NumberDataPoint, now time.Time, t *tally) {
	if noValue(dp.GetFlags()) {
		return
	}
	name := p.metric.GetName()
	v, ok := number(dp)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) || f.kind == kindCounter && v < 0 {
		t.skip(reasonInvalid, name, 1)
		return
	}
	ser, mask := s.find(f, p)
	switch temp {
	case metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA:
		if ser = s.orNew(ser, f, mask, now, t, name); ser == nil {
			return
		}
		ser.value += v
	case metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE:
		src, ok := s.source(p, f.kind, ser == nil, dp.GetStartTimeUnixNano(), dp.GetTimeUnixNano(), now, t)
		if !ok {
			return
		}
		inc := v - src.value
		if f.kind == kindCounter && (dp.GetStartTimeUnixNano() != src.start || v < src.value) {
			// The source restarted: what it reports now was all counted since.
			inc = v
		}
		src.start, src.time, src.value = dp.GetStartTimeUnixNano(), dp.GetTimeUnixNano(), v
		if ser == nil {
			ser = s.newSeries(f, mask, now)
		}
		ser.value += inc
	default:
		t.skip(reasonInvalid, name, 1)
	}
}

func (s *store) gaugePoint(f *family, p point, dp *metricspb.NumberDataPoint, now time.Time, t *tally) {
	if noValue(dp.GetFlags()) {
		return
	}
	v, ok := number(dp)
	if !ok {
		t.skip(reasonInvalid, p.metric.GetName(), 1)
		return
	}
	ser, mask := s.find(f, p)
	if ser = s.orNew(ser, f, mask, now, t, p.metric.GetName()); ser == nil {
		return
	}
	// Merged sources report in any order: the latest point wins, not the last to arrive.
	if dp.GetTimeUnixNano() >= ser.time {
		ser.value, ser.time = v, dp.GetTimeUnixNano()
	}
}

func (s *store) histogramPoint(f *family, p point, temp metricspb.AggregationTemporality, dp *metricspb.HistogramDataPoint, now time.Time, t *tally) {
	if noValue(dp.GetFlags()) {
		return
	}
	name := p.metric.GetName()
	count, sum := float64(dp.GetCount()), dp.GetSum()
	if math.IsNaN(sum) || math.IsInf(sum, 0) {
		t.skip(reasonInvalid, name, 1)
		return
	}
	ser, mask := s.find(f, p)
	switch temp {
	case metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA:
		if ser = s.orNew(ser, f, mask, now, t, name); ser == nil {
			return
		}
		ser.count += count
		ser.value += sum
	case metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE:
		src, ok := s.source(p, f.kind, ser == nil, dp.GetStartTimeUnixNano(), dp.GetTimeUnixNano(), now, t)
		if !ok {
			return
		}
		incCount, incSum := count-src.value, sum-src.sum
		if dp.GetStartTimeUnixNano() != src.start || count < src.value {
			incCount, incSum = count, sum
		}
		src.start, src.time, src.value, src.sum = dp.GetStartTimeUnixNano(), dp.GetTimeUnixNano(), count, sum
		if ser == nil {
			ser = s.newSeries(f, mask, now)
		}
		ser.count += incCount
		ser.value += incSum
	default:
		t.skip(reasonInvalid, name, 1)
	}
}

// source finds or adds the source of a cumulative point. It returns false when the point is
// not to be applied: it is older than the source's latest point or from before its last
// restart (a late export), or there is no room for the source or for the new series it needs
// (counted in t).
func (s *store) source(p point, k kind, newSeries bool, start, at uint64, now time.Time, t *tally) (*source, bool) {
	id := s.sourceID(p, k)
	src := s.sources.get(id)
	if src != nil && (start < src.start || start == src.start && at < src.time) {
		return nil, false
	}
	if newSeries && s.full() {
		t.skip(reasonSeriesLimit, p.metric.GetName(), 1)
		return nil, false
	}
	if src == nil {
		if !s.sources.room(now) {
			t.skip(reasonSeriesLimit, p.metric.GetName(), 1)
			return nil, false
		}
		return s.sources.add(id, now), true
	}
	s.sources.touch(src, now)
	return src, true
}

// sourceID identifies a cumulative series the way its sender does: resource, scope, metric
// and every attribute of the point, whatever the sink keeps as labels.
func (s *store) sourceID(p point, k kind) sourceID {
	b := attrkey.AppendAttrs(s.idBuf[:0], p.resource, &s.sortBuf)
	b = attrkey.AppendString(b, p.scope.GetName())
	b = attrkey.AppendString(b, p.scope.GetVersion())
	b = attrkey.AppendString(b, p.metric.GetName())
	b = append(b, byte(k))
	b = attrkey.AppendAttrs(b, p.attrs, &s.sortBuf)
	s.idBuf = b
	return sha256.Sum256(b)
}

// number returns a data point's value, whichever way it was sent.
func number(dp *metricspb.NumberDataPoint) (float64, bool) {
	switch v := dp.GetValue().(type) {
	case *metricspb.NumberDataPoint_AsDouble:
		return v.AsDouble, true
	case *metricspb.NumberDataPoint_AsInt:
		return float64(v.AsInt), true
	}
	return 0, false
}

// noValue reports the flag a sender sets on a point that only marks a series as gone.
func noValue(flags uint32) bool {
	return flags&uint32(metricspb.DataPointFlags_DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK) != 0
}
