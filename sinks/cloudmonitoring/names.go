package cloudmonitoring

import (
	"strconv"
	"strings"
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// Cloud Monitoring's limits on labels of user-defined metrics.
const (
	maxLabels          = 30
	maxLabelKeyLen     = 100
	maxLabelValueBytes = 1024
)

// metricType is the Cloud Monitoring metric type of an OpenTelemetry metric: the prefix, then
// each dot-separated segment of the name sanitised to [a-z][a-z0-9_]* (lower-cased, anything
// else '_', "n_" before a segment that does not start with a letter), joined with '/'.
// claude_code.cost.usage is workload.googleapis.com/claude_code/cost/usage.
//
// Cloud Monitoring metric types are paths, and the dots of an OpenTelemetry name are its
// namespace separators, so each becomes a path separator: the hierarchy survives, names stay
// readable in Metrics Explorer, and a name that already has underscores (claude_code) cannot
// run into one that had a dot in their place. Empty segments are skipped; "" is returned for
// a name with no usable segment.
func metricType(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	n := 0
	for seg := range strings.SplitSeq(name, ".") {
		s := sanitise(seg, "n_")
		if s == "" {
			continue
		}
		if n > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s)
		n++
	}
	if n == 0 {
		return ""
	}
	return b.String()
}

// labelKey is the label an attribute key becomes: sanitised to [a-z][a-z0-9_]* (user.id is
// user_id, a leading digit or underscore gets "key_" before it, as the OpenTelemetry
// Collector does) and cut to Cloud Monitoring's 100 characters. "" means the key has nothing
// usable.
func labelKey(key string) string {
	s := sanitise(key, "key_")
	if len(s) > maxLabelKeyLen {
		s = s[:maxLabelKeyLen]
	}
	return s
}

// sanitise lower-cases s and turns every character outside [a-z0-9_] into '_', putting prefix
// before a result that does not start with a letter. It returns "" for an empty s.
func sanitise(s, prefix string) string {
	if s == "" {
		return ""
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if !isLower(s[i]) && !isDigit(s[i]) && s[i] != '_' {
			clean = false
			break
		}
	}
	if clean && isLower(s[0]) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(prefix))
	for _, r := range s {
		switch {
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r < utf8.RuneSelf && (isLower(byte(r)) || isDigit(byte(r))):
		default:
			r = '_'
		}
		b.WriteRune(r)
	}
	out := b.String()
	if !isLower(out[0]) {
		out = prefix + out
	}
	return out
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// labelValue renders a scalar attribute value as a label value of at most 1024 bytes of
// valid UTF-8. Arrays, maps and bytes are not label material: ok is false.
func labelValue(v *commonpb.AnyValue) (s string, ok bool) {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		s = x.StringValue
	case *commonpb.AnyValue_BoolValue:
		s = strconv.FormatBool(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		s = strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		s = strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	default:
		return "", false
	}
	if !utf8.ValidString(s) {
		// OTLP/JSON or a careless client may send invalid UTF-8; protobuf strings must not
		// carry it.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) > maxLabelValueBytes {
		i := maxLabelValueBytes
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	return s, true
}
