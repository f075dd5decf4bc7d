package redact

import (
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"claude-otel-gw/telemetry"
)

// fixture builds requests of every signal with every field of every message set. The strings
// Redact scans hold text; every other string holds raw. Some messages also carry a field this
// build does not know, which must survive.
type fixture struct{ text, raw string }

func (f fixture) unknown(m proto.Message) {
	b := protowire.AppendTag(nil, 999, protowire.BytesType)
	m.ProtoReflect().SetUnknown(protowire.AppendString(b, f.raw))
}

func (f fixture) attrs() []*commonpb.KeyValue {
	s := &commonpb.KeyValue{Key: "s", Value: strVal(f.text), KeyStrindex: 1}
	f.unknown(s)
	f.unknown(s.Value)
	list := &commonpb.KeyValueList{Values: []*commonpb.KeyValue{strKV("inner", f.text)}}
	f.unknown(list)
	arr := &commonpb.ArrayValue{Values: []*commonpb.AnyValue{strVal(f.text), {Value: &commonpb.AnyValue_IntValue{IntValue: 7}}}}
	f.unknown(arr)
	return []*commonpb.KeyValue{
		s,
		{Key: "b", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}},
		{Key: "i", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 42}}},
		{Key: "d", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 1.5}}},
		{Key: "bytes", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte(f.raw)}}},
		{Key: "strindex", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValueStrindex{StringValueStrindex: 3}}},
		{Key: "map", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: list}}},
		{Key: "arr", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}},
	}
}

func (f fixture) resource() *resourcepb.Resource {
	r := &resourcepb.Resource{
		Attributes:             f.attrs(),
		DroppedAttributesCount: 1,
		EntityRefs: []*commonpb.EntityRef{{
			SchemaUrl: f.raw, Type: f.raw, IdKeys: []string{f.raw}, DescriptionKeys: []string{f.raw},
		}},
	}
	f.unknown(r)
	return r
}

func (f fixture) scope() *commonpb.InstrumentationScope {
	s := &commonpb.InstrumentationScope{Name: f.raw, Version: f.raw, Attributes: f.attrs(), DroppedAttributesCount: 2}
	f.unknown(s)
	return s
}

func (f fixture) logs() *collogspb.ExportLogsServiceRequest {
	lr := &logspb.LogRecord{
		TimeUnixNano:           1,
		ObservedTimeUnixNano:   2,
		SeverityNumber:         logspb.SeverityNumber_SEVERITY_NUMBER_INFO,
		SeverityText:           f.raw,
		Body:                   kvlist(strKV("prompt", f.text)),
		Attributes:             f.attrs(),
		DroppedAttributesCount: 3,
		Flags:                  1,
		TraceId:                []byte("0123456789abcdef"),
		SpanId:                 []byte("01234567"),
		EventName:              f.text,
	}
	f.unknown(lr)
	sl := &logspb.ScopeLogs{Scope: f.scope(), LogRecords: []*logspb.LogRecord{lr, {Body: strVal(f.text)}}, SchemaUrl: f.raw}
	f.unknown(sl)
	rl := &logspb.ResourceLogs{Resource: f.resource(), ScopeLogs: []*logspb.ScopeLogs{sl}, SchemaUrl: f.raw}
	f.unknown(rl)
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{rl}}
	f.unknown(req)
	return req
}

func (f fixture) exemplars() []*metricspb.Exemplar {
	return []*metricspb.Exemplar{
		{FilteredAttributes: f.attrs(), TimeUnixNano: 1, Value: &metricspb.Exemplar_AsDouble{AsDouble: 1}, SpanId: []byte("01234567"), TraceId: []byte("0123456789abcdef")},
		{FilteredAttributes: f.attrs(), Value: &metricspb.Exemplar_AsInt{AsInt: 2}},
	}
}

func (f fixture) metrics() *colmetricspb.ExportMetricsServiceRequest {
	num := func() []*metricspb.NumberDataPoint {
		p := &metricspb.NumberDataPoint{
			Attributes: f.attrs(), StartTimeUnixNano: 1, TimeUnixNano: 2,
			Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: 3}, Exemplars: f.exemplars(), Flags: 1,
		}
		f.unknown(p)
		return []*metricspb.NumberDataPoint{p, {Attributes: f.attrs(), Value: &metricspb.NumberDataPoint_AsInt{AsInt: 4}}}
	}
	sum, lo, hi := 10.0, 1.0, 9.0
	ms := []*metricspb.Metric{
		{Name: f.raw, Description: f.raw, Unit: f.raw, Metadata: f.attrs(),
			Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: num()}}},
		{Name: "sum", Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
			DataPoints: num(), AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA, IsMonotonic: true,
		}}},
		{Name: "histogram", Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{
			AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE,
			DataPoints: []*metricspb.HistogramDataPoint{{
				Attributes: f.attrs(), StartTimeUnixNano: 1, TimeUnixNano: 2, Count: 3, Sum: &sum,
				BucketCounts: []uint64{1, 2}, ExplicitBounds: []float64{5}, Exemplars: f.exemplars(),
				Flags: 1, Min: &lo, Max: &hi,
			}},
		}}},
		{Name: "exponential", Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &metricspb.ExponentialHistogram{
			AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA,
			DataPoints: []*metricspb.ExponentialHistogramDataPoint{{
				Attributes: f.attrs(), StartTimeUnixNano: 1, TimeUnixNano: 2, Count: 3, Sum: &sum, Scale: 2, ZeroCount: 1,
				Positive:  &metricspb.ExponentialHistogramDataPoint_Buckets{Offset: 1, BucketCounts: []uint64{1}},
				Negative:  &metricspb.ExponentialHistogramDataPoint_Buckets{Offset: 2, BucketCounts: []uint64{2}},
				Exemplars: f.exemplars(), Flags: 1, Min: &lo, Max: &hi, ZeroThreshold: 0.5,
			}},
		}}},
		{Name: "summary", Data: &metricspb.Metric_Summary{Summary: &metricspb.Summary{
			DataPoints: []*metricspb.SummaryDataPoint{{
				Attributes: f.attrs(), StartTimeUnixNano: 1, TimeUnixNano: 2, Count: 3, Sum: 4,
				QuantileValues: []*metricspb.SummaryDataPoint_ValueAtQuantile{{Quantile: 0.5, Value: 2}}, Flags: 1,
			}},
		}}},
	}
	f.unknown(ms[0])
	sm := &metricspb.ScopeMetrics{Scope: f.scope(), Metrics: ms, SchemaUrl: f.raw}
	rm := &metricspb.ResourceMetrics{Resource: f.resource(), ScopeMetrics: []*metricspb.ScopeMetrics{sm}, SchemaUrl: f.raw}
	return &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{rm}}
}

