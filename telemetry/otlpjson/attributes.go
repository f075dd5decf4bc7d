package otlpjson

import (
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// Attributes are most of what a request holds: Claude Code puts a dozen or more on every
// record. So KeyValue, AnyValue, ArrayValue and KeyValueList are coded by hand, working on
// the generated structs directly, which is several times faster than going through
// protoreflect and allocates only what the decoded message itself needs.
//
// The hand-written code knows the fields these messages have in the proto module it was
// written against. fastAttributes checks that the descriptors still say exactly that; if a
// newer module adds a field, the hand-written code stands aside and the descriptor-driven code
// handles these messages like any other, so nothing is ever silently dropped.

// fastAttributes reports whether the hand-written code covers every field of the four
// attribute messages.
var fastAttributes = fieldsAre((&commonpb.KeyValue{}).ProtoReflect().Descriptor(),
	"key", "key", protoreflect.StringKind, "",
	"value", "value", protoreflect.MessageKind, "",
	"key_strindex", "keyStrindex", protoreflect.Int32Kind, "",
) && fieldsAre((&commonpb.AnyValue{}).ProtoReflect().Descriptor(),
	"string_value", "stringValue", protoreflect.StringKind, "value",
	"bool_value", "boolValue", protoreflect.BoolKind, "value",
	"int_value", "intValue", protoreflect.Int64Kind, "value",
	"double_value", "doubleValue", protoreflect.DoubleKind, "value",
	"array_value", "arrayValue", protoreflect.MessageKind, "value",
	"kvlist_value", "kvlistValue", protoreflect.MessageKind, "value",
	"bytes_value", "bytesValue", protoreflect.BytesKind, "value",
	"string_value_strindex", "stringValueStrindex", protoreflect.Int32Kind, "value",
) && fieldsAre((&commonpb.ArrayValue{}).ProtoReflect().Descriptor(),
	"values", "values", protoreflect.MessageKind, "",
) && fieldsAre((&commonpb.KeyValueList{}).ProtoReflect().Descriptor(),
	"values", "values", protoreflect.MessageKind, "",
)

// fieldsAre reports whether md has exactly the fields given as (name, JSON name, kind, oneof)
// quadruples, in that order. A change of Go type would stop the hand-written code compiling;
// these are the changes that would not.
func fieldsAre(md protoreflect.MessageDescriptor, want ...any) bool {
	fds := md.Fields()
	if fds.Len()*4 != len(want) {
		return false
	}
	for i := range fds.Len() {
		fd := fds.Get(i)
		oneof := ""
		if od := fd.ContainingOneof(); od != nil {
			oneof = string(od.Name())
		}
		if string(fd.Name()) != want[4*i] ||
			fd.JSONName() != want[4*i+1] ||
			fd.Kind() != want[4*i+2].(protoreflect.Kind) ||
			oneof != want[4*i+3] {
			return false
		}
	}
	return true
}

// isAttributeType reports whether md is one of the messages this file codes by hand.
func isAttributeType(md protoreflect.MessageDescriptor) bool {
	switch md {
	case (&commonpb.KeyValue{}).ProtoReflect().Descriptor(),
		(&commonpb.AnyValue{}).ProtoReflect().Descriptor(),
		(&commonpb.ArrayValue{}).ProtoReflect().Descriptor(),
		(&commonpb.KeyValueList{}).ProtoReflect().Descriptor():
		return fastAttributes
	}
	return false
}

// encodeAttribute writes m if it is one of the hand-coded messages, and reports whether it was.
func (e *encoder) encodeAttribute(m protoreflect.Message) bool {
	if !m.IsValid() {
		return false // a nil message: the descriptor-driven code writes {} for it
	}
	switch x := m.Interface().(type) {
	case *commonpb.KeyValue:
		e.keyValue(x)
	case *commonpb.AnyValue:
		e.anyValue(x)
	case *commonpb.ArrayValue:
		e.arrayValue(x)
	case *commonpb.KeyValueList:
		e.kvList(x)
	default:
		return false
	}
	return true
}

func (e *encoder) keyValue(kv *commonpb.KeyValue) {
	e.b = append(e.b, '{')
	sep := false
	if kv.Key != "" {
		e.b = append(e.b, `"key":`...)
		e.b = appendString(e.b, kv.Key)
		sep = true
	}
	if kv.Value != nil {
		if sep {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, `"value":`...)
		e.anyValue(kv.Value)
		sep = true
	}
	if kv.KeyStrindex != 0 {
		if sep {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, `"keyStrindex":`...)
		e.b = appendInt32(e.b, kv.KeyStrindex)
	}
	e.b = append(e.b, '}')
}

func (e *encoder) anyValue(av *commonpb.AnyValue) {
	// A typed nil in the oneof counts as unset, as it does for protoreflect.
	switch v := av.Value.(type) {
	case *commonpb.AnyValue_StringValue:
		if v != nil {
			e.b = append(e.b, `{"stringValue":`...)
			e.b = appendString(e.b, v.StringValue)
			e.b = append(e.b, '}')
			return
		}
	case *commonpb.AnyValue_BoolValue:
		if v != nil {
			if v.BoolValue {
				e.b = append(e.b, `{"boolValue":true}`...)
			} else {
				e.b = append(e.b, `{"boolValue":false}`...)
			}
			return
		}
	case *commonpb.AnyValue_IntValue:
		if v != nil {
			e.b = append(e.b, `{"intValue":"`...)
			e.b = appendInt64(e.b, v.IntValue)
			e.b = append(e.b, `"}`...)
			return
		}
	case *commonpb.AnyValue_DoubleValue:
		if v != nil {
			e.b = append(e.b, `{"doubleValue":`...)
			e.b = appendFloat(e.b, v.DoubleValue, 64)
			e.b = append(e.b, '}')
			return
		}
	case *commonpb.AnyValue_ArrayValue:
		if v != nil {
			e.b = append(e.b, `{"arrayValue":`...)
			e.arrayValue(v.ArrayValue)
			e.b = append(e.b, '}')
			return
		}
	case *commonpb.AnyValue_KvlistValue:
		if v != nil {
			e.b = append(e.b, `{"kvlistValue":`...)
			e.kvList(v.KvlistValue)
			e.b = append(e.b, '}')
			return
		}
	case *commonpb.AnyValue_BytesValue:
		if v != nil {
			e.b = append(e.b, `{"bytesValue":`...)
			e.b = appendBase64(e.b, v.BytesValue)
			e.b = append(e.b, '}')
			return
		}
	case *commonpb.AnyValue_StringValueStrindex:
		if v != nil {
			e.b = append(e.b, `{"stringValueStrindex":`...)
			e.b = appendInt32(e.b, v.StringValueStrindex)
			e.b = append(e.b, '}')
			return
		}
	}
	e.b = append(e.b, "{}"...)
}

// arrayValue writes a (possibly nil) ArrayValue.
func (e *encoder) arrayValue(a *commonpb.ArrayValue) {
	if len(a.GetValues()) == 0 {
		e.b = append(e.b, "{}"...)
		return
	}
	e.b = append(e.b, `{"values":[`...)
	for i, v := range a.Values {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if v == nil {
			e.b = append(e.b, "{}"...)
			continue
		}
		e.anyValue(v)
	}
	e.b = append(e.b, "]}"...)
}

// kvList writes a (possibly nil) KeyValueList.
func (e *encoder) kvList(l *commonpb.KeyValueList) {
	if len(l.GetValues()) == 0 {
		e.b = append(e.b, "{}"...)
		return
	}
	e.b = append(e.b, `{"values":[`...)
	for i, kv := range l.Values {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if kv == nil {
			e.b = append(e.b, "{}"...)
			continue
		}
		e.keyValue(kv)
	}
	e.b = append(e.b, "]}"...)
}

// decodeAttribute decodes into m if it is one of the hand-coded messages, and reports whether
// it was.
func (d *decoder) decodeAttribute(m protoreflect.Message) (bool, error) {
	switch x := m.Interface().(type) {
	case *commonpb.KeyValue:
		return true, d.keyValue(x)
	case *commonpb.AnyValue:
		return true, d.anyValue(x)
	case *commonpb.ArrayValue:
		return true, d.arrayValue(x)
	case *commonpb.KeyValueList:
		return true, d.kvList(x)
	}
	return false, nil
}

func (d *decoder) keyValue(kv *commonpb.KeyValue) error {
	return d.object(func(k []byte) error {
		switch string(k) {
		case "key":
			d.push("key")
			if d.isNull() {
				kv.Key = ""
			} else {
				s, err := d.string()
				if err != nil {
					return err
				}
				kv.Key = s
			}
		case "value":
			d.push("value")
			if d.isNull() {
				kv.Value = nil
			} else {
				av := new(commonpb.AnyValue)
				if err := d.anyValue(av); err != nil {
					return err
				}
				kv.Value = av
			}
		case "keyStrindex", "key_strindex":
			d.push("keyStrindex")
			if d.isNull() {
				kv.KeyStrindex = 0
			} else {
				v, err := d.integer(kindInt32)
				if err != nil {
					return err
				}
				kv.KeyStrindex = int32(v.Int())
			}
		default:
			return d.skip()
		}
		d.pop()
		return nil
	})
}

func (d *decoder) anyValue(av *commonpb.AnyValue) error {
	d.anyDepth++
	if d.anyDepth > d.maxAny {
		return d.fieldErrorf("nesting deeper than %d", d.maxAny)
	}
	err := d.object(func(k []byte) error {
		switch string(k) {
		case "stringValue", "string_value":
			d.push("stringValue")
			if d.isNull() {
				if _, ok := av.Value.(*commonpb.AnyValue_StringValue); ok {
					av.Value = nil
				}
				break
			}
			s, err := d.string()
			if err != nil {
				return err
			}
			av.Value = &commonpb.AnyValue_StringValue{StringValue: s}
		case "boolValue", "bool_value":
			d.push("boolValue")
			if d.isNull() {
				if _, ok := av.Value.(*commonpb.AnyValue_BoolValue); ok {
					av.Value = nil
				}
				break
			}
			v, err := d.bool()
			if err != nil {
				return err
			}
			av.Value = &commonpb.AnyValue_BoolValue{BoolValue: v}
		case "intValue", "int_value":
			d.push("intValue")
			if d.isNull() {
				if _, ok := av.Value.(*commonpb.AnyValue_IntValue); ok {
					av.Value = nil
				}
				break
			}
			v, err := d.integer(kindInt64)
			if err != nil {
				return err
			}
			av.Value = &commonpb.AnyValue_IntValue{IntValue: v.Int()}
		case "doubleValue", "double_value":
			d.push("doubleValue")
			if d.isNull() {
				if _, ok := av.Value.(*commonpb.AnyValue_DoubleValue); ok {
					av.Value = nil
				}
				break
			}
			v, err := d.float(64)
			if err != nil {
				return err
			}
			av.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: v.Float()}
		case "arrayValue", "array_value":
			d.push("arrayValue")
			if d.isNull() {
				if _, ok := av.Value.(*commonpb.AnyValue_ArrayValue); ok {
					av.Value = nil
				}
				break
			}
			a := new(commonpb.ArrayValue)
			if err := d.arrayValue(a); err != nil {
				return err
			}
			av.Value = &commonpb.AnyValue_ArrayValue{ArrayValue: a}
		case "kvlistValue", "kvlist_value":
			d.push("kvlistValue")
			if d.isNull() {
				if _, ok := av.Value.(*commonpb.AnyValue_KvlistValue); ok {
					av.Value = nil
				}
				break
			}
			l := new(commonpb.KeyValueList)
			if err := d.kvList(l); err != nil {
				return err
			}
			av.Value = &commonpb.AnyValue_KvlistValue{KvlistValue: l}
		case "bytesValue", "bytes_value":
			d.push("bytesValue")
			if d.isNull() {
				if _, ok := av.Value.(*commonpb.AnyValue_BytesValue); ok {
					av.Value = nil
				}
				break
			}
			v, err := d.base64()
			if err != nil {
				return err
			}
			av.Value = &commonpb.AnyValue_BytesValue{BytesValue: v.Bytes()}
		case "stringValueStrindex", "string_value_strindex":
			d.push("stringValueStrindex")
			if d.isNull() {
				if _, ok := av.Value.(*commonpb.AnyValue_StringValueStrindex); ok {
					av.Value = nil
				}
				break
			}
			v, err := d.integer(kindInt32)
			if err != nil {
				return err
			}
			av.Value = &commonpb.AnyValue_StringValueStrindex{StringValueStrindex: int32(v.Int())}
		default:
			return d.skip()
		}
		d.pop()
		return nil
	})
	d.anyDepth--
	return err
}

