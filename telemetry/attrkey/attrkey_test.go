package attrkey

import (
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func num(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

func TestSameSetsSameKey(t *testing.T) {
	var scratch []*commonpb.KeyValue
	key := func(kvs ...*commonpb.KeyValue) string { return string(AppendAttrs(nil, kvs, &scratch)) }
	if key(str("a", "1"), str("b", "2")) != key(str("b", "2"), str("a", "1")) {
		t.Error("the order attributes arrive in changes the key")
	}
	distinct := map[string]string{
		"string 1":         key(str("a", "1")),
		"int 1":            key(num("a", 1)),
		"ab,c":             key(str("ab", "c")),
		"a,bc":             key(str("a", "bc")),
		"two":              key(str("a", ""), str("b", "")),
		"none":             key(),
		"empty key":        key(str("", "")),
		"different values": key(str("a", "2")),
	}
	seen := map[string]string{}
	for name, k := range distinct {
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s encode the same", name, other)
		}
		seen[k] = name
	}
	if cap(scratch) == 0 || len(scratch) != 0 {
		t.Errorf("scratch not kept for reuse: len %d cap %d", len(scratch), cap(scratch))
	}
}
