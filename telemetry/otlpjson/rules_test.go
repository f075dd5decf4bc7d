package otlpjson

import (
	"encoding/hex"
	"fmt"
	"math"
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
	"google.golang.org/protobuf/types/known/structpb"
)

// The rules of OTLP/JSON, one table row each, decoded and encoded both by the hand-written
// attribute code and by the descriptor-driven code alone (see bothPaths).

func spansJSON(span string) string {
	return `{"resourceSpans":[{"scopeSpans":[{"spans":[` + span + `]}]}]}`
}

func logsJSON(record string) string {
	return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[` + record + `]}]}]}`
}

func bodyJSON(value string) string { return logsJSON(`{"body":` + value + `}`) }

func metricsJSON(metric string) string {
	return `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[` + metric + `]}]}]}`
}

func spans(s ...*tracepb.Span) *coltracepb.ExportTraceServiceRequest {
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: s}},
	}}}
}

func logs(r ...*logspb.LogRecord) *collogspb.ExportLogsServiceRequest {
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: r}},
	}}}
}

func body(v *commonpb.AnyValue) *collogspb.ExportLogsServiceRequest {
	return logs(&logspb.LogRecord{Body: v})
}

func metrics(m ...*metricspb.Metric) *colmetricspb.ExportMetricsServiceRequest {
	return &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: m}},
	}}}
}

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func intv(i int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: i}}
}

func dbl(f float64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
}

func kvlist(kvs ...*commonpb.KeyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}}
}

func array(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
}

func unhexs(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func sum(dps ...*metricspb.NumberDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{DataPoints: dps}}}
}

const (
	traceHex = "5e46df3f0cdba3ba0f72817f28e9ec86"
	spanHex  = "113c83e5e67d9a9b"
	span2Hex = "5ff9c310e8dcf07a"
)

// bothPaths runs f once as the package runs and once with the hand-written attribute code
// stood aside, as it is when the proto module has fields it does not know.
func bothPaths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	if !fastAttributes {
		t.Fatal("the hand-written attribute code does not match this proto module")
	}
	t.Run("hand-written", f)
	t.Run("descriptor-driven", func(t *testing.T) {
		withoutHandWritten(t)
		f(t)
	})
}

func withoutHandWritten(t testing.TB) {
	fastAttributes = false
	plans.Clear()
	t.Cleanup(func() {
		fastAttributes = true
		plans.Clear()
	})
}

func TestDecodeRules(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want proto.Message
	}{
		// Ids.
		{"span ids hex", spansJSON(`{"traceId":"` + traceHex + `","spanId":"` + spanHex + `","parentSpanId":"` + span2Hex + `"}`),
			spans(&tracepb.Span{TraceId: unhexs(traceHex), SpanId: unhexs(spanHex), ParentSpanId: unhexs(span2Hex)})},
		{"span ids upper case", spansJSON(`{"traceId":"` + strings.ToUpper(traceHex) + `","spanId":"113C83E5e67d9A9B"}`),
			spans(&tracepb.Span{TraceId: unhexs(traceHex), SpanId: unhexs(spanHex)})},
		{"empty ids", spansJSON(`{"traceId":"","spanId":"","parentSpanId":""}`), spans(&tracepb.Span{})},
		{"link ids", spansJSON(`{"links":[{"traceId":"` + traceHex + `","spanId":"` + spanHex + `"}]}`),
			spans(&tracepb.Span{Links: []*tracepb.Span_Link{{TraceId: unhexs(traceHex), SpanId: unhexs(spanHex)}}})},
		{"log record ids", logsJSON(`{"traceId":"` + traceHex + `","spanId":"` + spanHex + `"}`),
			logs(&logspb.LogRecord{TraceId: unhexs(traceHex), SpanId: unhexs(spanHex)})},
		{"exemplar ids", metricsJSON(`{"sum":{"dataPoints":[{"exemplars":[{"traceId":"` + traceHex + `","spanId":"` + spanHex + `"}]}]}}`),
			metrics(sum(&metricspb.NumberDataPoint{Exemplars: []*metricspb.Exemplar{{TraceId: unhexs(traceHex), SpanId: unhexs(spanHex)}}}))},
		{"escaped hex", spansJSON(`{"spanId":"\u0031\u0031\u0033c83e5e67d9a9b"}`), spans(&tracepb.Span{SpanId: unhexs(spanHex)})},

		// Enums.
		{"enum by number", spansJSON(`{"kind":2,"status":{"code":2}}`),
			spans(&tracepb.Span{Kind: tracepb.Span_SPAN_KIND_SERVER, Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}})},
		{"enum by name", spansJSON(`{"kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR"}}`),
			spans(&tracepb.Span{Kind: tracepb.Span_SPAN_KIND_SERVER, Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}})},
		{"severity by name", logsJSON(`{"severityNumber":"SEVERITY_NUMBER_INFO"}`),
			logs(&logspb.LogRecord{SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO})},
		{"temporality by name", metricsJSON(`{"sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA"}}`),
			metrics(&metricspb.Metric{Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA}}})},
		{"enum number not named is kept", spansJSON(`{"kind":99}`), spans(&tracepb.Span{Kind: 99})},
		{"enum as whole float", spansJSON(`{"kind":2.0}`), spans(&tracepb.Span{Kind: tracepb.Span_SPAN_KIND_SERVER})},

		// 64-bit integers.
		{"fixed64 as string", spansJSON(`{"startTimeUnixNano":"1795639688450000000"}`), spans(&tracepb.Span{StartTimeUnixNano: 1795639688450000000})},
		{"fixed64 as number", spansJSON(`{"startTimeUnixNano":1795639688450000000}`), spans(&tracepb.Span{StartTimeUnixNano: 1795639688450000000})},
		{"uint64 max", spansJSON(`{"endTimeUnixNano":"18446744073709551615"}`), spans(&tracepb.Span{EndTimeUnixNano: math.MaxUint64})},
		{"uint64 negative zero", spansJSON(`{"endTimeUnixNano":"-0"}`), spans(&tracepb.Span{})},
		{"int64 as number", bodyJSON(`{"intValue":0}`), body(intv(0))},
		{"int64 extremes", bodyJSON(`{"kvlistValue":{"values":[{"key":"min","value":{"intValue":"-9223372036854775808"}},{"key":"max","value":{"intValue":9223372036854775807}}]}}`),
			body(kvlist(&commonpb.KeyValue{Key: "min", Value: intv(math.MinInt64)}, &commonpb.KeyValue{Key: "max", Value: intv(math.MaxInt64)}))},
		{"int64 with exponent", bodyJSON(`{"intValue":1.5e3}`), body(intv(1500))},
		{"int64 exponent in a string", bodyJSON(`{"intValue":"-250E-1"}`), body(intv(-25))},
		{"int64 exact beyond float precision", bodyJSON(`{"intValue":9007199254740993}`), body(intv(9007199254740993))},
		{"int64 zero exponent", bodyJSON(`{"intValue":0e999999999999}`), body(intv(0))},
		{"fixed64 list", metricsJSON(`{"histogram":{"dataPoints":[{"bucketCounts":["1",2,"3"],"explicitBounds":[0.5,"1.5","Infinity"]}]}}`),
			metrics(&metricspb.Metric{Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: []*metricspb.HistogramDataPoint{{
				BucketCounts: []uint64{1, 2, 3}, ExplicitBounds: []float64{0.5, 1.5, math.Inf(1)},
			}}}}})},

		// 32-bit integers.
		{"uint32 as number", spansJSON(`{"droppedAttributesCount":3,"flags":257}`), spans(&tracepb.Span{DroppedAttributesCount: 3, Flags: 257})},
		{"uint32 as string", spansJSON(`{"droppedAttributesCount":"3","flags":"4294967295"}`), spans(&tracepb.Span{DroppedAttributesCount: 3, Flags: math.MaxUint32})},
		{"sint32 negative", metricsJSON(`{"exponentialHistogram":{"dataPoints":[{"scale":-3,"positive":{"offset":"-2147483648"}}]}}`),
			metrics(&metricspb.Metric{Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &metricspb.ExponentialHistogram{
				DataPoints: []*metricspb.ExponentialHistogramDataPoint{{Scale: -3, Positive: &metricspb.ExponentialHistogramDataPoint_Buckets{Offset: math.MinInt32}}},
			}}})},

		// Doubles.
		{"double number", bodyJSON(`{"doubleValue":0.015239999999999997}`), body(dbl(0.015239999999999997))},
		{"double NaN", bodyJSON(`{"doubleValue":"NaN"}`), body(dbl(math.NaN()))},
		{"double Infinity", bodyJSON(`{"doubleValue":"Infinity"}`), body(dbl(math.Inf(1)))},
		{"double -Infinity", bodyJSON(`{"doubleValue":"-Infinity"}`), body(dbl(math.Inf(-1)))},
		{"double in a string", bodyJSON(`{"doubleValue":"-1.5e-3"}`), body(dbl(-1.5e-3))},
		{"double integer", bodyJSON(`{"doubleValue":1}`), body(dbl(1))},
		{"double underflow is zero", bodyJSON(`{"doubleValue":1e-400}`), body(dbl(0))},
		{"optional double zero", metricsJSON(`{"histogram":{"dataPoints":[{"sum":0,"min":"-Infinity"}]}}`),
			metrics(&metricspb.Metric{Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: []*metricspb.HistogramDataPoint{{
				Sum: proto.Float64(0), Min: proto.Float64(math.Inf(-1)),
			}}}}})},

		// Oneof members at their defaults are set.
		{"oneof int zero", bodyJSON(`{"intValue":"0"}`), body(intv(0))},
		{"oneof empty string", bodyJSON(`{"stringValue":""}`), body(str(""))},
		{"oneof false", bodyJSON(`{"boolValue":false}`), body(&commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{}})},
		{"oneof empty bytes", bodyJSON(`{"bytesValue":""}`), body(&commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{}})},
		{"oneof empty kvlist", bodyJSON(`{"kvlistValue":{}}`), body(kvlist())},
		{"empty AnyValue", bodyJSON(`{}`), body(&commonpb.AnyValue{})},
		{"number data point as int zero", metricsJSON(`{"gauge":{"dataPoints":[{"asInt":"0"}]}}`),
			metrics(&metricspb.Metric{Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{{Value: &metricspb.NumberDataPoint_AsInt{}}}}}})},

		// Bytes.
		{"bytes standard base64", bodyJSON(`{"bytesValue":"+/8="}`), body(&commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0xfb, 0xff}}})},
		{"bytes url-safe base64", bodyJSON(`{"bytesValue":"-_8="}`), body(&commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0xfb, 0xff}}})},
		{"bytes unpadded base64", bodyJSON(`{"bytesValue":"-_8"}`), body(&commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0xfb, 0xff}}})},

		// Names.
		{"snake_case names", `{"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"` + traceHex + `","parent_span_id":"` + span2Hex + `","start_time_unix_nano":"5","dropped_attributes_count":1}]}],"schema_url":"s"}]}`,
			&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
				ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{TraceId: unhexs(traceHex), ParentSpanId: unhexs(span2Hex), StartTimeUnixNano: 5, DroppedAttributesCount: 1}}}},
				SchemaUrl:  "s",
			}}}},
		{"snake_case attribute names", bodyJSON(`{"kvlist_value":{"values":[{"key":"k","value":{"string_value":"v"},"key_strindex":2},{"value":{"int_value":1}},{"value":{"array_value":{"values":[{"bool_value":true},{"double_value":1},{"bytes_value":"AA=="},{"string_value_strindex":4}]}}}]}}`),
			body(kvlist(
				&commonpb.KeyValue{Key: "k", Value: str("v"), KeyStrindex: 2},
				&commonpb.KeyValue{Value: intv(1)},
				&commonpb.KeyValue{Value: array(
					&commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}},
					dbl(1),
					&commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0}}},
					&commonpb.AnyValue{Value: &commonpb.AnyValue_StringValueStrindex{StringValueStrindex: 4}},
				)},
			))},
		{"newer fields", logsJSON(`{"eventName":"claude_code.api_request"}`), logs(&logspb.LogRecord{EventName: "claude_code.api_request"})},
		{"entity refs", `{"resourceLogs":[{"resource":{"entityRefs":[{"type":"host","idKeys":["host.id"],"description_keys":["host.name"]}]}}]}`,
			&collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{Resource: &resourcepb.Resource{
				EntityRefs: []*commonpb.EntityRef{{Type: "host", IdKeys: []string{"host.id"}, DescriptionKeys: []string{"host.name"}}},
			}}}}},

		// Unknown fields, whatever their shape.
		{"unknown fields skipped", `{"x":{"a":[1,{"b":null,"c":"\"}"}],"d":{}},"y":[[],[[]],{}],"z":"s\u00e9\ud83d\ude00","w":-1.5e+3,"v":true,"u":false,"t":null,` +
			`"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"n","futureField":{"deep":[{"er":[1]}]},"kind":1}]}]}]}`,
			spans(&tracepb.Span{Name: "n", Kind: tracepb.Span_SPAN_KIND_INTERNAL})},
		{"unknown fields in attributes skipped", bodyJSON(`{"future":[1,{"a":"b"}],"kvlistValue":{"extra":0,"values":[{"key":"k","unknown":{},"value":{"x":null,"stringValue":"v"}}]}}`),
			body(kvlist(&commonpb.KeyValue{Key: "k", Value: str("v")}))},

		// Null means not set.
		{"null top-level field", `{"resourceSpans":null}`, &coltracepb.ExportTraceServiceRequest{}},
		{"null scalars and messages", spansJSON(`{"name":null,"traceId":null,"kind":null,"startTimeUnixNano":null,"status":null,"attributes":null}`), spans(&tracepb.Span{})},
		{"null in attributes", bodyJSON(`{"kvlistValue":{"values":[{"key":null,"value":null}]}}`), body(kvlist(&commonpb.KeyValue{}))},
		{"null oneof member", bodyJSON(`{"stringValue":null}`), body(&commonpb.AnyValue{})},
		{"null for another member leaves the set one", bodyJSON(`{"stringValue":"a","intValue":null}`), body(str("a"))},
		{"null clears an earlier value", spansJSON(`{"name":"a","name":null}`), spans(&tracepb.Span{})},

		// Duplicate keys: the last wins, whole.
		{"duplicate scalar", spansJSON(`{"name":"a","name":"b"}`), spans(&tracepb.Span{Name: "b"})},
		{"duplicate message replaced, not merged", spansJSON(`{"status":{"message":"m"},"status":{"code":2}}`),
			spans(&tracepb.Span{Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}})},
		{"duplicate list replaced", spansJSON(`{"events":[{"name":"a"},{"name":"b"}],"events":[{"name":"c"}]}`),
			spans(&tracepb.Span{Events: []*tracepb.Span_Event{{Name: "c"}}})},
		{"duplicate attributes replaced", spansJSON(`{"attributes":[{"key":"a"}],"attributes":[{"key":"b"}]}`),
			spans(&tracepb.Span{Attributes: []*commonpb.KeyValue{{Key: "b"}}})},
		{"duplicate oneof", bodyJSON(`{"stringValue":"a","intValue":"1"}`), body(intv(1))},
		{"duplicate kvlist replaced", bodyJSON(`{"kvlistValue":{"values":[{"key":"a"}]},"kvlistValue":{"values":[{"key":"b"}]}}`),
			body(kvlist(&commonpb.KeyValue{Key: "b"}))},
		{"snake and camel are the same key", spansJSON(`{"start_time_unix_nano":"1","startTimeUnixNano":"2"}`), spans(&tracepb.Span{StartTimeUnixNano: 2})},

		// Strings.
		{"escapes", bodyJSON(`{"stringValue":"\"\\\/\b\f\n\r\t\u0000\u001f\u00e9\u65E5\ud83d\ude00"}`), body(str("\"\\/\b\f\n\r\t\x00\x1f\u00e9\u65e5\U0001F600"))},
		{"raw utf-8", bodyJSON(`{"stringValue":"é日😀` + "\x7f" + `"}`), body(str("é日😀\x7f"))},
		{"escaped key", bodyJSON(`{"string\u0056alue":"v"}`), body(str("v"))},
		{"whitespace everywhere", " \t\r\n{ \"resourceLogs\" :\n[ {\"scopeLogs\"\t:[{ \"logRecords\" : [ { \"body\" : { \"stringValue\" : \"v\" } } ] } ] } ] }\r\n ",
			body(str("v"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bothPaths(t, func(t *testing.T) {
				got := tt.want.ProtoReflect().New().Interface()
				if err := Unmarshal([]byte(tt.in), got); err != nil {
					t.Fatalf("Unmarshal(%s): %v", tt.in, err)
				}
				if !proto.Equal(got, tt.want) {
					t.Fatalf("Unmarshal(%s)\ngot:  %v\nwant: %v", tt.in, got, tt.want)
				}
			})
		})
	}
}

