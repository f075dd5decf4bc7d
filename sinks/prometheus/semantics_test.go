package promsink

import (
	"math"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"claude-otel-gw/admin"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/telemetry"
)

var claudeResource = attrs("service.name", "claude-code", "team", "platform")

// TestCumulativeNeverGoesDown feeds one cumulative source point by point and checks the
// exported counter after each: the latest value passes through, and a restart of the source
// (a new start time, or a lower value) adds to what was counted instead of replacing it.
func TestCumulativeNeverGoesDown(t *testing.T) {
	type step struct {
		start, at uint64
		v, want   float64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"latest value passes through", []step{{1, 10, 5, 5}, {1, 20, 8, 8}, {1, 30, 8, 8}}},
		{"restart with a new start time and a lower value", []step{{1, 10, 5, 5}, {1, 20, 9, 9}, {2, 30, 3, 12}, {2, 40, 4, 13}}},
		{"restart with a new start time and a higher value", []step{{1, 10, 5, 5}, {2, 20, 7, 12}, {2, 30, 9, 14}}},
		{"lower value under the same start time", []step{{1, 10, 5, 5}, {1, 20, 2, 7}, {1, 30, 3, 8}}},
		{"a late point is ignored", []step{{1, 10, 5, 5}, {1, 30, 9, 9}, {1, 20, 7, 9}, {1, 40, 10, 10}}},
		{"a point from before a restart is ignored", []step{{1, 10, 5, 5}, {2, 20, 3, 8}, {1, 15, 6, 8}, {2, 30, 4, 9}}},
		{"an export sent twice counts once", []step{{1, 10, 5, 5}, {1, 10, 5, 5}, {1, 20, 6, 6}, {1, 20, 6, 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := started(t, Options{})
			for i, s := range tt.steps {
				write(t, w, request(claudeResource, sum("claude_code.cost.usage", "USD", cumulative, true,
					num(s.start, s.at, s.v, "user.id", "u1", "session.id", "s1", "model", "m"))))
				fams, _ := scrape(t, w)
				if got := value(t, fams, "claude_code_cost_usage_USD_total", "user_id", "u1", "model", "m"); got != s.want {
					t.Fatalf("after step %d (start %d, value %v): exported %v; want %v", i+1, s.start, s.v, got, s.want)
				}
			}
		})
	}
}

// TestMergedSourcesAreSummed drops session.id, so two sessions' cumulative sources and a delta
// source of the same user and model land in one series: its value is the sum of each
// cumulative source's latest value and the delta source's running total.
func TestMergedSourcesAreSummed(t *testing.T) {
	w := started(t, Options{})
	tokens := func(temp metricspb.AggregationTemporality, start, at uint64, v float64, session string) telemetry.Request {
		return request(claudeResource, sum("claude_code.token.usage", "tokens", temp, true,
			num(start, at, v, "user.id", "u1", "session.id", session, "model", "m", "type", "input")))
	}
	steps := []struct {
		r    telemetry.Request
		want float64
	}{
		{tokens(cumulative, 1, 10, 300, "a"), 300},
		{tokens(cumulative, 2, 10, 400, "b"), 700},
		{tokens(cumulative, 1, 20, 500, "a"), 900},
		{tokens(delta, 15, 20, 50, "c"), 950},
		{tokens(delta, 20, 30, 50, "c"), 1000},
		{tokens(cumulative, 2, 30, 400, "b"), 1000},
		{tokens(cumulative, 3, 40, 10, "a"), 1010}, // session a's process restarted
	}
	for i, s := range steps {
		write(t, w, s.r)
		fams, _ := scrape(t, w)
		if got := value(t, fams, "claude_code_token_usage_tokens_total", "user_id", "u1", "model", "m", "type", "input"); got != s.want {
			t.Fatalf("after step %d: %v; want %v", i+1, got, s.want)
		}
		if n := len(fams["claude_code_token_usage_tokens_total"].GetMetric()); n != 1 {
			t.Fatalf("after step %d: %d series; want the sessions merged into 1", i+1, n)
		}
	}
}

