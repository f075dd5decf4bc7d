package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a string in TOML: "500ms", "30s", "1h30m", "7d".
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration the way it is written in a config.
func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	// time.Duration writes 2m as "2m0s" and 1h as "1h0m0s"; drop the zero units at the end.
	s := td.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// MarshalText writes the duration as text, for --print-config.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ParseDuration reads a Go duration ("1h30m", "250ms") or a whole number of days ("7d").
func ParseDuration(s string) (Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseUint(n, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("not a duration (want e.g. \"30s\", \"5m\", \"7d\")")
		}
		return Duration(time.Duration(days) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("not a duration (want e.g. \"30s\", \"5m\", \"7d\")")
	}
	if d < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	return Duration(d), nil
}

// ByteSize is a size in bytes, written in TOML as an integer (16777216) or a string with a
// unit ("16MiB", "1GiB", "512KB").
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseByteSize reads "16MiB", "500MB", "1024" or "1024B".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size (want bytes as an integer, or e.g. \"64MiB\", \"1GiB\")")
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("too large")
	}
	return ByteSize(n * mult), nil
}

// String formats the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// Value is a TOML scalar (string, integer, float or boolean) compared with attribute values.
// It keeps the canonical text the comparison uses and the kind it was written as.
type Value struct {
	Text string    // canonical text: strings as written, 42, 1.5, true
	Kind ValueKind // what the TOML value was
}

// ValueKind is the TOML type of a Value.
type ValueKind uint8

// The kinds of Value.
const (
	StringValue ValueKind = iota
	IntValue
	FloatValue
	BoolValue
)

// String returns the value's canonical text.
func (v Value) String() string { return v.Text }

// MarshalTOML writes the value back as the TOML type it was written as.
func (v Value) MarshalTOML() ([]byte, error) {
	switch v.Kind {
	case StringValue:
		return []byte(quoteString(v.Text)), nil
	case FloatValue:
		return []byte(tomlFloat(v.Text)), nil
	}
	return []byte(v.Text), nil
}

// tomlFloat turns a float's canonical text (Go's shortest form, as attribute values are
// formatted) into a TOML float: "1" would read back as an integer, "+Inf" not at all.
func tomlFloat(text string) string {
	switch text {
	case "+Inf":
		return "inf"
	case "-Inf":
		return "-inf"
	case "NaN":
		return "nan"
	}
	if !strings.ContainsAny(text, ".eE") {
		return text + ".0"
	}
	return text
}