func TestUnmarshalResets(t *testing.T) {
	m := spans(&tracepb.Span{Name: "old"})
	if err := Unmarshal([]byte(`{}`), m); err != nil {
		t.Fatal(err)
	}
	if len(m.ResourceSpans) != 0 {
		t.Fatalf("old content kept: %v", m)
	}
}

func TestEncodeRules(t *testing.T) {
	tests := []struct {
		name string
		in   proto.Message
		want string
	}{
		{"empty request", &coltracepb.ExportTraceServiceRequest{}, `{}`},
		{"defaults left out", spans(&tracepb.Span{}), spansJSON(`{}`)},
		{"ids lower-case hex", spans(&tracepb.Span{TraceId: unhexs(traceHex), SpanId: unhexs(spanHex), ParentSpanId: unhexs(span2Hex)}),
			spansJSON(`{"traceId":"` + traceHex + `","spanId":"` + spanHex + `","parentSpanId":"` + span2Hex + `"}`)},
		{"enums as numbers", spans(&tracepb.Span{Kind: tracepb.Span_SPAN_KIND_CLIENT, Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK}}),
			spansJSON(`{"kind":3,"status":{"code":1}}`)},
		{"64-bit as strings, 32-bit as numbers", spans(&tracepb.Span{StartTimeUnixNano: 1795639688450000000, DroppedAttributesCount: 7, Flags: math.MaxUint32}),
			// Fields come in the order the .proto declares them, which puts flags (16) before
			// the times (7, 8).
			spansJSON(`{"flags":4294967295,"startTimeUnixNano":"1795639688450000000","droppedAttributesCount":7}`)},
		{"int64 negative", body(intv(math.MinInt64)), bodyJSON(`{"intValue":"-9223372036854775808"}`)},
		{"oneof int zero", body(intv(0)), bodyJSON(`{"intValue":"0"}`)},
		{"oneof empty string", body(str("")), bodyJSON(`{"stringValue":""}`)},
		{"oneof false", body(&commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{}}), bodyJSON(`{"boolValue":false}`)},
		{"oneof double zero", body(dbl(0)), bodyJSON(`{"doubleValue":0}`)},
		{"oneof empty bytes", body(&commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{}}), bodyJSON(`{"bytesValue":""}`)},
		{"oneof nil array", body(&commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{}}), bodyJSON(`{"arrayValue":{}}`)},
		{"oneof typed nil is unset", body(&commonpb.AnyValue{Value: (*commonpb.AnyValue_StringValue)(nil)}), bodyJSON(`{}`)},
		{"empty AnyValue", body(&commonpb.AnyValue{}), bodyJSON(`{}`)},
		{"nil list element", body(array(nil, str("x"))), bodyJSON(`{"arrayValue":{"values":[{},{"stringValue":"x"}]}}`)},
		{"data point as int zero", metrics(&metricspb.Metric{Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{{Value: &metricspb.NumberDataPoint_AsInt{}}}}}}),
			metricsJSON(`{"gauge":{"dataPoints":[{"asInt":"0"}]}}`)},
		{"optional double zero", metrics(&metricspb.Metric{Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: []*metricspb.HistogramDataPoint{{Sum: proto.Float64(0)}}}}}),
			metricsJSON(`{"histogram":{"dataPoints":[{"sum":0}]}}`)},
		{"NaN and infinities", body(array(dbl(math.NaN()), dbl(math.Inf(1)), dbl(math.Inf(-1)))),
			bodyJSON(`{"arrayValue":{"values":[{"doubleValue":"NaN"},{"doubleValue":"Infinity"},{"doubleValue":"-Infinity"}]}}`)},
		{"doubles", body(array(dbl(0.015239999999999997), dbl(1e-7), dbl(1e21), dbl(-2.5), dbl(123456789))),
			bodyJSON(`{"arrayValue":{"values":[{"doubleValue":0.015239999999999997},{"doubleValue":1e-7},{"doubleValue":1e+21},{"doubleValue":-2.5},{"doubleValue":123456789}]}}`)},
		{"double lists", metrics(&metricspb.Metric{Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: []*metricspb.HistogramDataPoint{{
			BucketCounts: []uint64{0, 5}, ExplicitBounds: []float64{0.5, math.Inf(1)},
		}}}}}), metricsJSON(`{"histogram":{"dataPoints":[{"bucketCounts":["0","5"],"explicitBounds":[0.5,"Infinity"]}]}}`)},
		{"bytes base64", body(&commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0xfb, 0xff}}}), bodyJSON(`{"bytesValue":"+/8="}`)},
		{"escapes", body(str("\"\\/\b\f\n\r\t\x00\x1f\x7f<>&é\U0001F600")), bodyJSON(`{"stringValue":"\"\\/\b\f\n\r\t\u0000\u001f` + "\x7f" + `<>&é😀"}`)},
		{"invalid utf-8 replaced", body(str("a\xffb\xc3")), bodyJSON(`{"stringValue":"a\ufffdb\ufffd"}`)},
		{"attributes in order", spans(&tracepb.Span{Name: "n", Attributes: []*commonpb.KeyValue{{Key: "k", Value: str("v"), KeyStrindex: 1}, {}}}),
			spansJSON(`{"name":"n","attributes":[{"key":"k","value":{"stringValue":"v"},"keyStrindex":1},{}]}`)},
		{"response", &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 2, ErrorMessage: "bad"}},
			`{"partialSuccess":{"rejectedSpans":"2","errorMessage":"bad"}}`},
		{"event name", logs(&logspb.LogRecord{EventName: "claude_code.api_error", Body: str("b")}), logsJSON(`{"body":{"stringValue":"b"},"eventName":"claude_code.api_error"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bothPaths(t, func(t *testing.T) {
				got, err := Marshal(tt.in)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.want {
					t.Fatalf("Marshal\ngot:  %s\nwant: %s", got, tt.want)
				}
				// AppendMarshal appends, leaving what was there.
				app, err := AppendMarshal([]byte("prefix:"), tt.in)
				if err != nil || string(app) != "prefix:"+tt.want {
					t.Fatalf("AppendMarshal = %q, %v", app, err)
				}
			})
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := func(levels int) string {
		return `{"unknown":` + strings.Repeat("[", levels) + strings.Repeat("]", levels) + `}`
	}
	// nestedBody is a log body of AnyValues levels deep, kvlists and arrays taking turns.
	nestedBody := func(levels int) string {
		v := `{"stringValue":"leaf"}`
		for i := 1; i < levels; i++ {
			if i%2 == 0 {
				v = `{"arrayValue":{"values":[` + v + `]}}`
			} else {
				v = `{"kvlistValue":{"values":[{"key":"k","value":` + v + `}]}}`
			}
		}
		return bodyJSON(v)
	}
	nestedPath := func(levels int) string {
		p := "resourceLogs[0].scopeLogs[0].logRecords[0].body"
		for i := levels - 1; i >= 1; i-- {
			if i%2 == 0 {
				p += ".arrayValue.values[0]"
			} else {
				p += ".kvlistValue.values[0].value"
			}
		}
		return p
	}
	deepBody := bodyJSON(`{"x":` + strings.Repeat("[", 1000))
	tests := []struct {
		name     string
		in       string
		maxDepth int
		into     proto.Message
		// want is the error. %d in it is the offset of at, the first place in the input
		// it occurs.
		want string
		at   string
	}{
		// Ids.
		{name: "bad hex", in: spansJSON(`{},{},{"traceId":"5e46df3f0cdba3ba0f72817f28e9ecZZ"}`),
			want: "resourceSpans[0].scopeSpans[0].spans[2].traceId: invalid hex string"},
		{name: "odd hex", in: spansJSON(`{"spanId":"113c83e5e67d9a9"}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].spanId: invalid hex string"},
		{name: "short trace id", in: spansJSON(`{"traceId":"113c83e5e67d9a9b"}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].traceId: invalid length: 8 bytes, want 16"},
		{name: "long span id", in: spansJSON(`{"links":[{"spanId":"` + traceHex + `"}]}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].links[0].spanId: invalid length: 16 bytes, want 8"},
		{name: "base64 id", in: logsJSON(`{"traceId":"XkbfPwzbo7oPcoF/KOnshg=="}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: invalid length: 12 bytes, want 16"},
		{name: "exemplar id", in: metricsJSON(`{"gauge":{"dataPoints":[{"exemplars":[{"spanId":"x"}]}]}}`),
			want: "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].exemplars[0].spanId: invalid hex string"},
		{name: "id not a string", in: spansJSON(`{"traceId":1}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].traceId: want hex string, got number"},

		// Enums.
		{name: "unknown enum name", in: spansJSON(`{"kind":"SPAN_KIND_SERVERS"}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].kind: unknown opentelemetry.proto.trace.v1.Span.SpanKind value"},
		{name: "enum out of range", in: spansJSON(`{"kind":2147483648}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].kind: value out of range"},
		{name: "enum bool", in: spansJSON(`{"kind":true}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].kind: want enum name or number, got boolean"},

		// Integers.
		{name: "uint64 overflow", in: spansJSON(`{"startTimeUnixNano":"18446744073709551616"}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: value out of range"},
		{name: "uint64 negative", in: spansJSON(`{"startTimeUnixNano":-1}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: value out of range"},
		{name: "int64 overflow", in: bodyJSON(`{"intValue":"9223372036854775808"}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue: value out of range"},
		{name: "int64 huge exponent", in: bodyJSON(`{"intValue":1e999999999999}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue: value out of range"},
		{name: "int64 fraction", in: bodyJSON(`{"intValue":1.5}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue: not an integer"},
		{name: "int64 bad string", in: bodyJSON(`{"intValue":"12x"}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue: invalid integer"},
		{name: "int64 padded string", in: bodyJSON(`{"intValue":" 12"}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue: invalid integer"},
		{name: "int64 empty string", in: bodyJSON(`{"intValue":""}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue: invalid integer"},
		{name: "uint32 overflow", in: spansJSON(`{"droppedAttributesCount":4294967296}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].droppedAttributesCount: value out of range"},
		{name: "int32 overflow", in: metricsJSON(`{"exponentialHistogram":{"dataPoints":[{"scale":-2147483649}]}}`),
			want: "resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram.dataPoints[0].scale: value out of range"},
		{name: "integer as bool", in: spansJSON(`{"flags":false}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].flags: want integer, got boolean"},
		{name: "list element wrong", in: metricsJSON(`{"histogram":{"dataPoints":[{"bucketCounts":["1",{}]}]}}`),
			want: "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts[1]: want integer, got object"},

		// Doubles.
		{name: "double overflow", in: bodyJSON(`{"doubleValue":1e400}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.doubleValue: value out of range"},
		{name: "double bad string", in: bodyJSON(`{"doubleValue":"nan"}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.doubleValue: invalid number"},
		{name: "double hex string", in: bodyJSON(`{"doubleValue":"0x10"}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.doubleValue: invalid number"},

		// Types.
		{name: "string as number", in: spansJSON(`{"name":5}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].name: want string, got number"},
		{name: "message as string", in: spansJSON(`{"status":"ok"}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].status: want object, got string"},
		{name: "list as object", in: `{"resourceSpans":{}}`, want: "resourceSpans: want array, got object"},
		{name: "attributes as object", in: spansJSON(`{"attributes":{"k":"v"}}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].attributes: want array, got object"},
		{name: "bool as string", in: bodyJSON(`{"boolValue":"true"}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.boolValue: want boolean, got string"},
		{name: "key as number", in: bodyJSON(`{"kvlistValue":{"values":[{"key":1}]}}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.kvlistValue.values[0].key: want string, got number"},
		{name: "bad base64", in: bodyJSON(`{"bytesValue":"a*=="}`),
			want: "resourceLogs[0].scopeLogs[0].logRecords[0].body.bytesValue: invalid base64 string"},
		{name: "null in a list", in: spansJSON(`{},null`), want: "resourceSpans[0].scopeSpans[0].spans[1]: null in a list"},
		{name: "null in attributes", in: spansJSON(`{"attributes":[{"key":"a"},null]}`),
			want: "resourceSpans[0].scopeSpans[0].spans[0].attributes[1]: null in a list"},
		{name: "top-level array", in: `[]`, want: "offset 0: want object, got array"},
		{name: "top-level null", in: ` null`, want: "offset 1: want object, got null"},

		// Depth.
		{name: "AnyValue nesting at the limit", in: nestedBody(33), want: nestedPath(33) + ": nesting deeper than 32"},
		{name: "AnyValue nesting under a lower limit", in: nestedBody(4), maxDepth: 3, want: nestedPath(4) + ": nesting deeper than 3"},
		// The top object is level 1, so the 160th bracket is one too many.
		{name: "deep unknown field", in: deep(1000),
			want: fmt.Sprintf("offset %d: json nested deeper than 160", len(`{"unknown":`)+159)},
		// The body is level 8.
		{name: "deep unknown field in attributes", in: deepBody,
			want: fmt.Sprintf("offset %d: json nested deeper than 160", strings.Index(deepBody, "[[[")+152)},

		// Syntax.
		{name: "empty input", in: ``, want: "offset 0: unexpected end of input"},
		{name: "whitespace only", in: " \n", want: "offset 2: unexpected end of input"},
		{name: "truncated", in: `{"resourceSpans":[`, want: "offset 18: unexpected end of input"},
		{name: "truncated string", in: bodyJSON(`{"stringValue":"abc`)[:60], want: "offset 60: unexpected end of input"},
		{name: "trailing garbage", in: `{} x`, want: "offset 3: unexpected data after the top-level value"},
		{name: "two values", in: `{}{}`, want: "offset 2: unexpected data after the top-level value"},
		{name: "trailing comma", in: `{"resourceSpans":[],}`, want: `offset 20: unexpected '}', want string key`},
		{name: "trailing comma in list", in: spansJSON(`{},`), want: `offset %d: unexpected ']', want value`, at: "]}]}]}"},
		{name: "missing colon", in: `{"resourceSpans" []}`, want: `offset 17: unexpected '[', want ':'`},
		{name: "missing comma", in: `{"a":1 "b":2}`, want: `offset 7: unexpected '"', want ',' or '}'`},
		{name: "single quotes", in: `{'a':1}`, want: `offset 1: unexpected '\'', want string key`},
		{name: "bare word", in: `{"a":nul}`, want: `offset 8: unexpected '}', want value`},
		{name: "leading zero", in: `{"a":01}`, want: `offset 6: unexpected '1', want ',' or '}'`},
		{name: "plus sign", in: `{"a":+1}`, want: `offset 5: unexpected '+', want value`},
		{name: "bare fraction", in: `{"a":.5}`, want: `offset 5: unexpected '.', want value`},
		{name: "dot without digits", in: `{"a":1.}`, want: `offset 7: unexpected '}', want value`},
		{name: "bare NaN", in: bodyJSON(`{"doubleValue":NaN}`), want: `offset %d: unexpected 'N', want value`, at: "NaN"},
		{name: "control character", in: bodyJSON("{\"stringValue\":\"a\tb\"}"), want: `offset %d: control character in string`, at: "\t"},
		{name: "invalid utf-8", in: bodyJSON("{\"stringValue\":\"a\xffb\"}"), want: `offset %d: invalid utf-8 in string`, at: "\xff"},
		{name: "utf-8 surrogate", in: bodyJSON("{\"stringValue\":\"\xed\xa0\x80\"}"), want: `offset %d: invalid utf-8 in string`, at: "\xed"},
		{name: "invalid utf-8 in a key", in: "{\"\xc3\":1}", want: `offset 2: invalid utf-8 in string`},
		{name: "bad escape", in: bodyJSON(`{"stringValue":"\x41"}`), want: `offset %d: invalid escape in string`, at: `\x`},
		{name: "short unicode escape", in: bodyJSON(`{"stringValue":"\u12G4"}`), want: `offset %d: invalid \u escape in string`, at: `\u`},
		{name: "lone high surrogate", in: bodyJSON(`{"stringValue":"\ud83dx"}`), want: `offset %d: unpaired surrogate in string`, at: `\u`},
		{name: "high surrogate then non-low", in: bodyJSON(`{"stringValue":"\ud83d\u0041"}`), want: `offset %d: unpaired surrogate in string`, at: `\u`},
		{name: "lone low surrogate", in: bodyJSON(`{"stringValue":"\ude00"}`), want: `offset %d: unpaired surrogate in string`, at: `\u`},
		{name: "bad json in unknown field", in: `{"x":[1,2,}`, want: `offset 10: unexpected '}', want value`},
		{name: "byte order mark", in: "\ufeff{}", want: `offset 0: unexpected byte 0xef, want value`},
		{name: "nul byte", in: "{\x00}", want: `offset 1: unexpected byte 0x00, want string key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bothPaths(t, func(t *testing.T) {
				into := tt.into
				if into == nil {
					switch {
					case strings.Contains(tt.in, "resourceLogs"):
						into = &collogspb.ExportLogsServiceRequest{}
					case strings.Contains(tt.in, "resourceMetrics"):
						into = &colmetricspb.ExportMetricsServiceRequest{}
					default:
						into = &coltracepb.ExportTraceServiceRequest{}
					}
				}
				want := tt.want
				if strings.Contains(want, "%d") {
					at := strings.Index(tt.in, tt.at)
					if tt.at == "" || at < 0 {
						t.Fatalf("%q not in the input", tt.at)
					}
					want = fmt.Sprintf(want, at)
				}
				err := UnmarshalOptions{MaxDepth: tt.maxDepth}.Unmarshal([]byte(tt.in), into)
				if err == nil {
					t.Fatalf("Unmarshal(%.200s) = nil, want %q", tt.in, want)
				}
				if err.Error() != want {
					t.Fatalf("Unmarshal(%.200s)\ngot error:  %s\nwant error: %s", tt.in, err, want)
				}
			})
		})
	}
}

// TestDepthLimitAllowsItsOwnDepth checks MaxDepth AnyValues nested as deep as they can sit in
// any request decode fine: the JSON depth bound must never cut in first.
func TestDepthLimitAllowsItsOwnDepth(t *testing.T) {
	for _, maxDepth := range []int{1, 2, 5, DefaultMaxDepth, 100} {
		v := `{"stringValue":"leaf"}`
		for range maxDepth - 1 {
			v = `{"kvlistValue":{"values":[{"key":"k","value":` + v + `}]}}`
		}
		// An exemplar's filtered attributes are the deepest attributes in any request.
		in := metricsJSON(`{"histogram":{"dataPoints":[{"exemplars":[{"filteredAttributes":[{"key":"k","value":` + v + `}]}]}]}}`)
		bothPaths(t, func(t *testing.T) {
			var m colmetricspb.ExportMetricsServiceRequest
			if err := (UnmarshalOptions{MaxDepth: maxDepth}).Unmarshal([]byte(in), &m); err != nil {
				t.Fatalf("MaxDepth %d: %v", maxDepth, err)
			}
			deeper := metricsJSON(`{"histogram":{"dataPoints":[{"exemplars":[{"filteredAttributes":[{"key":"k","value":{"arrayValue":{"values":[` + v + `]}}}]}]}]}}`)
			err := (UnmarshalOptions{MaxDepth: maxDepth}).Unmarshal([]byte(deeper), &m)
			if err == nil || !strings.HasSuffix(err.Error(), fmt.Sprintf(": nesting deeper than %d", maxDepth)) {
				t.Fatalf("MaxDepth %d, one deeper: %v", maxDepth, err)
			}
		})
	}
}

func TestMapFieldsRefused(t *testing.T) {
	s := &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewNullValue()}}
	if _, err := Marshal(s); err == nil || !strings.Contains(err.Error(), "map fields are not supported") {
		t.Errorf("Marshal(Struct) error = %v, want map fields are not supported", err)
	}
	if err := Unmarshal([]byte(`{"fields":{}}`), &structpb.Struct{}); err == nil || !strings.Contains(err.Error(), "map fields are not supported") {
		t.Errorf("Unmarshal into Struct error = %v, want map fields are not supported", err)
	}
}

func TestNilMessage(t *testing.T) {
	if _, err := Marshal(nil); err == nil {
		t.Error("Marshal(nil) succeeded")
	}
	if err := Unmarshal([]byte(`{}`), nil); err == nil {
		t.Error("Unmarshal into nil succeeded")
	}
	var m *coltracepb.ExportTraceServiceRequest
	if err := Unmarshal([]byte(`{}`), m); err == nil {
		t.Error("Unmarshal into a nil pointer succeeded")
	}
	out, err := Marshal(m)
	if err != nil || string(out) != "{}" {
		t.Errorf("Marshal of a nil pointer = %q, %v; want {}", out, err)
	}
}
