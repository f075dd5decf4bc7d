package otlpjson

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// encoder appends OTLP/JSON to b. It cannot fail once it has a plan: every value a message
// can hold has a JSON form.
type encoder struct {
	b []byte
}

func (e *encoder) message(p *plan, m protoreflect.Message) {
	if p.attribute && e.encodeAttribute(m) {
		return
	}
	e.b = append(e.b, '{')
	first := true
	for i := range p.fields {
		f := &p.fields[i]
		// Has is false for a proto3 scalar at its default and true for a set oneof member
		// whatever its value, which is exactly the omit-defaults rule with the oneof exception.
		if !m.Has(f.fd) {
			continue
		}
		if !first {
			e.b = append(e.b, ',')
		}
		first = false
		e.b = append(e.b, f.key...)
		v := m.Get(f.fd)
		if !f.list {
			e.value(f, v)
			continue
		}
		l := v.List()
		e.b = append(e.b, '[')
		for j := range l.Len() {
			if j > 0 {
				e.b = append(e.b, ',')
			}
			e.value(f, l.Get(j))
		}
		e.b = append(e.b, ']')
	}
	e.b = append(e.b, '}')
}

func (e *encoder) value(f *field, v protoreflect.Value) {
	switch f.kind {
	case kindBool:
		e.b = strconv.AppendBool(e.b, v.Bool())
	case kindInt32:
		e.b = appendInt32(e.b, int32(v.Int()))
	case kindUint32:
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
	case kindInt64:
		e.b = append(e.b, '"')
		e.b = appendInt64(e.b, v.Int())
		e.b = append(e.b, '"')
	case kindUint64:
		e.b = append(e.b, '"')
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
		e.b = append(e.b, '"')
	case kindFloat:
		e.b = appendFloat(e.b, v.Float(), 32)
	case kindDouble:
		e.b = appendFloat(e.b, v.Float(), 64)
	case kindString:
		e.b = appendString(e.b, v.String())
	case kindBytes:
		e.b = appendBase64(e.b, v.Bytes())
	case kindHex:
		// Written whatever the length: checking ids is for whoever accepts them, and an
		// encoder that dropped a record over it would lose data silently.
		e.b = append(e.b, '"')
		e.b = hex.AppendEncode(e.b, v.Bytes())
		e.b = append(e.b, '"')
	case kindEnum:
		e.b = strconv.AppendInt(e.b, int64(v.Enum()), 10)
	case kindMessage:
		e.message(f.msg, v.Message())
	}
}

func appendInt32(b []byte, v int32) []byte { return strconv.AppendInt(b, int64(v), 10) }

func appendInt64(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

func appendBase64(b []byte, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// appendFloat writes f the way JavaScript would (as encoding/json does), with the three values
// JSON has no number for as the strings the proto3 JSON mapping uses.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 reads better as 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a quoted JSON string. Invalid UTF-8 (which a protobuf string should
// never hold, but a Go string can) becomes U+FFFD so the output is always valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if strSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
