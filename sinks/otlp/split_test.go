package otlp

import (
	"fmt"
	"strings"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/telemetry"
)

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func attr(k, v string) *commonpb.KeyValue { return &commonpb.KeyValue{Key: k, Value: str(v)} }

func resource(i int) *resourcepb.Resource {
	return &resourcepb.Resource{Attributes: []*commonpb.KeyValue{attr("service.name", fmt.Sprintf("svc-%d", i))}}
}

func scope(i int) *commonpb.InstrumentationScope {
	return &commonpb.InstrumentationScope{Name: fmt.Sprintf("scope-%d", i), Version: "1.0"}
}

// bigLogs has resources × scopes × records log records whose bodies are size bytes long and
// name where they are.
func bigLogs(resources, scopes, records, size int) telemetry.Request {
	req := &collogspb.ExportLogsServiceRequest{}
	for r := range resources {
		rl := &logspb.ResourceLogs{Resource: resource(r), SchemaUrl: "https://opentelemetry.io/schemas/1.26.0"}
		for s := range scopes {
			sl := &logspb.ScopeLogs{Scope: scope(s)}
			for i := range records {
				name := fmt.Sprintf("r%d/s%d/%d/", r, s, i)
				sl.LogRecords = append(sl.LogRecords, &logspb.LogRecord{
					TimeUnixNano: uint64(i),
					Body:         str(name + strings.Repeat("x", max(size-len(name), 0))),
				})
			}
			rl.ScopeLogs = append(rl.ScopeLogs, sl)
		}
		req.ResourceLogs = append(req.ResourceLogs, rl)
	}
	return telemetry.Request{Logs: req}
}

func bigTraces(resources, scopes, spans, size int) telemetry.Request {
	req := &coltracepb.ExportTraceServiceRequest{}
	for r := range resources {
		rs := &tracepb.ResourceSpans{Resource: resource(r)}
		for s := range scopes {
			ss := &tracepb.ScopeSpans{Scope: scope(s)}
			for i := range spans {
				ss.Spans = append(ss.Spans, &tracepb.Span{
					TraceId: make([]byte, 16), SpanId: []byte{byte(r), byte(s), byte(i >> 8), byte(i), 0, 0, 0, 1},
					Name:       fmt.Sprintf("r%d/s%d/%d", r, s, i),
					Attributes: []*commonpb.KeyValue{attr("payload", strings.Repeat("y", size))},
				})
			}
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		req.ResourceSpans = append(req.ResourceSpans, rs)
	}
	return telemetry.Request{Traces: req}
}

// bigMetrics has one metric of each type per scope, each with points data points.
func bigMetrics(resources, points, size int) telemetry.Request {
	req := &colmetricspb.ExportMetricsServiceRequest{}
	attrs := func(i int) []*commonpb.KeyValue {
		return []*commonpb.KeyValue{attr("point", fmt.Sprint(i)), attr("pad", strings.Repeat("z", size))}
	}
	for r := range resources {
		sm := &metricspb.ScopeMetrics{Scope: scope(0)}
		var (
			gauge   metricspb.Gauge
			sum     = metricspb.Sum{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA, IsMonotonic: true}
			hist    = metricspb.Histogram{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE}
			exp     = metricspb.ExponentialHistogram{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA}
			summary metricspb.Summary
		)
		for i := range points {
			gauge.DataPoints = append(gauge.DataPoints, &metricspb.NumberDataPoint{Attributes: attrs(i), Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: float64(i)}})
			sum.DataPoints = append(sum.DataPoints, &metricspb.NumberDataPoint{Attributes: attrs(i), Value: &metricspb.NumberDataPoint_AsInt{AsInt: int64(i)}})
			hist.DataPoints = append(hist.DataPoints, &metricspb.HistogramDataPoint{Attributes: attrs(i), Count: uint64(i)})
			exp.DataPoints = append(exp.DataPoints, &metricspb.ExponentialHistogramDataPoint{Attributes: attrs(i), Count: uint64(i)})
			summary.DataPoints = append(summary.DataPoints, &metricspb.SummaryDataPoint{Attributes: attrs(i), Count: uint64(i)})
		}
		sm.Metrics = []*metricspb.Metric{
			{Name: "claude_code.gauge", Unit: "1", Data: &metricspb.Metric_Gauge{Gauge: &gauge}},
			{Name: "claude_code.token.usage", Unit: "tokens", Data: &metricspb.Metric_Sum{Sum: &sum}},
			{Name: "claude_code.histogram", Data: &metricspb.Metric_Histogram{Histogram: &hist}},
			{Name: "claude_code.exp", Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &exp}},
			{Name: "claude_code.summary", Data: &metricspb.Metric_Summary{Summary: &summary}},
		}
		req.ResourceMetrics = append(req.ResourceMetrics, &metricspb.ResourceMetrics{Resource: resource(r), ScopeMetrics: []*metricspb.ScopeMetrics{sm}})
	}
	return telemetry.Request{Metrics: req}
}

