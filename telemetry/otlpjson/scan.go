package otlpjson

import (
	"unicode/utf8"
)

// scanner reads JSON tokens straight from the input without building token values: strings
// come back as slices of the input (or of one reused buffer when they hold escapes), numbers as
// their literal text. Whatever it accepts is JSON as RFC 8259 defines it, with strings that
// must be valid UTF-8.
type scanner struct {
	data []byte
	pos  int
	// depth counts open objects and arrays; maxDepth bounds it so no input, however deeply
	// nested, can take the stack with it.
	depth, maxDepth int
	// buf holds the last string that had escapes in it.
	buf []byte
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end of the input.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// expect consumes c, after whitespace.
func (s *scanner) expect(c byte, what string) error {
	if s.peek() != c {
		return s.unexpected(what)
	}
	s.pos++
	return nil
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > s.maxDepth {
		return s.errorf("json nested deeper than %d", s.maxDepth)
	}
	return nil
}

func (s *scanner) leave() { s.depth-- }

// next consumes a ',' and reports true, or consumes the closing byte and reports false.
func (s *scanner) next(closing byte) (bool, error) {
	switch s.peek() {
	case ',':
		s.pos++
		return true, nil
	case closing:
		s.pos++
		return false, nil
	}
	if closing == '}' {
		return false, s.unexpected("',' or '}'")
	}
	return false, s.unexpected("',' or ']'")
}

// key reads an object key and its colon. The result is valid until the next string is read.
func (s *scanner) key() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.unexpected("string key")
	}
	k, err := s.str()
	if err != nil {
		return nil, err
	}
	return k, s.expect(':', "':'")
}

// isNull consumes a null literal if one is next.
func (s *scanner) isNull() bool {
	if s.peek() == 'n' && len(s.data)-s.pos >= 4 && string(s.data[s.pos:s.pos+4]) == "null" {
		s.pos += 4
		return true
	}
	return false
}

// literal consumes true, false or null, whichever lit is.
func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return nil
	}
	// Point at the first byte that differs, or at the end.
	for i := 0; i < len(lit); i++ {
		if s.pos+i >= len(s.data) {
			s.pos = len(s.data)
			break
		}
		if s.data[s.pos+i] != lit[i] {
			s.pos += i
			break
		}
	}
	return s.unexpected("value")
}

// strSafe marks the ASCII bytes that stand for themselves inside a JSON string, reading and
// writing.
var strSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads the string at s.pos, which must be '"'. With no escapes the result is a slice of
// the input; otherwise it is decoded into s.buf and valid until the next string is read.
func (s *scanner) str() ([]byte, error) {
	start := s.pos + 1
	data := s.data
	for i := start; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if strSafe[c] {
				i++
				continue
			}
			switch c {
			case '"':
				s.pos = i + 1
				return data[start:i], nil
			case '\\':
				s.buf = append(s.buf[:0], data[start:i]...)
				return s.escaped(i)
			}
			s.pos = i
			return nil, s.errorf("control character in string")
		}
		size, err := s.rune(i)
		if err != nil {
			return nil, err
		}
		i += size
	}
	s.pos = len(data)
	return nil, s.errorf("unexpected end of input")
}

// rune checks the multi-byte UTF-8 sequence at i and returns its length.
func (s *scanner) rune(i int) (int, error) {
	r, size := utf8.DecodeRune(s.data[i:])
	if r == utf8.RuneError && size == 1 {
		if !utf8.FullRune(s.data[i:]) {
			s.pos = len(s.data)
			return 0, s.errorf("unexpected end of input")
		}
		s.pos = i
		return 0, s.errorf("invalid utf-8 in string")
	}
	return size, nil
}