func (d *decoder) arrayValue(a *commonpb.ArrayValue) error {
	return d.object(func(k []byte) error {
		if string(k) != "values" {
			return d.skip()
		}
		d.push("values")
		a.Values = nil
		if !d.isNull() {
			if err := d.anyValues(&a.Values); err != nil {
				return err
			}
		}
		d.pop()
		return nil
	})
}

func (d *decoder) kvList(l *commonpb.KeyValueList) error {
	return d.object(func(k []byte) error {
		if string(k) != "values" {
			return d.skip()
		}
		d.push("values")
		l.Values = nil
		if !d.isNull() {
			if err := d.keyValues(&l.Values); err != nil {
				return err
			}
		}
		d.pop()
		return nil
	})
}

// keyValues decodes an array of KeyValue into *list, replacing what it held. The elements
// are gathered on d.kvStack (nested lists stack up on it) so the slice is allocated once, at
// its final size.
func (d *decoder) keyValues(list *[]*commonpb.KeyValue) error {
	*list = nil
	base := len(d.kvStack)
	err := d.array(func() error {
		kv := new(commonpb.KeyValue)
		d.kvStack = append(d.kvStack, kv)
		return d.keyValue(kv)
	})
	if n := len(d.kvStack) - base; n > 0 {
		*list = append(make([]*commonpb.KeyValue, 0, n), d.kvStack[base:]...)
		clear(d.kvStack[base:])
		d.kvStack = d.kvStack[:base]
	}
	return err
}