// leaf is one record with everything above it that gives it its meaning.
type leaf struct {
	resource, scope, metric proto.Message // metric: the Metric without its data points
	record                  proto.Message
}

// leaves flattens a request into its records, in order.
func leaves(r telemetry.Request) []leaf {
	var out []leaf
	switch {
	case r.Logs != nil:
		for _, rl := range r.Logs.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					out = append(out, leaf{resource: rl.Resource, scope: sl.Scope, record: lr})
				}
			}
		}
	case r.Traces != nil:
		for _, rs := range r.Traces.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, leaf{resource: rs.Resource, scope: ss.Scope, record: s})
				}
			}
		}
	case r.Metrics != nil:
		for _, rm := range r.Metrics.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					bare := proto.Clone(m).(*metricspb.Metric)
					var points []proto.Message
					switch d := bare.Data.(type) {
					case *metricspb.Metric_Gauge:
						points = asMessages(d.Gauge.DataPoints)
						d.Gauge.DataPoints = nil
					case *metricspb.Metric_Sum:
						points = asMessages(d.Sum.DataPoints)
						d.Sum.DataPoints = nil
					case *metricspb.Metric_Histogram:
						points = asMessages(d.Histogram.DataPoints)
						d.Histogram.DataPoints = nil
					case *metricspb.Metric_ExponentialHistogram:
						points = asMessages(d.ExponentialHistogram.DataPoints)
						d.ExponentialHistogram.DataPoints = nil
					case *metricspb.Metric_Summary:
						points = asMessages(d.Summary.DataPoints)
						d.Summary.DataPoints = nil
					}
					for _, p := range points {
						out = append(out, leaf{resource: rm.Resource, scope: sm.Scope, metric: bare, record: p})
					}
				}
			}
		}
	}
	return out
}

func asMessages[M proto.Message](ms []M) []proto.Message {
	out := make([]proto.Message, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

func equalLeaves(a, b leaf) bool {
	eq := func(x, y proto.Message) bool {
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		return proto.Equal(x, y)
	}
	return eq(a.resource, b.resource) && eq(a.scope, b.scope) && eq(a.metric, b.metric) && eq(a.record, b.record)
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      telemetry.Request
		budget int
		parts  int // at least
	}{
		{"logs across resources", bigLogs(5, 1, 10, 1000), 12000, 5},
		{"logs within a scope", bigLogs(1, 1, 100, 1000), 10000, 10},
		{"logs, every level", bigLogs(3, 3, 40, 500), 7000, 9},
		{"a record over budget", bigLogs(1, 1, 3, 20000), 10000, 3},
		{"traces", bigTraces(2, 2, 50, 300), 5000, 8},
		{"metrics of every type", bigMetrics(2, 100, 200), 8000, 10},
		{"fits", bigLogs(1, 1, 2, 10), 1 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := proto.Clone(tc.r.Message())
			parts := split(tc.r, tc.budget)
			if len(parts) < tc.parts {
				t.Errorf("%d parts, want at least %d", len(parts), tc.parts)
			}
			var got []leaf
			for i, p := range parts {
				if p.Signal() != tc.r.Signal() {
					t.Fatalf("part %d is %v, want %v", i, p.Signal(), tc.r.Signal())
				}
				ls := leaves(p)
				if len(ls) == 0 {
					t.Errorf("part %d is empty", i)
				}
				if n := proto.Size(p.Message()); n > tc.budget && len(ls) > 1 {
					t.Errorf("part %d is %d bytes with %d records, over the budget of %d", i, n, len(ls), tc.budget)
				}
				got = append(got, ls...)
			}
			want := leaves(tc.r)
			if len(got) != len(want) {
				t.Fatalf("the parts hold %d records, want %d", len(got), len(want))
			}
			for i := range want {
				if !equalLeaves(got[i], want[i]) {
					t.Fatalf("record %d of the parts differs from the request's (or its resource, scope or metric does)", i)
				}
			}
			if !proto.Equal(before, tc.r.Message()) {
				t.Error("split changed the request it was given")
			}
		})
	}
}

// TestOversizeRequestOverGRPC sends a request larger than a gRPC server takes by default: it
// arrives in parts the server accepts, and all of it arrives.
func TestOversizeRequestOverGRPC(t *testing.T) {
	r := bigLogs(2, 2, 700, 2000) // about 5.6 MB
	if n := proto.Size(r.Message()); n <= 4<<20 {
		t.Fatalf("the request is %d bytes, want it over gRPC's 4 MiB", n)
	}
	dest := startGRPC(t, nil)
	h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: GRPC})
	if err := h.write(t, r); err != nil {
		t.Fatal(err)
	}
	var got []leaf
	for _, rc := range dest.received() {
		got = append(got, leaves(rc.req)...)
	}
	want := leaves(r)
	if len(got) != len(want) {
		t.Fatalf("the destination got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !equalLeaves(got[i], want[i]) {
			t.Fatalf("record %d differs", i)
		}
	}
}
