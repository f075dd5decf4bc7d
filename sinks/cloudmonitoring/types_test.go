package cloudmonitoring

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	metricpb "google.golang.org/genproto/googleapis/api/metric"
)

var svc = map[string]string{"service_name": "claude-code"}

// Each OpenTelemetry type is written as the kind and value type Cloud Monitoring takes for it;
// sources merged by a dropped label are summed.
func TestKinds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{DropLabels: []string{"pid"}})
	base := time.Now().Add(-time.Minute)
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	e.write(t, request(
		sum("a.ints", deltaT, true, intDP(2, at(0), at(1))),
		sum("a.updown", deltaT, false, dp(5, at(0), at(1)), dp(-2, at(1), at(2))),
		sum("a.level", cumulativeT, false, dp(7, at(0), at(1), "pid", "1"), dp(3, at(0), at(1), "pid", "2")),
		gauge("a.gauge", dp(0.5, at(1), at(1), "pid", "1"), dp(0.25, at(1), at(1), "pid", "2")),
	))
	e.write(t, request(
		sum("a.ints", deltaT, true, intDP(3, at(1), at(2))),
		sum("a.level", cumulativeT, false, dp(1, at(0), at(2), "pid", "1")),
		gauge("a.gauge", dp(0.75, at(2), at(2), "pid", "1"), dp(9, at(0), at(0), "pid", "2")), // pid 2: older, ignored
	))
	e.noViolations(t)
	cases := []struct {
		typ  string
		kind metricpb.MetricDescriptor_MetricKind
		vt   metricpb.MetricDescriptor_ValueType
		want float64
	}{
		{"workload.googleapis.com/a/ints", metricpb.MetricDescriptor_CUMULATIVE, metricpb.MetricDescriptor_INT64, 5},
		{"workload.googleapis.com/a/updown", metricpb.MetricDescriptor_GAUGE, metricpb.MetricDescriptor_DOUBLE, 3},
		{"workload.googleapis.com/a/level", metricpb.MetricDescriptor_GAUGE, metricpb.MetricDescriptor_DOUBLE, 4},
		{"workload.googleapis.com/a/gauge", metricpb.MetricDescriptor_GAUGE, metricpb.MetricDescriptor_DOUBLE, 1},
	}
	for _, c := range cases {
		ts := e.latest(t, c.typ, svc)
		if ts.GetMetricKind() != c.kind || ts.GetValueType() != c.vt {
			t.Errorf("%s written as %v %v; want %v %v", c.typ, ts.GetMetricKind(), ts.GetValueType(), c.kind, c.vt)
		}
		if v := number(ts); v != c.want {
			t.Errorf("%s = %v; want %v", c.typ, v, c.want)
		}
		iv := ts.GetPoints()[0].GetInterval()
		if c.kind == metricpb.MetricDescriptor_GAUGE && iv.GetStartTime() != nil && !iv.GetStartTime().AsTime().Equal(iv.GetEndTime().AsTime()) {
			t.Errorf("%s: a gauge point with an interval", c.typ)
		}
	}
}

func histogram(name string, temp metricspb.AggregationTemporality, dps ...*metricspb.HistogramDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Name: name, Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{
		AggregationTemporality: temp, DataPoints: dps,
	}}}
}

func hdp(start, at time.Time, sum float64, bounds []float64, counts ...uint64) *metricspb.HistogramDataPoint {
	var n uint64
	for _, c := range counts {
		n += c
	}
	return &metricspb.HistogramDataPoint{
		StartTimeUnixNano: uint64(start.UnixNano()), TimeUnixNano: uint64(at.UnixNano()),
		Count: n, Sum: &sum, ExplicitBounds: bounds, BucketCounts: counts,
	}
}