// TestLabels checks which attributes become labels and how, one request per case.
func TestLabels(t *testing.T) {
	intAttr := &commonpb.KeyValue{Key: "type", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 3}}}
	boolAttr := &commonpb.KeyValue{Key: "decision", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}}
	arrayAttr := &commonpb.KeyValue{Key: "model", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{}}}}
	long := strings.Repeat("x", 300)
	tests := []struct {
		name     string
		labels   []string
		resource []*commonpb.KeyValue
		points   []*metricspb.NumberDataPoint
		want     map[string]float64 // labels (canon) -> value
	}{
		{
			name:   "allow-listed keys sanitised, others summed away",
			points: []*metricspb.NumberDataPoint{num(0, 1, 1, "user.id", "u1", "session.id", "s1", "terminal.type", "xterm"), num(0, 1, 2, "user.id", "u1", "session.id", "s2", "terminal.type", "vscode")},
			want:   map[string]float64{"user_id=u1": 3},
		},
		{
			name:     "the data point's attribute wins over the resource's",
			resource: attrs("user.id", "from-resource"),
			points:   []*metricspb.NumberDataPoint{num(0, 1, 1, "user.id", "from-point")},
			want:     map[string]float64{"user_id=from-point": 1},
		},
		{
			name:     "the resource's attribute when the point has none",
			resource: attrs("user.id", "from-resource"),
			points:   []*metricspb.NumberDataPoint{num(0, 1, 1, "model", "m")},
			want:     map[string]float64{"model=m,user_id=from-resource": 1},
		},
		{
			name:   "a missing or empty attribute is an absent label",
			points: []*metricspb.NumberDataPoint{num(0, 1, 1, "user.id", "u1"), num(0, 1, 2, "user.id", "u1", "model", "")},
			want:   map[string]float64{"user_id=u1": 3},
		},
		{
			name:   "older clients' tool is tool_name",
			points: []*metricspb.NumberDataPoint{num(0, 1, 1, "tool", "Edit"), num(0, 1, 2, "tool_name", "Edit")},
			want:   map[string]float64{"tool_name=Edit": 3},
		},
		{
			name:   "scalar values of any type; arrays are not labels",
			points: []*metricspb.NumberDataPoint{{TimeUnixNano: 1, Value: &metricspb.NumberDataPoint_AsInt{AsInt: 4}, Attributes: []*commonpb.KeyValue{intAttr, boolAttr, arrayAttr}}},
			want:   map[string]float64{"decision=true,type=3": 4},
		},
		{
			name:   "long values are cut",
			points: []*metricspb.NumberDataPoint{num(0, 1, 1, "model", long), num(0, 1, 1, "model", long+"y")},
			want:   map[string]float64{"model=" + long[:maxLabelValueBytes]: 2},
		},
		{
			name:     "a chosen label set",
			labels:   []string{"team", "service.name", "1st", "_private"},
			resource: claudeResource,
			points:   []*metricspb.NumberDataPoint{num(0, 1, 1, "user.id", "u1", "1st", "a", "_private", "b")},
			want:     map[string]float64{"key_1st=a,key_private=b,service_name=claude-code,team=platform": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := started(t, Options{Labels: tt.labels})
			write(t, w, request(tt.resource, sum("claude_code.commit.count", "", delta, true, tt.points...)))
			fams, _ := scrape(t, w)
			f := fams["claude_code_commit_count_total"]
			got := samples(f)
			if len(got) != len(tt.want) {
				t.Errorf("series %v; want %v", keys(got), tt.want)
			}
			for key, v := range tt.want {
				if m := got[key]; m == nil || m.GetCounter().GetValue() != v {
					t.Errorf("{%s} = %v; want %v (series: %v)", key, m.GetCounter().GetValue(), v, keys(got))
				}
			}
		})
	}
}

func keys(m map[string]*dto.Metric) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSeriesLimit caps the series: points that would need a new one are counted and logged at
// most once a minute; the existing series keep counting.
func TestSeriesLimit(t *testing.T) {
	m := admin.NewTestMetrics()
	var logs testlog.Buffer
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	w := started(t, Options{Metrics: m, MaxSeries: 3, Logger: logs.Logger(), Now: clk.now})
	users := func(n int) telemetry.Request {
		var dps []*metricspb.NumberDataPoint
		for i := range n {
			dps = append(dps, num(0, 1, 1, "user.id", string(rune('a'+i))))
		}
		return request(nil, sum("claude_code.session.count", "", delta, true, dps...))
	}
	write(t, w, users(5))
	fams, _ := scrape(t, w)
	if got := keys(samples(fams["claude_code_session_count_total"])); len(got) != 3 {
		t.Fatalf("series %v; want 3", got)
	}
	if got := rejected(m, "prom"); got != 2 {
		t.Errorf("RejectedRecords = %v; want 2", got)
	}
	write(t, w, users(5))
	fams, _ = scrape(t, w)
	if got := value(t, fams, "claude_code_session_count_total", "user_id", "a"); got != 2 {
		t.Errorf("an existing series after the limit: %v; want 2", got)
	}
	if got := rejected(m, "prom"); got != 4 {
		t.Errorf("RejectedRecords = %v; want 4", got)
	}
	// Another metric needs a new series too.
	write(t, w, request(nil, sum("claude_code.commit.count", "", delta, true, num(0, 1, 1, "user.id", "a"))))
	if fams, _ = scrape(t, w); fams["claude_code_commit_count_total"] != nil {
		t.Error("a new family was exported beyond the limit")
	}
	if got := len(logs.Lines("series limit reached")); got != 1 {
		t.Errorf("%d log lines about the limit within a minute; want 1:\n%s", got, strings.Join(logs.Lines("level="), "\n"))
	}
	clk.advance(time.Minute)
	write(t, w, users(5))
	lines := logs.Lines("series limit reached")
	if len(lines) != 2 || !strings.Contains(lines[1], "suppressed=2") || !strings.Contains(lines[1], "max_series=3") {
		t.Errorf("log lines a minute later:\n%s\nwant a second one saying 2 were suppressed", strings.Join(lines, "\n"))
	}
}

