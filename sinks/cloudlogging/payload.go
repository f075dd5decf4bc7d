package cloudlogging

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// maxExactInt is the largest integer a double holds exactly: Struct numbers are doubles, so a
// larger one (a nanosecond timestamp, a 64-bit id) is written as a decimal string instead of
// being silently rounded.
const maxExactInt = 1 << 53

// jsonValue turns an OTLP value into JSON, keeping maps and arrays nested. Bytes become base64
// strings, as in OTLP/JSON; NaN and the infinities, which JSON has no number for, become the
// strings "NaN", "+Inf" and "-Inf"; an empty value is null.
func jsonValue(av *commonpb.AnyValue) *structpb.Value {
	switch v := av.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return stringValue(v.StringValue)
	case *commonpb.AnyValue_BoolValue:
		return &structpb.Value{Kind: &structpb.Value_BoolValue{BoolValue: v.BoolValue}}
	case *commonpb.AnyValue_IntValue:
		if v.IntValue > maxExactInt || v.IntValue < -maxExactInt {
			return stringValue(strconv.FormatInt(v.IntValue, 10))
		}
		return numberValue(float64(v.IntValue))
	case *commonpb.AnyValue_DoubleValue:
		if math.IsNaN(v.DoubleValue) || math.IsInf(v.DoubleValue, 0) {
			return stringValue(strconv.FormatFloat(v.DoubleValue, 'g', -1, 64))
		}
		return numberValue(v.DoubleValue)
	case *commonpb.AnyValue_BytesValue:
		return stringValue(base64.StdEncoding.EncodeToString(v.BytesValue))
	case *commonpb.AnyValue_ArrayValue:
		vals := v.ArrayValue.GetValues()
		list := &structpb.ListValue{Values: make([]*structpb.Value, len(vals))}
		for i, e := range vals {
			list.Values[i] = jsonValue(e)
		}
		return &structpb.Value{Kind: &structpb.Value_ListValue{ListValue: list}}
	case *commonpb.AnyValue_KvlistValue:
		return structValue(jsonObject(v.KvlistValue.GetValues()))
	}
	return &structpb.Value{Kind: &structpb.Value_NullValue{}}
}

// jsonObject turns attributes into a JSON object. Keys stay as they are ("event.name" is one
// key, not a path); of repeated keys, the last wins, as in a JSON decoder.
func jsonObject(kvs []*commonpb.KeyValue) *structpb.Struct {
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(kvs))}
	for _, kv := range kvs {
		s.Fields[kv.GetKey()] = jsonValue(kv.GetValue())
	}
	return s
}

// stringValue and numberValue allocate the Value and its kind together: a payload is mostly
// strings, and this halves what building one allocates.
func stringValue(s string) *structpb.Value {
	p := &struct {
		v structpb.Value
		k structpb.Value_StringValue
	}{k: structpb.Value_StringValue{StringValue: s}}
	p.v.Kind = &p.k
	return &p.v
}

func numberValue(f float64) *structpb.Value {
	p := &struct {
		v structpb.Value
		k structpb.Value_NumberValue
	}{k: structpb.Value_NumberValue{NumberValue: f}}
	p.v.Kind = &p.k
	return &p.v
}

func structValue(s *structpb.Struct) *structpb.Value {
	return &structpb.Value{Kind: &structpb.Value_StructValue{StructValue: s}}
}

// labelValue is an attribute's value as a label: strings as they are, numbers and booleans as
// their decimal or literal text, bytes as base64, arrays and maps as compact JSON.
func labelValue(av *commonpb.AnyValue) string {
	switch v := av.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return v.StringValue
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(v.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(v.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(v.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_BytesValue:
		return base64.StdEncoding.EncodeToString(v.BytesValue)
	case *commonpb.AnyValue_ArrayValue, *commonpb.AnyValue_KvlistValue:
		// encoding/json sorts map keys, so a label's text is stable from one entry to the
		// next; its numbers are the payload's (big integers as strings).
		b, err := json.Marshal(jsonValue(av).AsInterface())
		if err != nil {
			return ""
		}
		return string(b)
	}
	return ""
}
