package promsink

import (
	"fmt"
	"strings"
)

// The names follow the OpenTelemetry Collector's OTLP-to-Prometheus translation (the
// prometheus exporter with metric suffixes on), so that dashboards written for the Collector
// work against this sink: claude_code.cost.usage in USD becomes claude_code_cost_usage_USD_total,
// claude_code.active_time.total in s becomes claude_code_active_time_seconds_total.

// unitWords turns the UCUM units OpenTelemetry instruments use into the words Prometheus
// names carry.
var unitWords = map[string]string{
	"d": "days", "h": "hours", "min": "minutes", "s": "seconds",
	"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
	"By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes",
	"KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
	"m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
	"Cel": "celsius", "Hz": "hertz", "%": "percent",
	"1": "", // a ratio: gauges get _ratio instead
}

// perUnitWords are the units that may follow a "/" ("By/s" is bytes_per_second).
var perUnitWords = map[string]string{
	"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
}

// metricName is the Prometheus name of an OpenTelemetry metric: the name's alphanumeric runs
// joined by "_", the unit as a word unless the name already has it, and "_total" on counters
// (moved to the end if the name had it elsewhere). It returns "" for a name with nothing usable.
func metricName(name, unit string, k kind) string {
	tokens := nameTokens(name)
	if len(tokens) == 0 {
		return ""
	}
	main, per, _ := strings.Cut(unit, "/")
	main, per = strings.TrimSpace(main), strings.TrimSpace(per)
	// Braces mark an annotation ("{token}"), not a unit.
	if main != "" && !strings.ContainsAny(main, "{}") {
		if w := unitWord(main, unitWords); w != "" && !containsToken(tokens, w) {
			tokens = append(tokens, w)
		}
	}
	if per != "" && !strings.ContainsAny(per, "{}") {
		if w := unitWord(per, perUnitWords); w != "" && !containsToken(tokens, w) {
			tokens = append(tokens, "per", w)
		}
	}
	switch {
	case k == kindCounter:
		tokens = append(removeToken(tokens, "total"), "total")
	case k == kindGauge && unit == "1":
		tokens = append(removeToken(tokens, "ratio"), "ratio")
	}
	n := strings.Join(tokens, "_")
	if isDigit(n[0]) {
		n = "_" + n
	}
	return n
}

// unitWord maps a unit through words, or keeps it (sanitised) when it is not a known one:
// "USD" stays "USD", "tokens" stays "tokens".
func unitWord(u string, words map[string]string) string {
	if w, ok := words[u]; ok {
		return w
	}
	return strings.Join(nameTokens(u), "_")
}

// nameTokens splits s into its runs of ASCII letters and digits.
func nameTokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isAlnum(r) })
}

func containsToken(tokens []string, t string) bool {
	for _, x := range tokens {
		if x == t {
			return true
		}
	}
	return false
}

func removeToken(tokens []string, t string) []string {
	out := tokens[:0]
	for _, x := range tokens {
		if x != t {
			out = append(out, x)
		}
	}
	return out
}

// labelName is the Prometheus label an attribute key becomes: every character outside
// [a-zA-Z0-9_] turned into "_" (user.id is user_id), "key_" before a leading digit and "key"
// before a single leading underscore, as the Collector does. Names starting with "__" are
// reserved to Prometheus, and le and quantile to histograms and summaries: those are errors.
func labelName(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("an attribute key must not be empty")
	}
	b := []byte(key)
	for i := range b {
		if !isAlnum(rune(b[i])) && b[i] != '_' {
			b[i] = '_'
		}
	}
	n := string(b)
	switch {
	case isDigit(n[0]):
		n = "key_" + n
	case strings.HasPrefix(n, "__"):
		return "", fmt.Errorf("attribute %q would become label %q, a name reserved to Prometheus", key, n)
	case n[0] == '_':
		n = "key" + n
	}
	if n == "le" || n == "quantile" {
		return "", fmt.Errorf("attribute %q would become label %q, which Prometheus reserves for histograms and summaries", key, n)
	}
	return n, nil
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
