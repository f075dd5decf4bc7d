package promsink

import (
	"bytes"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"claude-otel-gw/admin"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
)

// exportedNames are the Prometheus names the OpenTelemetry Collector's translation gives
// Claude Code's metrics (name, unit suffix, _total), written out by hand so that the test does
// not check the sink's naming against itself.
var exportedNames = map[string]string{
	"claude_code.session.count":           "claude_code_session_count_total",
	"claude_code.cost.usage":              "claude_code_cost_usage_USD_total",
	"claude_code.token.usage":             "claude_code_token_usage_tokens_total",
	"claude_code.active_time.total":       "claude_code_active_time_seconds_total",
	"claude_code.lines_of_code.count":     "claude_code_lines_of_code_count_total",
	"claude_code.code_edit_tool.decision": "claude_code_code_edit_tool_decision_total",
	"claude_code.commit.count":            "claude_code_commit_count_total",
	"claude_code.pull_request.count":      "claude_code_pull_request_count_total",
}

// defaultLabels are the config's default label attributes and the labels they become.
var defaultLabels = map[string]string{
	"user.id": "user_id", "model": "model", "type": "type", "decision": "decision", "tool_name": "tool_name",
}

// capturedMetrics is every metrics request Claude Code sent in the captured sessions, in every
// encoding they were captured in.
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
	if len(encodings) != 3 {
		t.Fatalf("captured metrics in encodings %v; want grpc, http/protobuf and http/json", encodings)
	}
	return out
}

// expected computes, independently of the sink, what it must export after the requests were
// written: per family and label set, the sum of every DELTA point plus the latest value of
// every CUMULATIVE source (a source being a metric with all its resource and point attributes).
type expected struct {
	values map[string]map[string]float64 // family -> labels (canon) -> value
	help   map[string]string
	latest map[string]map[string]map[string]float64 // family -> labels -> source -> value
}

func newExpected() *expected {
	return &expected{
		values: map[string]map[string]float64{},
		help:   map[string]string{},
		latest: map[string]map[string]map[string]float64{},
	}
}

func (e *expected) add(t *testing.T, r telemetry.Request, labelNames map[string]string) {
	t.Helper()
	for _, rm := range r.Metrics.GetResourceMetrics() {
		res := rm.GetResource().GetAttributes()
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				name, ok := exportedNames[m.GetName()]
				if !ok {
					t.Fatalf("captured metric %s has no expected name; add it to exportedNames", m.GetName())
				}
				s := m.GetSum()
				if s == nil || !s.GetIsMonotonic() {
					t.Fatalf("captured metric %s is not a monotonic sum", m.GetName())
				}
				e.help[name] = m.GetDescription()
				if e.values[name] == nil {
					e.values[name] = map[string]float64{}
					e.latest[name] = map[string]map[string]float64{}
				}
				for _, dp := range s.GetDataPoints() {
					labels := map[string]string{}
					for key, label := range labelNames {
						v := stringAttr(dp.GetAttributes(), key)
						if v == "" {
							v = stringAttr(res, key)
						}
						if v != "" {
							labels[label] = v
						}
					}
					key := canon(labels)
					switch s.GetAggregationTemporality() {
					case delta:
						e.values[name][key] += dp.GetAsDouble()
					case cumulative:
						if e.latest[name][key] == nil {
							e.latest[name][key] = map[string]float64{}
						}
						src := attrString(res) + "|" + attrString(dp.GetAttributes())
						e.latest[name][key][src] = dp.GetAsDouble()
					default:
						t.Fatalf("captured metric %s has temporality %v", m.GetName(), s.GetAggregationTemporality())
					}
				}
			}
		}
	}
}

// total returns the expected values, cumulative sources included.
func (e *expected) total() map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for name, byLabels := range e.values {
		out[name] = maps.Clone(byLabels)
	}
	for name, byLabels := range e.latest {
		for key, bySource := range byLabels {
			for _, v := range bySource {
				out[name][key] += v
			}
		}
	}
	return out
}