// escaped finishes reading a string into s.buf from i, the offset of its first backslash.
func (s *scanner) escaped(i int) ([]byte, error) {
	data := s.data
	for i < len(data) {
		c := data[i]
		if c < utf8.RuneSelf {
			switch {
			case strSafe[c]:
				s.buf = append(s.buf, c)
				i++
				continue
			case c == '"':
				s.pos = i + 1
				return s.buf, nil
			case c != '\\':
				s.pos = i
				return nil, s.errorf("control character in string")
			}
			if i+1 >= len(data) {
				break
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				s.buf = append(s.buf, e)
			case 'b':
				s.buf = append(s.buf, '\b')
			case 'f':
				s.buf = append(s.buf, '\f')
			case 'n':
				s.buf = append(s.buf, '\n')
			case 'r':
				s.buf = append(s.buf, '\r')
			case 't':
				s.buf = append(s.buf, '\t')
			case 'u':
				r, n, err := s.unicodeEscape(i)
				if err != nil {
					return nil, err
				}
				s.buf = utf8.AppendRune(s.buf, r)
				i += n
				continue
			default:
				s.pos = i
				return nil, s.errorf("invalid escape in string")
			}
			i += 2
			continue
		}
		size, err := s.rune(i)
		if err != nil {
			return nil, err
		}
		s.buf = append(s.buf, data[i:i+size]...)
		i += size
	}
	s.pos = len(data)
	return nil, s.errorf("unexpected end of input")
}

// unicodeEscape reads the \uXXXX escape at i (and its low half, for a surrogate pair) and
// returns the rune and how many bytes it took.
func (s *scanner) unicodeEscape(i int) (rune, int, error) {
	if i+6 > len(s.data) {
		s.pos = len(s.data)
		return 0, 0, s.errorf("unexpected end of input")
	}
	r, ok := hex4(s.data, i+2)
	if !ok {
		s.pos = i
		return 0, 0, s.errorf("invalid \\u escape in string")
	}
	if r < 0xd800 || r > 0xdfff {
		return r, 6, nil
	}
	if r >= 0xdc00 {
		s.pos = i
		return 0, 0, s.errorf("unpaired surrogate in string")
	}
	// The low half must follow straight away; input that stops first is cut short, not wrong.
	for j, want := range []byte{'\\', 'u'} {
		if i+6+j >= len(s.data) {
			s.pos = len(s.data)
			return 0, 0, s.errorf("unexpected end of input")
		}
		if s.data[i+6+j] != want {
			s.pos = i
			return 0, 0, s.errorf("unpaired surrogate in string")
		}
	}
	if i+12 > len(s.data) {
		s.pos = len(s.data)
		return 0, 0, s.errorf("unexpected end of input")
	}
	lo, ok := hex4(s.data, i+8)
	if !ok {
		s.pos = i + 6
		return 0, 0, s.errorf("invalid \\u escape in string")
	}
	if lo < 0xdc00 || lo > 0xdfff {
		s.pos = i
		return 0, 0, s.errorf("unpaired surrogate in string")
	}
	return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12, nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		n, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(n)
	}
	return r, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// num reads the number literal at s.pos and returns its text.
func (s *scanner) num() ([]byte, error) {
	n := numberLen(s.data[s.pos:])
	if n <= 0 {
		s.pos += -n
		return nil, s.unexpected("value")
	}
	lit := s.data[s.pos : s.pos+n]
	s.pos += n
	return lit, nil
}

// numberLen returns the length of the JSON number at the start of b, or, when there is none,
// minus the offset of the first byte that breaks the grammar.
func numberLen(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && isDigit(b[i]); i++ {
		}
	default:
		return -i
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return -i
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -i
		}
		for ; i < len(b) && isDigit(b[i]); i++ {
		}
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skip reads past one value of any shape, checking it is well-formed.
func (s *scanner) skip() error {
	switch s.peek() {
	case '{':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		if s.peek() == '}' {
			s.pos++
			s.leave()
			return nil
		}
		for {
			if _, err := s.key(); err != nil {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
			more, err := s.next('}')
			if err != nil {
				return err
			}
			if !more {
				s.leave()
				return nil
			}
		}
	case '[':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		if s.peek() == ']' {
			s.pos++
			s.leave()
			return nil
		}
		for {
			if err := s.skip(); err != nil {
				return err
			}
			more, err := s.next(']')
			if err != nil {
				return err
			}
			if !more {
				s.leave()
				return nil
			}
		}
	case '"':
		_, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	_, err := s.num()
	return err
}

// valueType names the JSON type of the next value, for error messages, or is empty when
// no value can start there.
func (s *scanner) valueType() string {
	if s.peek(); s.pos >= len(s.data) {
		return ""
	}
	switch s.data[s.pos] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "number"
	}
	return ""
}
