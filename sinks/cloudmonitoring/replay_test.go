package cloudmonitoring

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "google.golang.org/genproto/googleapis/api/metric"

	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
)

// writtenTypes are the metric types Claude Code's metrics are written as, by hand so that the
// test does not check the writer's naming against itself.
var writtenTypes = map[string]string{
	"claude_code.session.count":           "workload.googleapis.com/claude_code/session/count",
	"claude_code.cost.usage":              "workload.googleapis.com/claude_code/cost/usage",
	"claude_code.token.usage":             "workload.googleapis.com/claude_code/token/usage",
	"claude_code.active_time.total":       "workload.googleapis.com/claude_code/active_time/total",
	"claude_code.lines_of_code.count":     "workload.googleapis.com/claude_code/lines_of_code/count",
	"claude_code.code_edit_tool.decision": "workload.googleapis.com/claude_code/code_edit_tool/decision",
	"claude_code.commit.count":            "workload.googleapis.com/claude_code/commit/count",
	"claude_code.pull_request.count":      "workload.googleapis.com/claude_code/pull_request/count",
}

// capturedMetrics is every metrics request in the captured sessions, in session order, with
// the encodings they came in.
func capturedMetrics(t testing.TB) []telemetry.Request {
	t.Helper()
	all, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	var out []telemetry.Request
	encodings := map[string]bool{}
	for _, p := range all {
		if p.Signal == telemetry.Metrics {
			out = append(out, p.Request)
			encodings[p.Encoding] = true
		}
	}
	if len(out) != 6 || len(encodings) != 3 {
		t.Fatalf("captured %d metrics requests in encodings %v; want 6, in grpc, http/protobuf and http/json", len(out), encodings)
	}
	return out
}

// expectation computes, without the writer's code, what Cloud Monitoring must hold after
// requests were written: per series, the sum of every DELTA point plus the latest value of
// every CUMULATIVE source (a source being a metric with all its resource and point
// attributes, session.id included), with session.id left out of the labels.
type expectation struct {
	deltas map[string]float64            // series key -> DELTA sum
	latest map[string]map[string]float64 // series key -> source -> latest value
	hasCum map[string]bool
}

func newExpectation() *expectation {
	return &expectation{deltas: map[string]float64{}, latest: map[string]map[string]float64{}, hasCum: map[string]bool{}}
}

func (e *expectation) add(t *testing.T, r telemetry.Request) {
	t.Helper()
	for _, rm := range r.Metrics.GetResourceMetrics() {
		res := rm.GetResource().GetAttributes()
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				typ, ok := writtenTypes[m.GetName()]
				if !ok {
					t.Fatalf("captured metric %s has no expected type; add it to writtenTypes", m.GetName())
				}
				s := m.GetSum()
				if s == nil || !s.GetIsMonotonic() {
					t.Fatalf("captured metric %s is not a monotonic sum", m.GetName())
				}
				for _, p := range s.GetDataPoints() {
					labels := map[string]string{}
					// The resource first, so that the point's copy of an attribute wins.
					for _, kv := range append(slices.Clone(res), p.GetAttributes()...) {
						if kv.GetKey() != "session.id" {
							labels[strings.ReplaceAll(kv.GetKey(), ".", "_")] = text(kv.GetValue())
						}
					}
					k := key(typ, labels)
					switch s.GetAggregationTemporality() {
					case deltaT:
						e.deltas[k] += p.GetAsDouble()
					case cumulativeT:
						if e.latest[k] == nil {
							e.latest[k] = map[string]float64{}
						}
						e.latest[k][fmt.Sprint(res, p.GetAttributes())] = p.GetAsDouble()
						e.hasCum[k] = true
					default:
						t.Fatalf("captured metric %s has temporality %v", m.GetName(), s.GetAggregationTemporality())
					}
				}
			}
		}
	}
}

func text(v *commonpb.AnyValue) string {
	if b, ok := v.GetValue().(*commonpb.AnyValue_BoolValue); ok {
		return fmt.Sprint(b.BoolValue)
	}
	return v.GetStringValue()
}

func (e *expectation) values() map[string]float64 {
	out := maps.Clone(e.deltas)
	for k, srcs := range e.latest {
		for _, v := range srcs {
			out[k] += v
		}
	}
	return out
}

// check compares what the fake holds with the expectation.
func (e *expectation) check(t *testing.T, got map[string]*monitoringpb.TimeSeries) {
	t.Helper()
	want := e.values()
	for k, v := range want {
		ts, ok := got[k]
		if !ok {
			t.Errorf("series %s not written", k)
			continue
		}
		if g := number(ts); !near(g, v) {
			t.Errorf("series %s = %v; want %v", k, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected series %s", k)
		}
	}
}

// Every captured metrics request, replayed twice: Cloud Monitoring gets CUMULATIVE series only,
// whose totals grow from the first replay to the second by the DELTA sums and not by the
// cumulative points replayed, with start times that never move and no session.id label.
func TestReplayCapturedTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	reqs := capturedMetrics(t)
	exp := newExpectation()
	for _, r := range reqs {
		exp.add(t, r)
		e.write(t, r)
	}
	first := e.fake.Series()
	exp.check(t, first)
	for _, r := range reqs {
		exp.add(t, r)
		e.write(t, r)
	}
	final := e.fake.Series()
	exp.check(t, final)
	e.noViolations(t)

	grew := 0
	for k, ts := range final {
		if ts.GetMetricKind() != metricpb.MetricDescriptor_CUMULATIVE || ts.GetValueType() != metricpb.MetricDescriptor_DOUBLE {
			t.Errorf("series %s written as %v %v; want CUMULATIVE DOUBLE", k, ts.GetMetricKind(), ts.GetValueType())
		}
		if _, ok := ts.GetMetric().GetLabels()["session_id"]; ok {
			t.Errorf("series %s has a session_id label", k)
		}
		if ts.GetMetric().GetLabels()["service_name"] != "claude-code" {
			t.Errorf("series %s has no service_name label", k)
		}
		h := e.fake.History(k)
		for _, p := range h[1:] {
			if !p.Start.Equal(h[0].Start) {
				t.Errorf("series %s: start time moved from %s to %s", k, h[0].Start, p.Start)
			}
		}
		if exp.deltas[k] > 0 {
			if d := number(ts) - number(first[k]); !near(d, exp.deltas[k]/2) {
				t.Errorf("series %s grew by %v between the replays; want the DELTA sum %v", k, d, exp.deltas[k]/2)
			}
			grew++
		}
	}
	if grew == 0 {
		t.Error("no series fed by DELTA points")
	}
	// exp.check above holds the cumulative points replayed to count once: their sources'
	// latest values are in the expectation once, whatever the replays.
	if len(exp.hasCum) == 0 {
		t.Fatal("no cumulative source among the captured requests")
	}
	t.Logf("%d series, %d grew with DELTA points, %d with cumulative sources", len(final), grew, len(exp.hasCum))
}
