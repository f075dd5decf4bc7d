package otlpjson

import (
	"fmt"
	"reflect"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// A plan is what the encoder and decoder need to know about one message type, worked out once
// from its descriptor so the per-record work is table lookups rather than descriptor walks.
// Plans are immutable once published and shared by every goroutine.
type plan struct {
	fields []field // in declaration order, which is the order they are written in
	// byName finds a field by its lowerCamelCase JSON name or its snake_case proto name.
	byName map[string]*field
	// anyValue marks opentelemetry.proto.common.v1.AnyValue, whose nesting MaxDepth bounds.
	anyValue bool
	// attribute marks the messages attributes.go codes by hand.
	attribute bool
	// goType is the generated Go type registered for the message (a pointer to struct), or nil.
	goType reflect.Type
}

// A field is one field of a plan.
type field struct {
	fd   protoreflect.FieldDescriptor
	name string // JSON name, for error paths
	key  []byte // `"jsonName":`, ready to append
	kind kind
	list bool
	// hexLen is the byte length of an id written as hex (16 for trace ids, 8 for span ids).
	hexLen int
	msg    *plan // kind == kindMessage
	// attrs is the index of the Go struct field holding a list of attributes, when the
	// field is one, so attributes.go can append to the slice directly; -1 otherwise.
	attrs int
	enums map[string]protoreflect.EnumNumber // kind == kindEnum: value names
	enum  protoreflect.FullName              // kind == kindEnum: for error messages
}

// kind is how a field's value is written in JSON, which is coarser than the protobuf kind.
type kind uint8

const (
	kindBool kind = iota
	kindInt32
	kindUint32
	kindInt64  // written as a decimal string
	kindUint64 // written as a decimal string
	kindFloat
	kindDouble
	kindString
	kindBytes // base64
	kindHex   // trace and span ids
	kindEnum
	kindMessage
)

// idLengths are the bytes fields OTLP/JSON writes as hex instead of base64, by proto field
// name, with the length a non-empty id must have.
var idLengths = map[protoreflect.Name]int{
	"trace_id":       16,
	"span_id":        8,
	"parent_span_id": 8,
}

const anyValueName protoreflect.FullName = "opentelemetry.proto.common.v1.AnyValue"

var (
	plans   sync.Map // protoreflect.MessageDescriptor -> *plan
	buildMu sync.Mutex
)

// planFor returns the plan for md, building it (and the plans of every message it reaches) on
// first use.
func planFor(md protoreflect.MessageDescriptor) (*plan, error) {
	if p, ok := plans.Load(md); ok {
		return p.(*plan), nil
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := plans.Load(md); ok {
		return p.(*plan), nil
	}
	// Sub-plans are published only together with the top one, so a reader never sees a plan
	// whose fields point at one still being filled in.
	built := map[protoreflect.MessageDescriptor]*plan{}
	p, err := buildPlan(md, built)
	if err != nil {
		return nil, err
	}
	for d, sp := range built {
		plans.LoadOrStore(d, sp)
	}
	return p, nil
}

func buildPlan(md protoreflect.MessageDescriptor, built map[protoreflect.MessageDescriptor]*plan) (*plan, error) {
	if p, ok := plans.Load(md); ok {
		return p.(*plan), nil
	}
	if p, ok := built[md]; ok {
		return p, nil // a recursive type: the pointer is enough, it is filled in below
	}
	fds := md.Fields()
	p := &plan{
		fields:    make([]field, fds.Len()),
		byName:    make(map[string]*field, 2*fds.Len()),
		anyValue:  md.FullName() == anyValueName,
		attribute: isAttributeType(md),
		goType:    generatedType(md),
	}
	built[md] = p
	for i := range fds.Len() {
		fd := fds.Get(i)
		f := &p.fields[i]
		f.fd = fd
		f.name = fd.JSONName()
		f.key = fmt.Appendf(nil, "%q:", f.name)
		f.list = fd.IsList()
		f.attrs = attributeListIndex(p.goType, fd)
		if fd.IsMap() {
			return nil, fmt.Errorf("%s: map fields are not supported", fd.FullName())
		}
		switch fd.Kind() {
		case protoreflect.BoolKind:
			f.kind = kindBool
		case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
			f.kind = kindInt32
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
			f.kind = kindUint32
		case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
			f.kind = kindInt64
		case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			f.kind = kindUint64
		case protoreflect.FloatKind:
			f.kind = kindFloat
		case protoreflect.DoubleKind:
			f.kind = kindDouble
		case protoreflect.StringKind:
			f.kind = kindString
		case protoreflect.BytesKind:
			f.kind = kindBytes
			if n, ok := idLengths[fd.Name()]; ok {
				f.kind = kindHex
				f.hexLen = n
			}
		case protoreflect.EnumKind:
			f.kind = kindEnum
			ed := fd.Enum()
			f.enum = ed.FullName()
			vals := ed.Values()
			f.enums = make(map[string]protoreflect.EnumNumber, vals.Len())
			for j := range vals.Len() {
				v := vals.Get(j)
				f.enums[string(v.Name())] = v.Number()
			}
		case protoreflect.MessageKind, protoreflect.GroupKind:
			f.kind = kindMessage
			sub, err := buildPlan(fd.Message(), built)
			if err != nil {
				return nil, err
			}
			f.msg = sub
		default:
			return nil, fmt.Errorf("%s: unsupported field kind %v", fd.FullName(), fd.Kind())
		}
		if _, taken := p.byName[string(fd.Name())]; !taken {
			p.byName[string(fd.Name())] = f
		}
	}
	// A JSON name wins over a proto name another field happens to share.
	for i := range p.fields {
		p.byName[p.fields[i].name] = &p.fields[i]
	}
	return p, nil
}