func (f fixture) traces() *coltracepb.ExportTraceServiceRequest {
	span := &tracepb.Span{
		TraceId:                []byte("0123456789abcdef"),
		SpanId:                 []byte("01234567"),
		TraceState:             f.raw,
		ParentSpanId:           []byte("76543210"),
		Flags:                  1,
		Name:                   f.text,
		Kind:                   tracepb.Span_SPAN_KIND_CLIENT,
		StartTimeUnixNano:      1,
		EndTimeUnixNano:        2,
		Attributes:             f.attrs(),
		DroppedAttributesCount: 1,
		Events:                 []*tracepb.Span_Event{{TimeUnixNano: 1, Name: f.text, Attributes: f.attrs(), DroppedAttributesCount: 1}},
		DroppedEventsCount:     2,
		Links: []*tracepb.Span_Link{{
			TraceId: []byte("fedcba9876543210"), SpanId: []byte("89abcdef"), TraceState: f.raw,
			Attributes: f.attrs(), DroppedAttributesCount: 1, Flags: 1,
		}},
		DroppedLinksCount: 3,
		Status:            &tracepb.Status{Message: f.text, Code: tracepb.Status_STATUS_CODE_ERROR},
	}
	f.unknown(span)
	f.unknown(span.Events[0])
	f.unknown(span.Links[0])
	f.unknown(span.Status)
	ss := &tracepb.ScopeSpans{Scope: f.scope(), Spans: []*tracepb.Span{span}, SchemaUrl: f.raw}
	rs := &tracepb.ResourceSpans{Resource: f.resource(), ScopeSpans: []*tracepb.ScopeSpans{ss}, SchemaUrl: f.raw}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{rs}}
}

// TestRedactEveryField redacts requests with every field set and compares with what must come
// out: every field carried over, text redacted, everything else as it was.
func TestRedactEveryField(t *testing.T) {
	const secret = "mail alice@example.com"
	in := fixture{text: secret, raw: secret}
	want := fixture{text: "mail [REDACTED:email]", raw: secret}
	checkEveryFieldSet(t, in.logs(), in.metrics(), in.traces())

	p := mustCompile(t, "default", nil)
	for _, c := range []struct {
		in, want proto.Message
	}{
		{in.logs(), want.logs()},
		{in.metrics(), want.metrics()},
		{in.traces(), want.traces()},
	} {
		before := proto.Clone(c.in)
		out, err := p.Redact(telemetry.NewRequest(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(out.Message(), c.want) {
			t.Errorf("%T:\n got  %v\n want %v", c.in, out.Message(), c.want)
		}
		if !proto.Equal(c.in, before) {
			t.Errorf("%T: the input changed", c.in)
		}
	}
}

// checkEveryFieldSet fails for every field, of every message type the fixture holds, that no
// message sets: a field added to OTLP makes this fail until the fixture and the walk know it.
func checkEveryFieldSet(t *testing.T, msgs ...proto.Message) {
	t.Helper()
	set := map[protoreflect.FullName]map[protoreflect.Name]bool{}
	descs := map[protoreflect.FullName]protoreflect.MessageDescriptor{}
	var visit func(m protoreflect.Message)
	visit = func(m protoreflect.Message) {
		d := m.Descriptor()
		descs[d.FullName()] = d
		if set[d.FullName()] == nil {
			set[d.FullName()] = map[protoreflect.Name]bool{}
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			set[d.FullName()][fd.Name()] = true
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					visit(v.List().Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				visit(v.Message())
			}
			return true
		})
	}
	for _, m := range msgs {
		visit(m.ProtoReflect())
	}
	for name, d := range descs {
		for i := 0; i < d.Fields().Len(); i++ {
			if f := d.Fields().Get(i); !set[name][f.Name()] {
				t.Errorf("the fixture never sets %s", f.FullName())
			}
		}
	}
}
