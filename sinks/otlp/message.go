package otlp

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxExcerpt bounds what an error or a log line quotes of a destination's message: enough for
// its reason, not enough for a whole HTML error page.
const maxExcerpt = 256

// minSecret is the shortest header value scrubbed from messages. Shorter ones ("1", "json")
// are not credentials, and replacing them would garble the text around them.
const minSecret = 8

// scrubber turns what a destination says into text fit for a log line or an error: bounded,
// on one line, and without the values of the sink's headers. Those are credentials, and a
// destination refusing one may quote it back ("invalid API key sk-...").
type scrubber struct {
	secrets []string // longest first, so a value is replaced before any part of it
}

func newScrubber(headers map[string]string) scrubber {
	var s scrubber
	for _, v := range headers {
		s.add(v)
		// "Bearer <token>", "Basic <credentials>": the token alone may come back too.
		for _, f := range strings.Fields(v) {
			s.add(f)
		}
	}
	slices.SortFunc(s.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	s.secrets = slices.Compact(s.secrets)
	return s
}

func (s *scrubber) add(v string) {
	if v = strings.TrimSpace(v); len(v) >= minSecret {
		s.secrets = append(s.secrets, v)
	}
}

// excerpt returns msg scrubbed, its whitespace collapsed to single spaces, and cut to
// maxExcerpt bytes. Bytes that are not UTF-8 text make it say only how long it was.
func (s scrubber) excerpt(msg string) string {
	if !utf8.ValidString(msg) {
		return fmt.Sprintf("(%d bytes, not text)", len(msg))
	}
	for _, v := range s.secrets {
		if strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, "[REDACTED]")
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) <= maxExcerpt {
		return msg
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "..."
}

// exportError is a failed export as the gateway reports it: where the data was going and what
// the destination answered, bounded and scrubbed. cause, when set, is the underlying error
// (a network error, the attempt's context ending) for errors.Is and errors.As; its text is
// already part of msg.
type exportError struct {
	msg   string
	cause error
}

func (e *exportError) Error() string { return e.msg }
func (e *exportError) Unwrap() error { return e.cause }
