// Package otlpjson encodes and decodes OTLP/JSON, the JSON form of OTLP that OTLP/HTTP
// carries as application/json and that the gateway writes to files and object storage.
//
// OTLP/JSON is not the proto3 JSON mapping (protojson), though it starts from it: trace and
// span ids are hex rather than base64, enums are written as integers (names are accepted), and
// unknown fields are ignored rather than rejected. Field names are written lowerCamelCase;
// snake_case proto names are accepted too. 64-bit integers are written as decimal strings and
// accepted as strings or numbers. Fields at their default value are left out, except a set
// oneof member, which always carries its type: {"intValue":"0"}.
//
// The codec is driven by the messages' descriptors, so fields a newer
// go.opentelemetry.io/proto/otlp adds are handled without a change here. It works for any
// message made of scalars, enums, bytes, strings and nested messages, which is every message
// reachable from the OTLP export requests and responses of logs, metrics and traces. The
// attribute messages (KeyValue, AnyValue, ArrayValue, KeyValueList), which are most of any
// request, are coded by hand for speed, for as long as their descriptors hold exactly the
// fields that code knows; should they gain one, they go through the descriptors like the rest.
//
// It is not a general protobuf JSON codec: map fields are refused and well-known types
// (google.protobuf.Any, Timestamp, Struct, ...) get no special form.
package otlpjson

import (
	"errors"
	"sync"

	"google.golang.org/protobuf/proto"
)

// DefaultMaxDepth is the AnyValue nesting bound when none is given.
const DefaultMaxDepth = 32

// maxJSONDepth caps the nesting of raw JSON, known fields or not, whatever MaxDepth says: each
// level costs a stack frame.
const maxJSONDepth = 10000

var errNilMessage = errors.New("nil message")

// Marshal encodes m (an OTLP export request or response) as OTLP/JSON. Ids are written as
// hex whatever their length: checking them is the job of whoever accepted the message.
func Marshal(m proto.Message) ([]byte, error) {
	bp := bufPool.Get().(*[]byte)
	b, err := AppendMarshal((*bp)[:0], m)
	if err != nil {
		return nil, err
	}
	// One exact-size copy instead of the doubling appends a fresh buffer would go through.
	out := make([]byte, len(b))
	copy(out, b)
	if cap(b) <= maxPooledBuf {
		*bp = b
		bufPool.Put(bp)
	}
	return out, nil
}

// maxPooledBuf keeps one unusually large request from pinning its buffer in the pool.
const maxPooledBuf = 1 << 20

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// AppendMarshal appends the OTLP/JSON encoding of m to b.
func AppendMarshal(b []byte, m proto.Message) ([]byte, error) {
	if m == nil {
		return b, errNilMessage
	}
	mr := m.ProtoReflect()
	p, err := planFor(mr.Descriptor())
	if err != nil {
		return b, err
	}
	e := encoder{b: b}
	e.message(p, mr)
	return e.b, nil
}

// UnmarshalOptions configure decoding.
type UnmarshalOptions struct {
	// MaxDepth bounds the nesting of AnyValues (kvlistValue / arrayValue); 0 means DefaultMaxDepth.
	//
	// The nesting of the JSON as a whole is bounded too, known fields or not, to 4×MaxDepth+32
	// levels (room for MaxDepth AnyValues anywhere in a request) and never more than 10000.
	MaxDepth int
}

// Unmarshal decodes OTLP/JSON data into m with default options.
func Unmarshal(data []byte, m proto.Message) error { return UnmarshalOptions{}.Unmarshal(data, m) }

// Unmarshal decodes OTLP/JSON data into m, which it resets first.
//
// A syntax error is reported with the byte offset it is at ("offset 1234: unexpected end of
// input"), a value that does not fit its field with the field's path
// ("resourceSpans[0].scopeSpans[0].spans[2].traceId: invalid hex string"). Errors never quote
// the input's strings, which may hold personal data. On error m holds whatever was decoded
// before it and should be discarded.
func (o UnmarshalOptions) Unmarshal(data []byte, m proto.Message) error {
	if m == nil {
		return errNilMessage
	}
	mr := m.ProtoReflect()
	if !mr.IsValid() {
		return errNilMessage
	}
	p, err := planFor(mr.Descriptor())
	if err != nil {
		return err
	}
	proto.Reset(m)
	maxAny := o.MaxDepth
	if maxAny <= 0 {
		maxAny = DefaultMaxDepth
	}
	maxAny = min(maxAny, maxJSONDepth)
	d := decoderPool.Get().(*decoder)
	defer d.release()
	d.data = data
	// An AnyValue level takes at most four JSON levels (AnyValue, KeyValueList, values,
	// KeyValue), and an export request needs at most sixteen to reach its deepest attribute
	// (an exemplar's), so this never cuts off a request MaxDepth allows, while an unknown
	// field nested a thousand deep is refused.
	d.maxDepth = min(4*maxAny+32, maxJSONDepth)
	d.maxAny = maxAny
	if err := d.message(p, mr); err != nil {
		return err
	}
	if d.peek(); d.pos < len(d.data) {
		return d.errorf("unexpected data after the top-level value")
	}
	return nil
}
