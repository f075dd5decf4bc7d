package cloudmonitoring

import (
	"crypto/sha256"
	"time"

	metricpb "google.golang.org/genproto/googleapis/api/metric"
)

// kind is how an OpenTelemetry metric is written to Cloud Monitoring.
type kind uint8

const (
	kindCounter   kind = iota + 1 // monotonic sums: CUMULATIVE running totals
	kindUpDown                    // non-monotonic sums: GAUGE of the total
	kindGauge                     // gauges: GAUGE of the latest values
	kindHistogram                 // explicit-bucket histograms: CUMULATIVE DISTRIBUTION
)

// cumulative reports whether the kind is written as CUMULATIVE: its value never goes down,
// and what a source counted stays in the total after the source is gone.
func (k kind) cumulative() bool { return k == kindCounter || k == kindHistogram }

// metricInfo is what the writer decided for a metric type when it first saw it. Cloud
// Monitoring creates the metric's descriptor from its first write and refuses later points of
// another kind or value type, so the decision is kept for every series of the type.
type metricInfo struct {
	typ         string
	kind        kind
	valueType   metricpb.MetricDescriptor_ValueType
	description string
}

// dist is a histogram's value: its count, sum and bucket counts over the series' bounds.
type dist struct {
	count  uint64
	sum    float64
	counts []uint64 // len(bounds)+1, or nil for a histogram without buckets
}

func (d *dist) add(o *dist) {
	if o == nil {
		return
	}
	d.count += o.count
	d.sum += o.sum
	if d.counts == nil && o.counts != nil {
		d.counts = make([]uint64, len(o.counts))
	}
	for i, c := range o.counts {
		d.counts[i] += c
	}
}

func (d *dist) clone() *dist {
	if d == nil {
		return nil
	}
	c := *d
	c.counts = append([]uint64(nil), d.counts...)
	return &c
}

// sourceID identifies a source: a digest of its resource, scope, metric and every attribute
// of its points (the dropped ones too), and for a cumulative kind its start time, so that a
// source costs the same memory whatever it carries.
//
// With the start time in it, a sender's restart is a new source, and the old one's last value
// stays in the series' total (until it goes quiet, then in acc). Taking it out would make the
// written cumulative go down, which Cloud Monitoring can only be told as a reset (a new start
// time, every count before it gone from rates and sums over the series), when the counts did
// happen and other sources of the series never restarted.
type sourceID [sha256.Size]byte

// A source is one series as its sender sees it, before labels are dropped, for a CUMULATIVE
// sum or histogram or a gauge: its latest point. (DELTA points need no source: they are added
// to the series' total as they come.)
type source struct {
	time  uint64 // of its latest point, unix nanoseconds
	value float64
	dist  *dist
	seen  time.Time // when a point of it was last folded in
}

// series is one written time series and the state its value is computed from. A Write folds
// points into a clone of it (see batch) and the clone replaces it once written.
type series struct {
	key    string
	metric *metricInfo
	labels map[string]string // read-only once made: shared by every request that writes it
	bounds []float64         // a histogram's explicit bounds, fixed by its first point

	// start is the start time of its CUMULATIVE points, unix nanoseconds: the earliest start
	// among the points of its first write, but not before the writer started (see fold). It
	// never changes afterwards: the value never goes down, so there is no reset to announce.
	start  uint64
	latest uint64 // the latest point time folded in

	// acc is the running total of DELTA points, plus what cumulative sources counted before
	// they went quiet and were forgotten; accDist is the same for a histogram.
	acc     float64
	accDist *dist
	sources map[sourceID]*source

	lastEnd   uint64    // end time of the last point written (before that: the writer's start)
	lastWrite time.Time // when it was last sent (before that: the writer's start)
	written   bool      // it has been sent at least once: start is fixed
	touched   bool      // the current Write folded a point into it
}

// maxSourcesPerSeries bounds the sources behind one series. A cumulative source reports at
// every export interval while its process runs; when more than this many are live at once,
// the least recently seen is forgotten (its count kept in the total).
const maxSourcesPerSeries = 1000

