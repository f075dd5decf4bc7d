package cloudmonitoring

import (
	"context"
	"maps"
	"math"
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	metricpb "google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"

	"claude-otel-gw/admin"
	fakemonitoring "claude-otel-gw/internal/fakegcp/monitoring"
	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// testInterval is the sampling period the tests run the writer and the fake with: Cloud
// Monitoring's 5 s, shrunk.
const testInterval = 50 * time.Millisecond

const project = "p"

// env is a writer started against a fake Cloud Monitoring.
type env struct {
	fake *fakemonitoring.Server
	w    *Writer
	m    *admin.Metrics
	log  *testlog.Buffer
}

// newEnv starts a fake and a writer pointed at it, both with the writer's MinInterval. Options
// left zero get the sink name "gcm", a global resource, testInterval, test metrics and a
// logger the test can read.
func newEnv(t testing.TB, o Options) *env {
	t.Helper()
	e := newUnstarted(t, o)
	if err := e.w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// newUnstarted is newEnv without starting the writer.
func newUnstarted(t testing.TB, o Options) *env {
	t.Helper()
	if o.MinInterval == 0 {
		o.MinInterval = testInterval
	}
	fake, err := fakemonitoring.Start(fakemonitoring.Options{MinInterval: o.MinInterval})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	e := &env{fake: fake, m: admin.NewTestMetrics(), log: &testlog.Buffer{}}
	if o.Name == "" {
		o.Name = "gcm"
	}
	o.Google = gcp.Options{Endpoint: fake.Addr(), Insecure: true, Project: project}
	if o.Resource.Type == "" {
		o.Resource = gcp.Resource{Type: "global"}
	}
	o.Metrics = e.m
	o.Logger = e.log.Logger()
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	e.w = w
	return e
}

// write writes r and fails the test on an error.
func (e *env) write(t testing.TB, r telemetry.Request) {
	t.Helper()
	if err := e.w.Write(context.Background(), r); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// noViolations fails the test if the fake refused anything on its own.
func (e *env) noViolations(t testing.TB) {
	t.Helper()
	for _, v := range e.fake.Violations() {
		t.Errorf("Cloud Monitoring (fake) refused: %s", v)
	}
}

// globalResource is the resource the tests' writers write against.
func globalResource() *monitoredres.MonitoredResource {
	return &monitoredres.MonitoredResource{Type: "global", Labels: map[string]string{"project_id": project}}
}

// key is the fake's key of the series with this metric type and labels, on the global resource.
func key(typ string, labels map[string]string) string {
	return fakemonitoring.Key(&monitoringpb.TimeSeries{
		Metric:   &metricpb.Metric{Type: typ, Labels: labels},
		Resource: globalResource(),
	})
}

// latest is the latest point the fake took for a series; it fails the test if there is none.
func (e *env) latest(t testing.TB, typ string, labels map[string]string) *monitoringpb.TimeSeries {
	t.Helper()
	ts, ok := e.fake.Series()[key(typ, labels)]
	if !ok {
		t.Fatalf("no series %s%v written; written: %v", typ, labels, keys(e.fake.Series()))
	}
	return ts
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	return out
}

// number is a written point's value as a float, whichever way it was written.
func number(ts *monitoringpb.TimeSeries) float64 {
	v := ts.GetPoints()[0].GetValue()
	if x, ok := v.GetValue().(*monitoringpb.TypedValue_Int64Value); ok {
		return float64(x.Int64Value)
	}
	return v.GetDoubleValue()
}

// near compares sums that were added up in different orders.
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// Builders of OTLP metrics requests.

func attrs(kv ...string) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &commonpb.KeyValue{Key: kv[i], Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: kv[i+1]}}})
	}
	return out
}

// request wraps metrics in one resource (service.name=claude-code) and scope.
func request(ms ...*metricspb.Metric) telemetry.Request {
	return telemetry.Request{Metrics: &colmetricspb.ExportMetricsServiceRequest{
		ResourceMetrics: []*metricspb.ResourceMetrics{{
			Resource:     &resourcepb.Resource{Attributes: attrs("service.name", "claude-code")},
			ScopeMetrics: []*metricspb.ScopeMetrics{{Scope: &commonpb.InstrumentationScope{Name: "com.anthropic.claude_code"}, Metrics: ms}},
		}},
	}}
}

const (
	deltaT      = metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA
	cumulativeT = metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
)

func sum(name string, temp metricspb.AggregationTemporality, monotonic bool, dps ...*metricspb.NumberDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Name: name, Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
		AggregationTemporality: temp, IsMonotonic: monotonic, DataPoints: dps,
	}}}
}

func gauge(name string, dps ...*metricspb.NumberDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Name: name, Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: dps}}}
}

// dp is a double point from start to at; kv are its attributes.
func dp(v float64, start, at time.Time, kv ...string) *metricspb.NumberDataPoint {
	return &metricspb.NumberDataPoint{
		Attributes: attrs(kv...), StartTimeUnixNano: uint64(start.UnixNano()), TimeUnixNano: uint64(at.UnixNano()),
		Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: v},
	}
}

// intDP is an integer point.
func intDP(v int64, start, at time.Time, kv ...string) *metricspb.NumberDataPoint {
	p := dp(0, start, at, kv...)
	p.Value = &metricspb.NumberDataPoint_AsInt{AsInt: v}
	return p
}

func nan() float64 { return math.NaN() }