// Histograms become CUMULATIVE distributions: DELTA points accumulated bucket by bucket,
// cumulative ones passed through; a point with other bounds, malformed buckets, exponential
// histograms and summaries are counted as dropped.
func TestHistograms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	base := time.Now().Add(-time.Minute)
	b := []float64{10, 100}
	e.write(t, request(
		histogram("h.delta", deltaT, hdp(base, base.Add(time.Second), 60, b, 1, 1, 0)),
		histogram("h.cum", cumulativeT, hdp(base, base.Add(time.Second), 5, b, 1, 0, 0)),
	))
	e.write(t, request(
		histogram("h.delta", deltaT,
			hdp(base.Add(time.Second), base.Add(2*time.Second), 240, b, 0, 1, 1),
			hdp(base.Add(time.Second), base.Add(2*time.Second), 1, []float64{1}, 1, 0), // other bounds
		),
		histogram("h.cum", cumulativeT, hdp(base, base.Add(2*time.Second), 25, b, 2, 1, 0)),
		histogram("h.bad", deltaT, &metricspb.HistogramDataPoint{Count: 3, BucketCounts: []uint64{1, 1}, ExplicitBounds: []float64{1}}),
		&metricspb.Metric{Name: "h.exp", Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &metricspb.ExponentialHistogram{
			DataPoints: []*metricspb.ExponentialHistogramDataPoint{{Count: 1}, {Count: 2}},
		}}},
		&metricspb.Metric{Name: "h.summary", Data: &metricspb.Metric_Summary{Summary: &metricspb.Summary{
			DataPoints: []*metricspb.SummaryDataPoint{{Count: 1}},
		}}},
	))
	e.noViolations(t)
	cases := []struct {
		typ    string
		count  int64
		mean   float64
		counts []int64
	}{
		{"workload.googleapis.com/h/delta", 4, 75, []int64{1, 2, 1}},
		{"workload.googleapis.com/h/cum", 3, 25.0 / 3, []int64{2, 1, 0}},
	}
	for _, c := range cases {
		ts := e.latest(t, c.typ, svc)
		if ts.GetMetricKind() != metricpb.MetricDescriptor_CUMULATIVE || ts.GetValueType() != metricpb.MetricDescriptor_DISTRIBUTION {
			t.Errorf("%s written as %v %v; want CUMULATIVE DISTRIBUTION", c.typ, ts.GetMetricKind(), ts.GetValueType())
		}
		d := ts.GetPoints()[0].GetValue().GetDistributionValue()
		if d.GetCount() != c.count || !near(d.GetMean(), c.mean) || !slices.Equal(d.GetBucketCounts(), c.counts) ||
			!slices.Equal(d.GetBucketOptions().GetExplicitBuckets().GetBounds(), b) {
			t.Errorf("%s = %v; want count %d, mean %v, buckets %v over %v", c.typ, d, c.count, c.mean, c.counts, b)
		}
	}
	dropped := func(reason string) float64 {
		return testutil.ToFloat64(e.m.DroppedRecords.WithLabelValues("gcm", "metrics", reason))
	}
	if got := dropped("unsupported"); got != 3 {
		t.Errorf("DroppedRecords{unsupported} = %v; want 3 (two exponential histogram points, one summary point)", got)
	}
	if got := dropped("conflict"); got != 1 {
		t.Errorf("DroppedRecords{conflict} = %v; want 1 (the point with other bounds)", got)
	}
	if got := dropped("invalid"); got != 1 {
		t.Errorf("DroppedRecords{invalid} = %v; want 1 (the malformed buckets)", got)
	}
}

// Points that cannot be written are counted by reason, and the rest of the request is written.
func TestInvalidPointsDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	at := time.Now()
	e.write(t, request(
		sum("c.counter", deltaT, true, dp(-1, at, at), dp(2, at, at, "k", "v")), // a monotonic sum cannot go down
		sum("c.nan", deltaT, true, dp(nan(), at, at)),
		sum("c.notemp", metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_UNSPECIFIED, true, dp(1, at, at)),
		sum("...", deltaT, true, dp(1, at, at)),
		gauge("c.counter", dp(1, at, at)), // the type is a counter already
	))
	e.noViolations(t)
	if got := testutil.ToFloat64(e.m.DroppedRecords.WithLabelValues("gcm", "metrics", "invalid")); got != 4 {
		t.Errorf("DroppedRecords{invalid} = %v; want 4", got)
	}
	if got := testutil.ToFloat64(e.m.DroppedRecords.WithLabelValues("gcm", "metrics", "conflict")); got != 1 {
		t.Errorf("DroppedRecords{conflict} = %v; want 1", got)
	}
	labels := map[string]string{"k": "v", "service_name": "claude-code"}
	if v := number(e.latest(t, "workload.googleapis.com/c/counter", labels)); v != 2 {
		t.Errorf("c.counter{k=v} = %v; want 2", v)
	}
	if n := len(e.fake.Series()); n != 1 {
		t.Errorf("%d series written; want 1", n)
	}
	if lines := e.log.Lines("invalid data points not written"); len(lines) != 1 {
		t.Errorf("log lines about invalid points: %q; want 1", lines)
	}
}
