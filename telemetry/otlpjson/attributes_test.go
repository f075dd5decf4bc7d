package otlpjson

import (
	"bytes"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func TestHandWrittenCoversThisProtoModule(t *testing.T) {
	if !fastAttributes {
		t.Fatal("KeyValue, AnyValue, ArrayValue or KeyValueList has fields attributes.go does not know: " +
			"decoding is still correct, through the descriptors, but slower; teach attributes.go the new fields")
	}
}

func TestFieldsAre(t *testing.T) {
	kv := (&commonpb.KeyValue{}).ProtoReflect().Descriptor()
	tests := []struct {
		name string
		want []any
		ok   bool
	}{
		{"exact", []any{
			"key", "key", protoreflect.StringKind, "",
			"value", "value", protoreflect.MessageKind, "",
			"key_strindex", "keyStrindex", protoreflect.Int32Kind, "",
		}, true},
		{"a field more in the descriptor", []any{
			"key", "key", protoreflect.StringKind, "",
			"value", "value", protoreflect.MessageKind, "",
		}, false},
		{"renamed in JSON", []any{
			"key", "key", protoreflect.StringKind, "",
			"value", "valueX", protoreflect.MessageKind, "",
			"key_strindex", "keyStrindex", protoreflect.Int32Kind, "",
		}, false},
		{"other kind", []any{
			"key", "key", protoreflect.BytesKind, "",
			"value", "value", protoreflect.MessageKind, "",
			"key_strindex", "keyStrindex", protoreflect.Int32Kind, "",
		}, false},
		{"into a oneof", []any{
			"key", "key", protoreflect.StringKind, "",
			"value", "value", protoreflect.MessageKind, "value",
			"key_strindex", "keyStrindex", protoreflect.Int32Kind, "",
		}, false},
	}
	for _, tt := range tests {
		if got := fieldsAre(kv, tt.want...); got != tt.ok {
			t.Errorf("%s: fieldsAre = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

// TestHandWrittenMatchesDescriptors holds the hand-written attribute code to the
// descriptor-driven code it stands in for: byte for byte on output, message for message on
// input.
func TestHandWrittenMatchesDescriptors(t *testing.T) {
	msgs := crossCheckMessages(t)
	fast := map[string][]byte{}
	for name, m := range msgs {
		out, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		fast[name] = out
	}
	withoutHandWritten(t)
	for name, m := range msgs {
		slow, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast[name], slow) {
			t.Fatalf("%s: outputs differ\nhand-written:      %s\ndescriptor-driven: %s", name, fast[name], slow)
		}
		back := m.ProtoReflect().New().Interface()
		if err := Unmarshal(fast[name], back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !proto.Equal(m, back) {
			t.Fatalf("%s: the descriptor-driven decoder reads a different message", name)
		}
	}
}
