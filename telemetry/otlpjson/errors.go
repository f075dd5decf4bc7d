package otlpjson

import (
	"fmt"
	"strconv"
	"strings"
)

// Decoding errors never quote the input's values: a request is telemetry, its strings may
// carry exactly the personal data and secrets the gateway exists to keep out of logs.

// syntaxError is input that is not JSON, located by byte offset.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string {
	return "offset " + strconv.Itoa(e.offset) + ": " + e.msg
}

// fieldError is JSON that does not fit the message, located by field path
// (resourceSpans[0].scopeSpans[0].spans[2].traceId).
type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string { return e.path + ": " + e.msg }

func (s *scanner) errorf(format string, args ...any) error {
	return &syntaxError{offset: s.pos, msg: fmt.Sprintf(format, args...)}
}

// unexpected reports what is at s.pos when something else (want) should be.
func (s *scanner) unexpected(want string) error {
	if s.pos >= len(s.data) {
		return s.errorf("unexpected end of input")
	}
	c := s.data[s.pos]
	if c >= 0x20 && c < 0x7f {
		return s.errorf("unexpected %q, want %s", rune(c), want)
	}
	return s.errorf("unexpected byte 0x%02x, want %s", c, want)
}

// pathElem is one step of the path to the value being decoded: a field, and the index in it
// when it is a list.
type pathElem struct {
	name  string
	index int // -1 outside a list
}

func formatPath(path []pathElem) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.name)
		if p.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(p.index))
			b.WriteByte(']')
		}
	}
	return b.String()
}