// TestCumulativeSourceLimit checks the other half of the memory bound: cumulative sources
// beyond MaxSeries are refused while the tracked ones are live, and a quiet one is forgotten to
// make room, without the total going down.
func TestCumulativeSourceLimit(t *testing.T) {
	m := admin.NewTestMetrics()
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	w := started(t, Options{Metrics: m, MaxSeries: 2, Labels: []string{"user.id"}, Now: clk.now})
	session := func(id string, v float64) telemetry.Request {
		return request(nil, sum("claude_code.active_time.total", "s", cumulative, true, num(1, uint64(clk.now().UnixNano()), v, "user.id", "u", "session.id", id)))
	}
	total := func() float64 {
		fams, _ := scrape(t, w)
		return value(t, fams, "claude_code_active_time_seconds_total", "user_id", "u")
	}
	write(t, w, session("a", 10))
	write(t, w, session("b", 20))
	write(t, w, session("c", 40))
	if got := total(); got != 30 {
		t.Errorf("with a third live source: %v; want 30 (the third refused)", got)
	}
	if got := rejected(m, "prom"); got != 1 {
		t.Errorf("RejectedRecords = %v; want 1", got)
	}
	clk.advance(sourceIdle / 2)
	write(t, w, session("b", 25)) // b stays live; a goes quiet
	clk.advance(sourceIdle/2 + time.Second)
	write(t, w, session("c", 40))
	if got := total(); got != 75 {
		t.Errorf("after a went quiet: %v; want 75 (a forgotten but its 10 kept, b 25, c 40)", got)
	}
	write(t, w, session("b", 26))
	if got := total(); got != 76 {
		t.Errorf("b still tracked: %v; want 76", got)
	}
}

