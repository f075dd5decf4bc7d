package ingest

import (
	"errors"
	"strings"
	"testing"

	"claude-otel-gw/telemetry"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func stringValue(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

// nestedArray is an AnyValue levels deep: a string inside levels-1 arrays.
func nestedArray(levels int) *commonpb.AnyValue {
	v := &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "x"}}
	for range levels - 1 {
		v = &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{v}}}}
	}
	return v
}

// nestedKvlist is an AnyValue levels deep: a string inside levels-1 key-value lists.
func nestedKvlist(levels int) *commonpb.AnyValue {
	v := &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 1}}
	for range levels - 1 {
		v = &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
			Values: []*commonpb.KeyValue{{Key: "k", Value: v}},
		}}}
	}
	return v
}

func attr(v *commonpb.AnyValue) []*commonpb.KeyValue {
	return []*commonpb.KeyValue{{Key: "a", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "plain"}}}, {Key: "deep", Value: v}}
}

func logsWith(lr *logspb.LogRecord) telemetry.Request {
	return telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{}, lr}}},
	}}}}
}

func spansWith(sp *tracepb.Span) telemetry.Request {
	return telemetry.Request{Traces: &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{sp}}},
	}}}}
}

func metricWith(m *metricspb.Metric) telemetry.Request {
	return telemetry.Request{Metrics: &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: []*metricspb.Metric{m}}},
	}}}}
}

func bytesOf(n int) []byte { return make([]byte, n) }

func TestCheckRequest(t *testing.T) {
	const max = 4
	exemplar := func(e *metricspb.Exemplar) *metricspb.Metric {
		return &metricspb.Metric{Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{
			DataPoints: []*metricspb.HistogramDataPoint{{Exemplars: []*metricspb.Exemplar{e}}},
		}}}
	}
	for _, tc := range []struct {
		name string
		req  telemetry.Request
		want string // "" accepted; else the error names this place
	}{
		{"log body at the limit", logsWith(&logspb.LogRecord{Body: nestedArray(max)}), ""},
		{"log body over the limit", logsWith(&logspb.LogRecord{Body: nestedArray(max + 1)}),
			"resourceLogs[0].scopeLogs[0].logRecords[1].body: values nested deeper than 4 levels"},
		{"log attribute over the limit", logsWith(&logspb.LogRecord{Attributes: attr(nestedKvlist(max + 1))}),
			"logRecords[1].attributes[1].value: values nested deeper than 4"},
		{"log attribute at the limit", logsWith(&logspb.LogRecord{Attributes: attr(nestedKvlist(max))}), ""},
		{"resource attribute", telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{
			{Resource: &resourcepb.Resource{Attributes: attr(nestedArray(max + 1))}}}}},
			"resourceLogs[0].resource.attributes[1].value"},
		{"scope attribute", telemetry.Request{Traces: &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{
			{ScopeSpans: []*tracepb.ScopeSpans{{}, {Scope: &commonpb.InstrumentationScope{Attributes: attr(nestedArray(max + 1))}}}}}}},
			"resourceSpans[0].scopeSpans[1].scope.attributes[1].value"},
		{"log trace id", logsWith(&logspb.LogRecord{TraceId: bytesOf(8)}),
			"logRecords[1].traceId: 8 bytes, want 16"},
		{"log span id", logsWith(&logspb.LogRecord{TraceId: bytesOf(16), SpanId: bytesOf(16)}),
			"logRecords[1].spanId: 16 bytes, want 8"},
		{"log ids right", logsWith(&logspb.LogRecord{TraceId: bytesOf(16), SpanId: bytesOf(8)}), ""},
		{"span trace id", spansWith(&tracepb.Span{TraceId: bytesOf(15), SpanId: bytesOf(8)}),
			"resourceSpans[0].scopeSpans[0].spans[0].traceId: 15 bytes, want 16"},
		{"span span id", spansWith(&tracepb.Span{TraceId: bytesOf(16), SpanId: bytesOf(7)}), "spans[0].spanId: 7 bytes"},
		{"span parent id", spansWith(&tracepb.Span{TraceId: bytesOf(16), SpanId: bytesOf(8), ParentSpanId: bytesOf(9)}),
			"spans[0].parentSpanId: 9 bytes, want 8"},
		{"span link trace id", spansWith(&tracepb.Span{Links: []*tracepb.Span_Link{{TraceId: bytesOf(16)}, {TraceId: bytesOf(3)}}}),
			"spans[0].links[1].traceId: 3 bytes"},
		{"span link span id", spansWith(&tracepb.Span{Links: []*tracepb.Span_Link{{SpanId: bytesOf(1)}}}),
			"spans[0].links[0].spanId: 1 bytes"},
		{"span attribute", spansWith(&tracepb.Span{Attributes: attr(nestedArray(max + 1))}), "spans[0].attributes[1].value"},
		{"span event attribute", spansWith(&tracepb.Span{Events: []*tracepb.Span_Event{{Attributes: attr(nestedKvlist(max + 1))}}}),
			"spans[0].events[0].attributes[1].value"},
		{"span link attribute", spansWith(&tracepb.Span{Links: []*tracepb.Span_Link{{Attributes: attr(nestedKvlist(max + 1))}}}),
			"spans[0].links[0].attributes[1].value"},
		{"span all right", spansWith(&tracepb.Span{TraceId: bytesOf(16), SpanId: bytesOf(8), ParentSpanId: bytesOf(8),
			Attributes: attr(nestedArray(max)), Links: []*tracepb.Span_Link{{TraceId: bytesOf(16), SpanId: bytesOf(8)}}}), ""},
		{"metric metadata", metricWith(&metricspb.Metric{Metadata: attr(nestedArray(max + 1))}),
			"resourceMetrics[0].scopeMetrics[0].metrics[0].metadata[1].value"},
		{"gauge point attribute", metricWith(&metricspb.Metric{Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{
			DataPoints: []*metricspb.NumberDataPoint{{Attributes: attr(nestedArray(max + 1))}}}}}),
			"metrics[0].gauge.dataPoints[0].attributes[1].value"},
		{"sum point attribute", metricWith(&metricspb.Metric{Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
			DataPoints: []*metricspb.NumberDataPoint{{}, {Attributes: attr(nestedArray(max + 1))}}}}}),
			"metrics[0].sum.dataPoints[1].attributes[1].value"},
		{"sum exemplar span id", metricWith(&metricspb.Metric{Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
			DataPoints: []*metricspb.NumberDataPoint{{Exemplars: []*metricspb.Exemplar{{SpanId: bytesOf(4)}}}}}}}),
			"metrics[0].sum.dataPoints[0].exemplars[0].spanId: 4 bytes"},
		{"histogram exemplar trace id", metricWith(exemplar(&metricspb.Exemplar{TraceId: bytesOf(32)})),
			"metrics[0].histogram.dataPoints[0].exemplars[0].traceId: 32 bytes"},
		{"histogram exemplar attribute", metricWith(exemplar(&metricspb.Exemplar{FilteredAttributes: attr(nestedArray(max + 1))})),
			"exemplars[0].filteredAttributes[1].value"},
		{"histogram exemplar all right", metricWith(exemplar(&metricspb.Exemplar{TraceId: bytesOf(16), SpanId: bytesOf(8),
			FilteredAttributes: attr(nestedArray(max))})), ""},
		{"exponential histogram exemplar", metricWith(&metricspb.Metric{Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &metricspb.ExponentialHistogram{
			DataPoints: []*metricspb.ExponentialHistogramDataPoint{{Exemplars: []*metricspb.Exemplar{{TraceId: bytesOf(1)}}}}}}}),
			"metrics[0].exponentialHistogram.dataPoints[0].exemplars[0].traceId"},
		{"summary point attribute", metricWith(&metricspb.Metric{Data: &metricspb.Metric_Summary{Summary: &metricspb.Summary{
			DataPoints: []*metricspb.SummaryDataPoint{{Attributes: attr(nestedKvlist(max + 1))}}}}}),
			"metrics[0].summary.dataPoints[0].attributes[1].value"},
		{"empty request", telemetry.Empty(telemetry.Metrics), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkRequest(tc.req, max)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, errMalformed) {
				t.Fatalf("err = %v, want a malformed request", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to name %q", err, tc.want)
			}
		})
	}
}

