package config

import (
	"errors"
	"testing"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "EMPTY": "", "DIR": "/srv"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-${DIR}/y", want: "x-alpha-/srv/y"},
		{in: "${EMPTY}", want: ""},
		{in: "${MISSING:-fb}", want: "fb"},
		{in: "${EMPTY:-fb}", want: "fb"},
		{in: "${A:-fb}", want: "alpha"},
		{in: "${MISSING:-}", want: ""},
		{in: "${MISSING:-a:-b}", want: "a:-b"},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$alpha"},
		{in: "cost $5", want: "cost $5"},
		{in: "end$", want: "end$"},
		{in: "$A", want: "$A"},
		{in: "^a$|^b$", want: "^a$|^b$"},
		{in: "${MISSING}", err: "environment variable MISSING is not set"},
		{in: "${A", err: `unterminated ${ (want ${VAR} or ${VAR:-fallback}; $$ for a literal $) ("${A")`},
		{in: "${}", err: `not a variable name in ${...} ("${}")`},
		{in: "${1X}", err: `not a variable name in ${...} ("${1X}")`},
		{in: "${A-B}", err: `not a variable name in ${...} ("${A-B}")`},
	} {
		got, err := expand(tc.in, lookup)
		if tc.err != "" {
			check(t, tc.in+": error", errorText(err), tc.err)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
		}
		check(t, tc.in, got, tc.want)
	}
}

func FuzzEscapeDollars(f *testing.F) {
	for _, s := range []string{"", "$", "$$", "${A}", "a$b", "$${", "}$$$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := expand(escapeDollars(s), func(string) (string, bool) { return "", false })
		if err != nil || got != s {
			t.Errorf("expand(escapeDollars(%q)) = %q, %v", s, got, err)
		}
	})
}

func TestExpandPath(t *testing.T) {
	home := func() (string, error) { return "/home/dev", nil }
	noHome := func() (string, error) { return "", errors.New("no home") }
	for _, tc := range []struct {
		in, base string
		home     func() (string, error)
		want     string
		err      error
	}{
		{in: "", base: "/etc/gw", home: home, want: ""},
		{in: "~", base: "/etc/gw", home: home, want: "/home/dev"},
		{in: "~/state", base: "/etc/gw", home: home, want: "/home/dev/state"},
		{in: "~user/x", base: "/etc/gw", home: home, want: "/etc/gw/~user/x"},
		{in: "/abs/x", base: "/etc/gw", home: home, want: "/abs/x"},
		{in: "rel/x", base: "/etc/gw", home: home, want: "/etc/gw/rel/x"},
		{in: "../x", base: "/etc/gw", home: home, want: "/etc/x"},
		{in: "~/x", base: "/etc/gw", home: noHome, err: errNoHome},
	} {
		got, err := expandPath(tc.in, tc.base, tc.home)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: error %v, want %v", tc.in, err, tc.err)
		}
		check(t, tc.in, got, tc.want)
	}
}
