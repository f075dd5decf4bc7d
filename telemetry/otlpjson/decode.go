package otlpjson

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"sync"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// decoder fills a message from OTLP/JSON, one field at a time, straight from the scanner.
type decoder struct {
	scanner
	// anyDepth counts the AnyValues being decoded, one inside the other.
	anyDepth, maxAny int
	// path is where the decoder is, kept as a stack so a path string is built only for an error.
	path []pathElem
	// kvStack and avStack hold the elements of the attribute lists being decoded.
	kvStack []*commonpb.KeyValue
	avStack []*commonpb.AnyValue
	// interned holds the short strings already seen in this input: attribute keys and many
	// values (session id, user id, model) repeat on every record.
	interned map[string]string
}

var decoderPool = sync.Pool{New: func() any {
	return &decoder{interned: make(map[string]string, maxInterned)}
}}

const (
	maxInterned    = 256
	maxInternedLen = 64
	// maxPooledStack keeps a pathological input's scratch space out of the pool.
	maxPooledStack = 4096
)

// release returns d to the pool, keeping its buffers but dropping every reference into the
// message it decoded, so a pooled decoder never keeps a request's strings alive.
func (d *decoder) release() {
	if cap(d.kvStack) > maxPooledStack || cap(d.avStack) > maxPooledStack ||
		cap(d.path) > maxPooledStack || cap(d.buf) > maxPooledBuf {
		return
	}
	clear(d.interned)
	clear(d.kvStack[:cap(d.kvStack)])
	clear(d.avStack[:cap(d.avStack)])
	*d = decoder{
		scanner:  scanner{buf: d.buf[:0]},
		path:     d.path[:0],
		kvStack:  d.kvStack[:0],
		avStack:  d.avStack[:0],
		interned: d.interned,
	}
	decoderPool.Put(d)
}

func (d *decoder) fieldErrorf(format string, args ...any) error {
	if len(d.path) == 0 {
		return d.errorf(format, args...) // the top-level value: where it is says more
	}
	return &fieldError{path: formatPath(d.path), msg: fmt.Sprintf(format, args...)}
}

// mismatch reports a value of the wrong JSON type for the field being decoded, unless the
// value is not JSON at all (cut short, say), which is the error that matters more.
func (d *decoder) mismatch(want string) error {
	got := d.valueType()
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	d.pos = start
	return d.fieldErrorf("want %s, got %s", want, got)
}

// message decodes the object at d.pos into m.
func (d *decoder) message(p *plan, m protoreflect.Message) error {
	if p.attribute {
		if ok, err := d.decodeAttribute(m); ok {
			return err
		}
	}
	if p.anyValue {
		d.anyDepth++
		if d.anyDepth > d.maxAny {
			return d.fieldErrorf("nesting deeper than %d", d.maxAny)
		}
		defer func() { d.anyDepth-- }()
	}
	return d.object(func(k []byte) error {
		f := p.byName[string(k)]
		if f == nil {
			return d.skip()
		}
		d.push(f.name)
		if err := d.field(p, f, m); err != nil {
			return err
		}
		d.pop()
		return nil
	})
}

func (d *decoder) field(p *plan, f *field, m protoreflect.Message) error {
	if d.isNull() {
		m.Clear(f.fd)
		return nil
	}
	if f.list {
		if attrs := attributeList(p, f, m); attrs != nil {
			return d.keyValues(attrs)
		}
		return d.list(f, m)
	}
	if f.kind == kindMessage {
		// A repeated key replaces what came before rather than merging into it.
		if m.Has(f.fd) {
			m.Clear(f.fd)
		}
		return d.message(f.msg, m.Mutable(f.fd).Message())
	}
	v, err := d.scalar(f)
	if err != nil {
		return err
	}
	m.Set(f.fd, v)
	return nil
}

func (d *decoder) list(f *field, m protoreflect.Message) error {
	m.Clear(f.fd) // a repeated key replaces the list
	var l protoreflect.List
	return d.array(func() error {
		if l == nil {
			l = m.Mutable(f.fd).List()
		}
		if f.kind == kindMessage {
			v := l.NewElement()
			if err := d.message(f.msg, v.Message()); err != nil {
				return err
			}
			l.Append(v)
			return nil
		}
		v, err := d.scalar(f)
		if err != nil {
			return err
		}
		l.Append(v)
		return nil
	})
}