// The protobuf recursion limit is only a backstop: the deepest place an AnyValue can sit (an
// exemplar's filtered attribute), nested up to the limit through key-value lists, with an empty
// list at the bottom, still decodes; one level more is refused by the depth rule.
func TestRecursionLimitAdmitsEverythingTheDepthRuleDoes(t *testing.T) {
	for _, max := range []int{1, 2, 8, 32, 100} {
		deepest := func(levels int) []byte {
			v := &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
				Values: []*commonpb.KeyValue{{Key: "bottom"}},
			}}}
			for range levels - 1 {
				v = &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
					Values: []*commonpb.KeyValue{{Key: "k", Value: v}},
				}}}
			}
			req := metricWith(&metricspb.Metric{Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{
				DataPoints: []*metricspb.HistogramDataPoint{{Exemplars: []*metricspb.Exemplar{{
					FilteredAttributes: []*commonpb.KeyValue{{Key: "deep", Value: v}},
				}}}},
			}}})
			b, err := proto.Marshal(req.Metrics)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if err := decodeProtobuf(deepest(max), telemetry.Empty(telemetry.Metrics), max); err != nil {
			t.Errorf("max %d: nesting at the limit refused: %v", max, err)
		}
		err := decodeProtobuf(deepest(max+1), telemetry.Empty(telemetry.Metrics), max)
		if err == nil || !strings.Contains(err.Error(), "nested deeper") {
			t.Errorf("max %d: nesting over the limit: err = %v, want the depth rule's refusal", max, err)
		}
	}
}

// Far deeper nesting than any limit is cut off while decoding, without a stack overflow.
func TestDecodeProtobufAbsurdNesting(t *testing.T) {
	t.Parallel()
	req := logsWith(&logspb.LogRecord{Body: nestedArray(5000)})
	b, err := proto.MarshalOptions{}.Marshal(req.Logs)
	if err != nil {
		t.Fatal(err)
	}
	err = decodeProtobuf(b, telemetry.Empty(telemetry.Logs), 8)
	if !errors.Is(err, errMalformed) {
		t.Fatalf("err = %v, want malformed", err)
	}
}
