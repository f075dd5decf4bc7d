// Package attrkey encodes attribute sets as bytes that identify them: two sets encode the same
// if and only if they hold the same keys with the same values, whatever order a client sent
// them in. Sinks that keep state per series (running totals, latest values) key their maps
// with it.
//
// It is not a wire format: the bytes are for comparing within one process, and may change.
package attrkey

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// AppendAttrs appends the encoding of attrs to b. scratch holds the sorted copy between calls,
// so that a caller encoding many sets allocates once.
func AppendAttrs(b []byte, attrs []*commonpb.KeyValue, scratch *[]*commonpb.KeyValue) []byte {
	s := append((*scratch)[:0], attrs...)
	slices.SortStableFunc(s, func(x, y *commonpb.KeyValue) int { return strings.Compare(x.GetKey(), y.GetKey()) })
	b = binary.AppendUvarint(b, uint64(len(s)))
	for _, kv := range s {
		b = AppendString(b, kv.GetKey())
		b = AppendValue(b, kv.GetValue())
	}
	clear(s) // the scratch must not keep the caller's attributes alive
	*scratch = s[:0]
	return b
}

// AppendValue appends the encoding of one attribute value, its type included: the string "1"
// and the integer 1 differ.
func AppendValue(b []byte, v *commonpb.AnyValue) []byte {
	switch x := v.GetValue().(type) {
	case nil:
		return append(b, 0)
	case *commonpb.AnyValue_StringValue:
		return AppendString(append(b, 1), x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		if x.BoolValue {
			return append(b, 2, 1)
		}
		return append(b, 2, 0)
	case *commonpb.AnyValue_IntValue:
		return binary.BigEndian.AppendUint64(append(b, 3), uint64(x.IntValue))
	case *commonpb.AnyValue_DoubleValue:
		return binary.BigEndian.AppendUint64(append(b, 4), math.Float64bits(x.DoubleValue))
	case *commonpb.AnyValue_BytesValue:
		return AppendString(append(b, 5), string(x.BytesValue))
	default:
		// Arrays and maps are rare in metric attributes; their deterministic encoding is
		// identity enough.
		enc, _ := proto.MarshalOptions{Deterministic: true}.Marshal(v)
		return AppendString(append(b, 6), string(enc))
	}
}

// AppendString appends s, length first, so that no two sequences of strings encode the same.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