// object reads the object at d.pos, calling member for each key with the value next.
func (d *decoder) object(member func(key []byte) error) error {
	if d.peek() != '{' {
		return d.mismatch("object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	if d.peek() == '}' {
		d.pos++
		d.leave()
		return nil
	}
	for {
		k, err := d.key()
		if err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		more, err := d.next('}')
		if err != nil {
			return err
		}
		if !more {
			d.leave()
			return nil
		}
	}
}

// array reads the array at d.pos, calling elem for each element, with the index on the
// error path. Lists hold no nulls.
func (d *decoder) array(elem func() error) error {
	if d.peek() != '[' {
		return d.mismatch("array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	if d.peek() == ']' {
		d.pos++
		d.leave()
		return nil
	}
	at := len(d.path) - 1
	for i := 0; ; i++ {
		d.path[at].index = i
		if d.isNull() {
			return d.fieldErrorf("null in a list")
		}
		if err := elem(); err != nil {
			return err
		}
		more, err := d.next(']')
		if err != nil {
			return err
		}
		if !more {
			d.path[at].index = -1
			d.leave()
			return nil
		}
	}
}

func (d *decoder) push(name string) { d.path = append(d.path, pathElem{name: name, index: -1}) }
func (d *decoder) pop()             { d.path = d.path[:len(d.path)-1] }

// scalar decodes the non-message value at d.pos for f.
func (d *decoder) scalar(f *field) (protoreflect.Value, error) {
	switch f.kind {
	case kindBool:
		b, err := d.bool()
		return protoreflect.ValueOfBool(b), err
	case kindString:
		s, err := d.string()
		return protoreflect.ValueOfString(s), err
	case kindBytes:
		return d.base64()
	case kindHex:
		return d.hex(f.hexLen)
	case kindEnum:
		return d.enum(f)
	case kindInt32, kindUint32, kindInt64, kindUint64:
		return d.integer(f.kind)
	case kindFloat:
		return d.float(32)
	case kindDouble:
		return d.float(64)
	}
	return protoreflect.Value{}, d.fieldErrorf("unsupported field")
}

func (d *decoder) bool() (bool, error) {
	switch d.peek() {
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	}
	return false, d.mismatch("boolean")
}

func (d *decoder) string() (string, error) {
	if d.peek() != '"' {
		return "", d.mismatch("string")
	}
	s, err := d.str()
	if err != nil {
		return "", err
	}
	if len(s) > maxInternedLen {
		return string(s), nil
	}
	if v, ok := d.interned[string(s)]; ok {
		return v, nil
	}
	v := string(s)
	if len(d.interned) < maxInterned {
		d.interned[v] = v
	}
	return v, nil
}

// numberText returns the text of a number given as a JSON number or as a string holding one.
func (d *decoder) numberText(want string) ([]byte, error) {
	switch c := d.peek(); {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		if n := numberLen(s); n != len(s) || n == 0 {
			return nil, d.fieldErrorf("invalid %s", want)
		}
		return s, nil
	case c == '-' || isDigit(c):
		return d.num()
	}
	return nil, d.mismatch(want)
}

func (d *decoder) integer(k kind) (protoreflect.Value, error) {
	lit, err := d.numberText("integer")
	if err != nil {
		return protoreflect.Value{}, err
	}
	neg, mag, err := parseInteger(lit)
	if err != nil {
		return protoreflect.Value{}, d.fieldErrorf("%v", err)
	}
	switch k {
	case kindInt32:
		v, err := signed(neg, mag, 32)
		if err != nil {
			return protoreflect.Value{}, d.fieldErrorf("%v", err)
		}
		return protoreflect.ValueOfInt32(int32(v)), nil
	case kindInt64:
		v, err := signed(neg, mag, 64)
		if err != nil {
			return protoreflect.Value{}, d.fieldErrorf("%v", err)
		}
		return protoreflect.ValueOfInt64(v), nil
	case kindUint32:
		v, err := unsigned(neg, mag, 32)
		if err != nil {
			return protoreflect.Value{}, d.fieldErrorf("%v", err)
		}
		return protoreflect.ValueOfUint32(uint32(v)), nil
	}
	v, err := unsigned(neg, mag, 64)
	if err != nil {
		return protoreflect.Value{}, d.fieldErrorf("%v", err)
	}
	return protoreflect.ValueOfUint64(v), nil
}

func (d *decoder) float(bits int) (protoreflect.Value, error) {
	var f float64
	if d.peek() == '"' {
		s, err := d.str()
		if err != nil {
			return protoreflect.Value{}, err
		}
		switch string(s) {
		case "NaN":
			f = math.NaN()
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		default:
			if n := numberLen(s); n != len(s) || n == 0 {
				return protoreflect.Value{}, d.fieldErrorf("invalid number")
			}
			if f, err = parseFloat(s, bits); err != nil {
				return protoreflect.Value{}, d.fieldErrorf("%v", err)
			}
		}
	} else {
		lit, err := d.numberText("number")
		if err != nil {
			return protoreflect.Value{}, err
		}
		if f, err = parseFloat(lit, bits); err != nil {
			return protoreflect.Value{}, d.fieldErrorf("%v", err)
		}
	}
	if bits == 32 {
		return protoreflect.ValueOfFloat32(float32(f)), nil
	}
	return protoreflect.ValueOfFloat64(f), nil
}

func (d *decoder) enum(f *field) (protoreflect.Value, error) {
	switch c := d.peek(); {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return protoreflect.Value{}, err
		}
		n, ok := f.enums[string(s)]
		if !ok {
			return protoreflect.Value{}, d.fieldErrorf("unknown %s value", f.enum)
		}
		return protoreflect.ValueOfEnum(n), nil
	case c == '-' || isDigit(c):
		lit, err := d.num()
		if err != nil {
			return protoreflect.Value{}, err
		}
		neg, mag, err := parseInteger(lit)
		if err == nil {
			var v int64
			if v, err = signed(neg, mag, 32); err == nil {
				// Numbers the enum does not name are kept: proto3 enums are open, and a
				// newer sender may know values this build does not.
				return protoreflect.ValueOfEnum(protoreflect.EnumNumber(v)), nil
			}
		}
		return protoreflect.Value{}, d.fieldErrorf("%v", err)
	}
	return protoreflect.Value{}, d.mismatch("enum name or number")
}

var errInvalidHex = errors.New("invalid hex string")

// hex decodes an id, which must be n bytes unless empty.
func (d *decoder) hex(n int) (protoreflect.Value, error) {
	if d.peek() != '"' {
		return protoreflect.Value{}, d.mismatch("hex string")
	}
	s, err := d.str()
	if err != nil {
		return protoreflect.Value{}, err
	}
	if len(s)%2 != 0 {
		return protoreflect.Value{}, d.fieldErrorf("%v", errInvalidHex)
	}
	if len(s) == 0 {
		return protoreflect.ValueOfBytes(nil), nil
	}
	if len(s) != 2*n {
		return protoreflect.Value{}, d.fieldErrorf("invalid length: %d bytes, want %d", len(s)/2, n)
	}
	b := make([]byte, n)
	for i := range b {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return protoreflect.Value{}, d.fieldErrorf("%v", errInvalidHex)
		}
		b[i] = hi<<4 | lo
	}
	return protoreflect.ValueOfBytes(b), nil
}

// base64 decodes standard base64, also taking the URL-safe alphabet and missing padding since
// both are common in hand-rolled senders.
func (d *decoder) base64() (protoreflect.Value, error) {
	if d.peek() != '"' {
		return protoreflect.Value{}, d.mismatch("base64 string")
	}
	s, err := d.str()
	if err != nil {
		return protoreflect.Value{}, err
	}
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	enc := base64.RawStdEncoding
	for _, c := range s {
		if c == '-' || c == '_' {
			enc = base64.RawURLEncoding
			break
		}
	}
	b := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(b, s)
	if err != nil {
		return protoreflect.Value{}, d.fieldErrorf("invalid base64 string")
	}
	return protoreflect.ValueOfBytes(b[:n]), nil
}