// anyValues is keyValues for arrays of AnyValue.
func (d *decoder) anyValues(list *[]*commonpb.AnyValue) error {
	*list = nil
	base := len(d.avStack)
	err := d.array(func() error {
		av := new(commonpb.AnyValue)
		d.avStack = append(d.avStack, av)
		return d.anyValue(av)
	})
	if n := len(d.avStack) - base; n > 0 {
		*list = append(make([]*commonpb.AnyValue, 0, n), d.avStack[base:]...)
		clear(d.avStack[base:])
		d.avStack = d.avStack[:base]
	}
	return err
}

var keyValuesType = reflect.TypeFor[[]*commonpb.KeyValue]()

// generatedType returns the Go type generated for md, or nil when there is none (a dynamic
// message).
func generatedType(md protoreflect.MessageDescriptor) reflect.Type {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil || mt.Descriptor() != md {
		return nil
	}
	t := reflect.TypeOf(mt.Zero().Interface())
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	return t
}

// attributeListIndex returns the index of the field of the generated struct t that holds fd
// when fd is a list of KeyValue the hand-written code can fill, or -1.
func attributeListIndex(t reflect.Type, fd protoreflect.FieldDescriptor) int {
	if t == nil || !fastAttributes || !fd.IsList() || fd.Message() == nil ||
		fd.Message() != (&commonpb.KeyValue{}).ProtoReflect().Descriptor() {
		return -1
	}
	st := t.Elem()
	for i := range st.NumField() {
		sf := st.Field(i)
		// protobuf:"bytes,3,rep,name=attributes,proto3"
		parts := strings.Split(sf.Tag.Get("protobuf"), ",")
		if len(parts) < 2 || parts[1] != strconv.Itoa(int(fd.Number())) {
			continue
		}
		if sf.Type != keyValuesType {
			return -1
		}
		return i
	}
	return -1
}

// attributeList returns the attribute slice f refers to in m, or nil when m is not the
// generated type the plan was built for.
func attributeList(p *plan, f *field, m protoreflect.Message) *[]*commonpb.KeyValue {
	if f.attrs < 0 {
		return nil
	}
	x := m.Interface()
	if reflect.TypeOf(x) != p.goType {
		return nil
	}
	return reflect.ValueOf(x).Elem().Field(f.attrs).Addr().Interface().(*[]*commonpb.KeyValue)
}