// TestGaugesAndNonMonotonicSums: gauges hold the latest point; non-monotonic sums add up their
// deltas and the latest value of each cumulative source; both are TYPE gauge.
func TestGaugesAndNonMonotonicSums(t *testing.T) {
	w := started(t, Options{Labels: []string{"user.id"}})
	write(t, w, request(nil,
		gauge("queue.fill", "1", num(0, 20, 0.5, "user.id", "u", "session.id", "a"), num(0, 10, 0.7, "user.id", "u", "session.id", "b")),
		sum("open.files", "", delta, false, num(0, 1, 5, "user.id", "u"), num(1, 2, -2, "user.id", "u")),
		sum("sessions.active", "", cumulative, false, num(1, 1, 3, "user.id", "u", "session.id", "a"), num(1, 1, 4, "user.id", "u", "session.id", "b")),
	))
	write(t, w, request(nil, sum("sessions.active", "", cumulative, false, num(1, 2, 1, "user.id", "u", "session.id", "a"))))
	fams, _ := scrape(t, w)
	for name, want := range map[string]float64{"queue_fill_ratio": 0.5, "open_files": 3, "sessions_active": 5} {
		if f := fams[name]; f == nil || f.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s: %v; want a gauge", name, f)
			continue
		}
		if got := value(t, fams, name, "user_id", "u"); got != want {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
}

// TestHistograms are exported with their count and sum only.
func TestHistograms(t *testing.T) {
	w := started(t, Options{Labels: []string{"user.id"}})
	write(t, w, request(nil,
		histogram("hook.duration", "ms", delta, hist(0, 1, 3, 1.5, "user.id", "u"), hist(0, 2, 2, 0.5, "user.id", "u")),
		histogram("api.latency", "s", cumulative, hist(1, 1, 4, 2, "user.id", "u")),
	))
	write(t, w, request(nil, histogram("api.latency", "s", cumulative, hist(2, 2, 1, 0.25, "user.id", "u")))) // restarted
	fams, _ := scrape(t, w)
	for name, want := range map[string][2]float64{"hook_duration_milliseconds": {5, 2}, "api_latency_seconds": {5, 2.25}} {
		f := fams[name]
		if f == nil || f.GetType() != dto.MetricType_HISTOGRAM {
			t.Errorf("%s: %v; want a histogram", name, f)
			continue
		}
		h := samples(f)["user_id=u"].GetHistogram()
		if float64(h.GetSampleCount()) != want[0] || h.GetSampleSum() != want[1] {
			t.Errorf("%s: count %d, sum %v; want %v", name, h.GetSampleCount(), h.GetSampleSum(), want)
		}
	}
}

// TestNotExported covers the data the sink cannot export: each case is counted as rejected and
// exports nothing, and a point flagged as having no value is ignored without counting.
func TestNotExported(t *testing.T) {
	nan := num(0, 1, math.NaN(), "user.id", "u")
	noValue := num(0, 1, 1, "user.id", "u")
	noValue.Flags = uint32(metricspb.DataPointFlags_DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK)
	tests := []struct {
		name     string
		before   []*metricspb.Metric // written first, and exported
		metric   *metricspb.Metric
		rejected float64
	}{
		{name: "summary", metric: &metricspb.Metric{Name: "rpc.latency", Data: &metricspb.Metric_Summary{Summary: &metricspb.Summary{DataPoints: []*metricspb.SummaryDataPoint{{Count: 1}, {Count: 2}}}}}, rejected: 2},
		{name: "exponential histogram", metric: &metricspb.Metric{Name: "rpc.size", Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &metricspb.ExponentialHistogram{DataPoints: []*metricspb.ExponentialHistogramDataPoint{{Count: 1}}}}}, rejected: 1},
		{name: "NaN in a counter", metric: sum("c", "", delta, true, nan), rejected: 1},
		{name: "negative counter delta", metric: sum("c", "", delta, true, num(0, 1, -1, "user.id", "u")), rejected: 1},
		{name: "negative cumulative counter", metric: sum("c", "", cumulative, true, num(0, 1, -1, "user.id", "u")), rejected: 1},
		{name: "no temporality", metric: sum("c", "", metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_UNSPECIFIED, true, num(0, 1, 1)), rejected: 1},
		{name: "no value", metric: sum("c", "", delta, true, &metricspb.NumberDataPoint{TimeUnixNano: 1}), rejected: 1},
		{name: "a name with nothing usable", metric: sum("...", "", delta, true, num(0, 1, 1)), rejected: 1},
		{name: "a gauge named like a counter", before: []*metricspb.Metric{sum("x", "", delta, true, num(0, 1, 1))}, metric: gauge("x.total", "", num(0, 1, 1)), rejected: 1},
		{name: "a gauge named like a histogram's count", before: []*metricspb.Metric{histogram("lat", "", delta, hist(0, 1, 1, 1))}, metric: gauge("lat.count", "", num(0, 1, 1)), rejected: 1},
		{name: "a histogram over a gauge's name", before: []*metricspb.Metric{gauge("size.sum", "", num(0, 1, 1))}, metric: histogram("size", "", delta, hist(0, 1, 1, 1)), rejected: 1},
		{name: "no recorded value", metric: sum("c", "", delta, true, noValue), rejected: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := admin.NewTestMetrics()
			w := started(t, Options{Metrics: m})
			write(t, w, request(nil, tt.before...))
			before, _ := scrape(t, w)
			write(t, w, request(nil, tt.metric))
			after, _ := scrape(t, w)
			if len(after) != len(before) {
				t.Errorf("families %v after; %v before", len(after), len(before))
			}
			if got := rejected(m, "prom"); got != tt.rejected {
				t.Errorf("RejectedRecords = %v; want %v", got, tt.rejected)
			}
		})
	}
}

// TestLogsAndTracesIgnored: the sink takes every signal the engine gives it without error, and
// exports only metrics.
func TestLogsAndTracesIgnored(t *testing.T) {
	m := admin.NewTestMetrics()
	w := started(t, Options{Metrics: m})
	all, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range all {
		if p.Signal != telemetry.Metrics {
			write(t, w, p.Request)
			n++
		}
	}
	write(t, w, telemetry.Request{})
	if n == 0 {
		t.Fatal("no captured logs or traces")
	}
	if fams, body := scrape(t, w); len(fams) != 0 {
		t.Errorf("exported after logs and traces only:\n%s", body)
	}
	if got := rejected(m, "prom"); got != 0 {
		t.Errorf("RejectedRecords = %v; want 0", got)
	}
}
