package config

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		text string // how it prints
		err  string
	}{
		{in: "0s", want: 0, text: "0s"},
		{in: "500ms", want: 500 * time.Millisecond, text: "500ms"},
		{in: "90s", want: 90 * time.Second, text: "1m30s"},
		{in: "2m", want: 2 * time.Minute, text: "2m"},
		{in: "1h", want: time.Hour, text: "1h"},
		{in: "1h0m5s", want: time.Hour + 5*time.Second, text: "1h0m5s"},
		{in: "1h30m", want: 90 * time.Minute, text: "1h30m"},
		{in: "10m", want: 10 * time.Minute, text: "10m"},
		{in: "48h", want: 48 * time.Hour, text: "2d"},
		{in: "7d", want: 7 * 24 * time.Hour, text: "7d"},
		{in: "7 days", err: `not a duration (want e.g. "30s", "5m", "7d")`},
		{in: "-1d", err: `not a duration (want e.g. "30s", "5m", "7d")`},
		{in: "-5s", err: "must not be negative"},
		{in: "", err: `not a duration (want e.g. "30s", "5m", "7d")`},
	} {
		d, err := ParseDuration(tc.in)
		if tc.err != "" {
			check(t, tc.in+": error", errorText(err), tc.err)
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		check(t, tc.in, d.D(), tc.want)
		check(t, tc.in+" printed", d.String(), tc.text)
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("%q printed as %q reads back as %v, %v", tc.in, d.String(), back, err)
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
		text string
		err  string
	}{
		{in: "0", want: 0, text: "0"},
		{in: "1000", want: 1000, text: "1000"},
		{in: "1024B", want: 1024, text: "1KiB"},
		{in: "512KB", want: 512_000, text: "500KiB"},
		{in: "16MiB", want: 16 << 20, text: "16MiB"},
		{in: " 2 GiB ", want: 2 << 30, text: "2GiB"},
		{in: "1MB", want: 1_000_000, text: "1000000"},
		{in: "3TiB", want: 3 << 40, text: "3TiB"},
		{in: "lots", err: `not a size (want bytes as an integer, or e.g. "64MiB", "1GiB")`},
		{in: "1.5GiB", err: `not a size (want bytes as an integer, or e.g. "64MiB", "1GiB")`},
		{in: "-1", err: `not a size (want bytes as an integer, or e.g. "64MiB", "1GiB")`},
		{in: "99999999TiB", err: "too large"},
	} {
		b, err := ParseByteSize(tc.in)
		if tc.err != "" {
			check(t, tc.in+": error", errorText(err), tc.err)
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		check(t, tc.in, b, tc.want)
		check(t, tc.in+" printed", b.String(), tc.text)
	}
}

func TestValueMarshalTOML(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{Value{Text: `say "hi"`, Kind: StringValue}, `"say \"hi\""`},
		{Value{Text: "42", Kind: IntValue}, "42"},
		{Value{Text: "1.5", Kind: FloatValue}, "1.5"},
		{Value{Text: "2", Kind: FloatValue}, "2.0"},
		{Value{Text: "1e+21", Kind: FloatValue}, "1e+21"},
		{Value{Text: "+Inf", Kind: FloatValue}, "inf"},
		{Value{Text: "-Inf", Kind: FloatValue}, "-inf"},
		{Value{Text: "NaN", Kind: FloatValue}, "nan"},
		{Value{Text: "true", Kind: BoolValue}, "true"},
	} {
		b, err := tc.v.MarshalTOML()
		if err != nil {
			t.Fatal(err)
		}
		check(t, tc.v.Text, string(b), tc.want)
	}
}

// A float keeps its kind and its canonical text through a print and a parse.
func TestFloatValuesRoundTrip(t *testing.T) {
	testEnv(t)
	c, err := Parse("c.toml", []byte("[[route]]\nname = \"r\"\nsinks = [\"s\"]\nmatch = { a = 2.0, b = inf, c = -1e300, d = nan, e = 0.1 }\n[sink.s]\ntype = \"file\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, "match", c.Routes[0].Match, map[string]Value{
		"a": {Text: "2", Kind: FloatValue},
		"b": {Text: "+Inf", Kind: FloatValue},
		"c": {Text: "-1e+300", Kind: FloatValue},
		"d": {Text: "NaN", Kind: FloatValue},
		"e": {Text: "0.1", Kind: FloatValue},
	})
}
