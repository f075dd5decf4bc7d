package promsink

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// label is one allow-listed attribute and the Prometheus label it becomes.
type label struct {
	key   string // the attribute key
	alias string // a key older Claude Code versions sent instead, looked up when key is absent
	name  string // the Prometheus label name
}

// aliases are attribute keys Claude Code renamed: a label asked for by the new key also takes
// the old one, so data from older clients lands in the same series.
var aliases = map[string]string{"tool_name": "tool"}

// maxLabelValueBytes bounds a label value, so that the memory of MaxSeries series stays bounded
// whatever a client puts in an attribute. Values this long are not ids or model names anyway.
const maxLabelValueBytes = 256

// labelValues appends the values of the allow-listed labels found on the data point's
// attributes, or else on the resource's, to vals, and returns them with a mask of which labels
// they are (bit i for labels[i]). A label whose attribute is missing, empty or not a scalar is
// left out: Prometheus treats an empty label as an absent one.
func labelValues(labels []label, point, resource []*commonpb.KeyValue, vals []string) ([]string, uint64) {
	var mask uint64
	for i, l := range labels {
		v, ok := lookup(point, l.key)
		if !ok {
			v, ok = lookup(resource, l.key)
		}
		if !ok && l.alias != "" {
			if v, ok = lookup(point, l.alias); !ok {
				v, ok = lookup(resource, l.alias)
			}
		}
		if ok && v != "" {
			mask |= 1 << i
			vals = append(vals, v)
		}
	}
	return vals, mask
}

// lookup finds key among attrs and returns its value as label text.
func lookup(attrs []*commonpb.KeyValue, key string) (string, bool) {
	for _, kv := range attrs {
		if kv.GetKey() == key {
			return labelText(kv.GetValue())
		}
	}
	return "", false
}

// labelText renders a scalar attribute value; arrays, maps and bytes are not label material.
func labelText(v *commonpb.AnyValue) (string, bool) {
	var s string
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		s = x.StringValue
	case *commonpb.AnyValue_BoolValue:
		s = strconv.FormatBool(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		s = strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		s = strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	default:
		return "", false
	}
	if len(s) > maxLabelValueBytes {
		s = s[:maxLabelValueBytes]
	}
	if !utf8.ValidString(s) {
		// Cutting may split a rune, and OTLP/JSON or a careless client may send invalid UTF-8;
		// the exposition format needs valid text.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s, true
}

// appendSeriesKey encodes the labels present and their values, unambiguously, as the key of a
// series within its family.
func appendSeriesKey(b []byte, mask uint64, vals []string) []byte {
	b = binary.AppendUvarint(b, mask)
	for _, v := range vals {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}
