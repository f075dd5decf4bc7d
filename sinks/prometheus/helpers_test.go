package promsink

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"claude-otel-gw/admin"
	"claude-otel-gw/telemetry"
)

const (
	delta      = metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA
	cumulative = metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
)

// started builds a Writer on 127.0.0.1:0, starts it and closes it when the test ends. Options
// left zero get the sink name "prom", the default labels and test metrics.
func started(t testing.TB, o Options) *Writer {
	t.Helper()
	if o.Name == "" {
		o.Name = "prom"
	}
	o.Listen = "127.0.0.1:0"
	if o.Labels == nil {
		o.Labels = []string{"user.id", "model", "type", "decision", "tool_name"}
	}
	if o.Metrics == nil {
		o.Metrics = admin.NewTestMetrics()
	}
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	return w
}

// get fetches a path from the Writer's listener.
func get(t testing.TB, w *Writer, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get("http://" + w.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// scrape fetches /metrics as Prometheus would (text format) and parses it strictly, with
// classic metric and label names only.
func scrape(t testing.TB, w *Writer) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	resp, body := get(t, w, "/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s: %s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, body)
	}
	return fams, body
}

// labelsOf renders a sample's labels as name=value pairs, sorted, for comparisons and messages.
func labelsOf(m *dto.Metric) string {
	var s []string
	for _, l := range m.GetLabel() {
		s = append(s, l.GetName()+"="+l.GetValue())
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

// canon renders a label map the way labelsOf renders a sample's labels.
func canon(labels map[string]string) string {
	var s []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		s = append(s, k+"="+labels[k])
	}
	return strings.Join(s, ",")
}

// samples maps each sample of a family by its labels (canon form).
func samples(f *dto.MetricFamily) map[string]*dto.Metric {
	out := map[string]*dto.Metric{}
	for _, m := range f.GetMetric() {
		out[labelsOf(m)] = m
	}
	return out
}

// value is the value of the sample of family name with exactly the labels given (pairs).
func value(t testing.TB, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	f := fams[name]
	if f == nil {
		t.Fatalf("no family %s; have %v", name, slices.Sorted(maps.Keys(fams)))
	}
	m := samples(f)[canon(want)]
	if m == nil {
		t.Fatalf("%s has no sample {%s}; have %v", name, canon(want), slices.Sorted(maps.Keys(samples(f))))
	}
	switch f.GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s is a %s", name, f.GetType())
	return 0
}

// rejected is what the Writer counted in the gateway's RejectedRecords.
func rejected(m *admin.Metrics, sink string) float64 {
	return testutil.ToFloat64(m.RejectedRecords.WithLabelValues(sink, "metrics"))
}

func write(t testing.TB, w *Writer, r telemetry.Request) {
	t.Helper()
	if err := w.Write(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// attrs builds string attributes from key, value pairs.
func attrs(pairs ...string) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, &commonpb.KeyValue{Key: pairs[i], Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: pairs[i+1]}}})
	}
	return out
}

func num(start, at uint64, v float64, kv ...string) *metricspb.NumberDataPoint {
	return &metricspb.NumberDataPoint{
		StartTimeUnixNano: start, TimeUnixNano: at,
		Value:      &metricspb.NumberDataPoint_AsDouble{AsDouble: v},
		Attributes: attrs(kv...),
	}
}

func sum(name, unit string, temp metricspb.AggregationTemporality, monotonic bool, dps ...*metricspb.NumberDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Name: name, Unit: unit, Description: name + " described", Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
		AggregationTemporality: temp, IsMonotonic: monotonic, DataPoints: dps,
	}}}
}

func gauge(name, unit string, dps ...*metricspb.NumberDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Name: name, Unit: unit, Description: name + " described", Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: dps}}}
}

func histogram(name, unit string, temp metricspb.AggregationTemporality, dps ...*metricspb.HistogramDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Name: name, Unit: unit, Description: name + " described", Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{
		AggregationTemporality: temp, DataPoints: dps,
	}}}
}

func hist(start, at, count uint64, total float64, kv ...string) *metricspb.HistogramDataPoint {
	return &metricspb.HistogramDataPoint{
		StartTimeUnixNano: start, TimeUnixNano: at, Count: count, Sum: &total,
		BucketCounts: []uint64{count}, Attributes: attrs(kv...),
	}
}

// request wraps metrics in one resource (with the given attributes) and Claude Code's scope.
func request(resource []*commonpb.KeyValue, ms ...*metricspb.Metric) telemetry.Request {
	return telemetry.Request{Metrics: &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource:     &resourcepb.Resource{Attributes: resource},
		ScopeMetrics: []*metricspb.ScopeMetrics{{Scope: &commonpb.InstrumentationScope{Name: "com.anthropic.claude_code"}, Metrics: ms}},
	}}}}
}

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
