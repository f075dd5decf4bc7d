package cloudmonitoring

import (
	"fmt"
	"maps"
	"testing"
	"time"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"claude-otel-gw/telemetry"
)

// withResource is a request of one metric under a resource of these attributes.
func withResource(res []*commonpb.KeyValue, m *metricspb.Metric) telemetry.Request {
	return telemetry.Request{Metrics: &colmetricspb.ExportMetricsServiceRequest{
		ResourceMetrics: []*metricspb.ResourceMetrics{{
			Resource:     &resourcepb.Resource{Attributes: res},
			ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: []*metricspb.Metric{m}}},
		}},
	}}
}

// Labels are the point's attributes, then the resource's, sanitised and at most 30 with
// service_name among them; of attributes that become one label the first (by key) wins, and
// the point's copy wins over the resource's.
func TestLabels(t *testing.T) {
	t.Parallel()
	var many []string
	for i := range 40 {
		many = append(many, fmt.Sprintf("a%02d", i), "v")
	}
	res := attrs("service.name", "claude-code", "os.type", "linux", "team", "from-resource", "host.arch", "amd64")
	res = append(res, &commonpb.KeyValue{Key: "debug", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}})
	wantMany := map[string]string{"service_name": "claude-code"}
	for i := range 29 {
		wantMany[fmt.Sprintf("a%02d", i)] = "v"
	}
	cases := []struct {
		name   string
		point  []string
		want   map[string]string
		excess bool
	}{{
		name:  "point then resource",
		point: []string{"user.id", "u1", "team", "from-point", "Model", "opus"},
		want: map[string]string{
			"user_id": "u1", "team": "from-point", "model": "opus",
			"service_name": "claude-code", "os_type": "linux", "host_arch": "amd64", "debug": "true",
		},
	}, {
		name:  "two keys, one label",
		point: []string{"user_id", "second", "user.id", "first"},
		want: map[string]string{
			"user_id": "first", "team": "from-resource",
			"service_name": "claude-code", "os_type": "linux", "host_arch": "amd64", "debug": "true",
		},
	}, {
		name:   "at most 30, service_name kept",
		point:  many,
		want:   wantMany,
		excess: true,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			at := time.Now()
			e.write(t, withResource(res, sum("x.count", deltaT, true, dp(1, at, at, c.point...))))
			e.noViolations(t)
			series := e.fake.Series()
			if len(series) != 1 {
				t.Fatalf("%d series written; want 1", len(series))
			}
			for _, ts := range series {
				if got := ts.GetMetric().GetLabels(); !maps.Equal(got, c.want) {
					t.Errorf("labels %v\nwant   %v", got, c.want)
				}
			}
			if lines := e.log.Lines("more than 30 labels"); (len(lines) == 1) != c.excess {
				t.Errorf("log lines about excess labels: %q; want one: %v", lines, c.excess)
			}
		})
	}
}