func stringAttr(kvs []*commonpb.KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

func attrString(kvs []*commonpb.KeyValue) string {
	var s []string
	for _, kv := range kvs {
		s = append(s, kv.GetKey()+"="+kv.GetValue().String())
	}
	slices.Sort(s)
	return fmtList(s)
}

func fmtList(s []string) string {
	var b bytes.Buffer
	for _, x := range s {
		b.WriteString(x)
		b.WriteByte(0)
	}
	return b.String()
}

// TestReplayExportsTheSumOfWhatClaudeCodeSent replays every captured metrics request twice and
// checks the scrape against totals computed from the same payloads.
func TestReplayExportsTheSumOfWhatClaudeCodeSent(t *testing.T) {
	m := admin.NewTestMetrics()
	w := started(t, Options{Metrics: m})
	reqs := capturedMetrics(t)
	want := newExpected()
	for range 2 {
		for _, r := range reqs {
			write(t, w, r)
			want.add(t, r, defaultLabels)
		}
	}

	fams, body := scrape(t, w)
	wantTotals := want.total()
	if got, wantNames := slices.Sorted(maps.Keys(fams)), slices.Sorted(maps.Keys(wantTotals)); !slices.Equal(got, wantNames) {
		t.Fatalf("exported families %v; want %v", got, wantNames)
	}
	var deltaSeen, cumulativeSeen bool
	for name, byLabels := range wantTotals {
		f := fams[name]
		if f.GetType() != dto.MetricType_COUNTER {
			t.Errorf("%s: TYPE %s; want counter", name, f.GetType())
		}
		if f.GetHelp() != want.help[name] {
			t.Errorf("%s: HELP %q; want the OpenTelemetry description %q", name, f.GetHelp(), want.help[name])
		}
		got := samples(f)
		if gotKeys, wantKeys := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(byLabels)); !slices.Equal(gotKeys, wantKeys) {
			t.Errorf("%s: series %v; want %v", name, gotKeys, wantKeys)
			continue
		}
		for key, v := range byLabels {
			if g := got[key].GetCounter().GetValue(); !near(g, v) {
				t.Errorf("%s{%s} = %v; want %v", name, key, g, v)
			}
		}
		deltaSeen = deltaSeen || len(want.values[name]) > 0
		cumulativeSeen = cumulativeSeen || len(want.latest[name]) > 0
	}
	if !deltaSeen || !cumulativeSeen {
		t.Errorf("the captures exercised delta: %v, cumulative: %v; want both", deltaSeen, cumulativeSeen)
	}
	// A value a user would look up: the cost of the captured sessions. Four sessions with an API call in DELTA,
	// sent twice, and one in CUMULATIVE, sent twice but counted once, at $0.01524 each.
	user := "ff6978d4f4f5cba7d1c0a20ce6ce4853da60479333be1256f84097d8ae2a10fb"
	if got := value(t, fams, "claude_code_cost_usage_USD_total", "user_id", user, "model", "claude-opus-5-5"); !near(got, 0.01524*(4*2+1)) {
		t.Errorf("cost = %v; want %v", got, 0.01524*9)
	}
	if n := rejected(m, "prom"); n != 0 {
		t.Errorf("RejectedRecords = %v; want 0", n)
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// TestReplayWithCustomLabels keeps only team (a resource attribute Claude Code also copies to
// every point), so every session's points merge into one series per family.
func TestReplayWithCustomLabels(t *testing.T) {
	w := started(t, Options{Labels: []string{"team", "type"}})
	want := newExpected()
	for _, r := range capturedMetrics(t) {
		write(t, w, r)
		want.add(t, r, map[string]string{"team": "team", "type": "type"})
	}
	fams, _ := scrape(t, w)
	for name, byLabels := range want.total() {
		got := samples(fams[name])
		if len(got) != len(byLabels) {
			t.Errorf("%s: %d series; want %d", name, len(got), len(byLabels))
		}
		for key, v := range byLabels {
			if g := got[key].GetCounter().GetValue(); !near(g, v) {
				t.Errorf("%s{%s} = %v; want %v", name, key, g, v)
			}
		}
	}
	if got := value(t, fams, "claude_code_session_count_total", "team", "platform"); got != 6 {
		t.Errorf("sessions of team platform = %v; want 6", got)
	}
}