// sourceIdle is how long a source must be quiet before it is forgotten: far longer than any
// export interval Claude Code runs with (60 s by default), so a quiet source is a process
// that has ended. A forgotten cumulative source's count stays in the total; a gauge's value
// leaves it.
const sourceIdle = 15 * time.Minute

func (s *series) clone() *series {
	c := *s
	c.accDist = s.accDist.clone()
	if s.sources != nil {
		c.sources = make(map[sourceID]*source, len(s.sources))
		for id, src := range s.sources {
			cp := *src
			cp.dist = src.dist.clone()
			c.sources[id] = &cp
		}
	}
	return &c
}

// observe notes a folded point's times: start (already clamped, see fold) counts until the
// series is first written.
func (s *series) observe(start, t uint64) {
	if !s.written && (s.start == 0 || start < s.start) {
		s.start = start
	}
	s.latest = max(s.latest, t)
}

// addDelta folds a DELTA sum point.
func (s *series) addDelta(v float64) { s.acc += v }

// addDeltaDist folds a DELTA histogram point.
func (s *series) addDeltaDist(d *dist) {
	if s.accDist == nil {
		s.accDist = &dist{}
	}
	s.accDist.add(d)
}

// setLatest folds a point of a source that reports its whole value each time (a CUMULATIVE
// sum or histogram, a gauge). A point not newer than the source's latest is ignored, which
// makes a client's retry or a replay harmless; it reports whether the point was taken.
func (s *series) setLatest(id sourceID, t uint64, v float64, d *dist, now time.Time) bool {
	src := s.sources[id]
	switch {
	case src != nil && t <= src.time:
		return false
	case src == nil:
		if s.sources == nil {
			s.sources = map[sourceID]*source{}
		}
		if len(s.sources) >= maxSourcesPerSeries {
			s.forgetOldest()
		}
		src = &source{}
		s.sources[id] = src
	case s.metric.kind.cumulative() && lower(v, d, src):
		// A counter that went down without a new start time has restarted all the same:
		// what it had counted stays in the total.
		s.retire(src)
	}
	src.time, src.value, src.dist, src.seen = t, v, d, now
	return true
}

func lower(v float64, d *dist, src *source) bool {
	if d != nil {
		return src.dist != nil && d.count < src.dist.count
	}
	return v < src.value
}

// retire moves what a cumulative source counted into the series' own total.
func (s *series) retire(src *source) {
	if !s.metric.kind.cumulative() {
		return
	}
	if src.dist != nil {
		s.addDeltaDist(src.dist)
		return
	}
	s.acc += src.value
}

func (s *series) forgetOldest() {
	var oldest sourceID
	var at time.Time
	first := true
	for id, src := range s.sources {
		if first || src.seen.Before(at) {
			oldest, at, first = id, src.seen, false
		}
	}
	if !first {
		s.retire(s.sources[oldest])
		delete(s.sources, oldest)
	}
}

// expire forgets the sources quiet since before cutoff.
func (s *series) expire(cutoff time.Time) {
	for id, src := range s.sources {
		if src.seen.Before(cutoff) {
			s.retire(src)
			delete(s.sources, id)
		}
	}
}

// value is a number series' value: the sum over its sources.
func (s *series) value() float64 {
	v := s.acc
	for _, src := range s.sources {
		v += src.value
	}
	return v
}

// distValue is a histogram series' value: the sum over its sources.
func (s *series) distValue() *dist {
	d := s.accDist.clone()
	if d == nil {
		d = &dist{}
	}
	for _, src := range s.sources {
		d.add(src.dist)
	}
	if d.counts == nil && s.bounds != nil {
		d.counts = make([]uint64, len(s.bounds)+1)
	}
	return d
}

// endTime is the end time of the series' next point: its latest point's time, but later than
// its start (Cloud Monitoring refuses a CUMULATIVE point whose interval is empty) and at least
// minInterval after the last point written (it refuses points closer together than its
// sampling period, measured between end times).
func (s *series) endTime(minInterval time.Duration) uint64 {
	end := max(s.latest, s.lastEnd+uint64(minInterval))
	if s.metric.kind.cumulative() {
		end = max(end, s.start+uint64(time.Millisecond))
	}
	return end
}
