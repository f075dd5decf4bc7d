package cloudmonitoring

import (
	"testing"
	"time"

	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

// src is a data point of one source of claude_code.cost.usage: its session, temporality,
// value, and start and time as offsets from a base time.
type src struct {
	session     string
	temp        metricspb.AggregationTemporality
	v           float64
	start, time time.Duration
}

const costType = "workload.googleapis.com/claude_code/cost/usage"

// costRequest is one request of claude_code.cost.usage points from user u1.
func costRequest(base time.Time, pts ...src) []*metricspb.Metric {
	var delta, cum []*metricspb.NumberDataPoint
	for _, p := range pts {
		d := dp(p.v, base.Add(p.start), base.Add(p.time), "user.id", "u1", "session.id", p.session, "model", "opus")
		if p.temp == deltaT {
			delta = append(delta, d)
		} else {
			cum = append(cum, d)
		}
	}
	var ms []*metricspb.Metric
	if delta != nil {
		ms = append(ms, sum("claude_code.cost.usage", deltaT, true, delta...))
	}
	if cum != nil {
		ms = append(ms, sum("claude_code.cost.usage", cumulativeT, true, cum...))
	}
	return ms
}

// When dropping session.id merges sources into one series, the series is their sum: the
// running total of each DELTA source plus the latest value of each CUMULATIVE source, which a
// replay does not count again and a restart does not take away.
func TestMergedSourcesSum(t *testing.T) {
	t.Parallel()
	s := time.Second
	cases := []struct {
		name   string
		writes [][]src
		want   []float64 // the series' value after each write
	}{{
		name: "two sessions' DELTA points",
		writes: [][]src{
			{{"a", deltaT, 1.5, 0, s}, {"b", deltaT, 2, 0, s}},
			{{"a", deltaT, 0.25, s, 2 * s}},
			{{"b", deltaT, 3, s, 3 * s}},
		},
		want: []float64{3.5, 3.75, 6.75},
	}, {
		name: "DELTA and CUMULATIVE sources",
		writes: [][]src{
			{{"a", deltaT, 1, 0, s}, {"b", cumulativeT, 10, 0, s}},
			{{"a", deltaT, 2, s, 2 * s}, {"b", cumulativeT, 15, 0, 2 * s}},
			{{"b", cumulativeT, 15, 0, 2 * s}}, // the same point again: a client's retry
			{{"b", cumulativeT, 12, 0, s}},     // an older point arriving late
			{{"b", cumulativeT, 16, 0, 3 * s}, {"a", deltaT, 0.5, 2 * s, 3 * s}},
		},
		want: []float64{11, 18, 18, 18, 19.5},
	}, {
		name: "a CUMULATIVE source restarts",
		writes: [][]src{
			{{"b", cumulativeT, 10, 0, s}},
			{{"b", cumulativeT, 3, 2 * s, 3 * s}}, // a new start time: what it had counted stays
			{{"b", cumulativeT, 4, 2 * s, 4 * s}},
			{{"b", cumulativeT, 1, 2 * s, 5 * s}}, // lower without a new start: restarted too
		},
		want: []float64{10, 13, 14, 15},
	}, {
		name: "CUMULATIVE points out of order in one request",
		writes: [][]src{
			{{"b", cumulativeT, 7, 0, 2 * s}, {"b", cumulativeT, 5, 0, s}},
		},
		want: []float64{7},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			base := time.Now().Add(-time.Minute)
			labels := map[string]string{"user_id": "u1", "model": "opus", "service_name": "claude-code"}
			for i, w := range c.writes {
				e.write(t, request(costRequest(base, w...)...))
				if got := number(e.latest(t, costType, labels)); !near(got, c.want[i]) {
					t.Errorf("after write %d: %v; want %v", i+1, got, c.want[i])
				}
			}
			if n := len(e.fake.Series()); n != 1 {
				t.Errorf("%d series written; want the sources merged into 1", n)
			}
			e.noViolations(t)
		})
	}
}

// DropLabels replaces the default: an empty list keeps session.id, and the sessions are
// series of their own.
func TestDropLabelsOption(t *testing.T) {
	t.Parallel()
	base := time.Now().Add(-time.Minute)
	r := request(costRequest(base, src{"a", deltaT, 1, 0, time.Second}, src{"b", deltaT, 2, 0, time.Second})...)
	cases := []struct {
		name   string
		drop   []string
		series map[string]float64 // by session_id label ("" when absent)
		absent string             // a label no series may have
	}{
		{"default drops session.id", nil, map[string]float64{"": 3}, "session_id"},
		{"empty keeps every label", []string{}, map[string]float64{"a": 1, "b": 2}, ""},
		{"by label name", []string{"session_id", "model"}, map[string]float64{"": 3}, "model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Options{DropLabels: c.drop})
			e.write(t, r)
			got := map[string]float64{}
			for _, ts := range e.fake.Series() {
				got[ts.GetMetric().GetLabels()["session_id"]] = number(ts)
				if _, ok := ts.GetMetric().GetLabels()[c.absent]; ok && c.absent != "" {
					t.Errorf("label %s written: %v", c.absent, ts.GetMetric().GetLabels())
				}
			}
			if len(got) != len(c.series) {
				t.Fatalf("series by session: %v; want %v", got, c.series)
			}
			for k, v := range c.series {
				if got[k] != v {
					t.Errorf("series by session: %v; want %v", got, c.series)
				}
			}
		})
	}
}
