package redact

import (
	"regexp"
	"testing"

	"claude-otel-gw/config"
)

func TestCustomPrefix(t *testing.T) {
	tests := []struct {
		re      string
		prefix  string
		fold    bool
		asserts bool
	}{
		{`EMP-[0-9]{6}`, "EMP-", false, false},
		{`\bSEC-[0-9]+\b`, "SEC-", false, true},
		{`^prod-\w+`, "prod-", false, true},
		{`(?m)^deploy:`, "deploy:", false, true},
		{`(EMP|EMX)-\d`, "EM", false, false},
		{`(?:INV)-\d{8}`, "INV-", false, false},
		{`(?i)inv-\d+`, "inv-", true, false},
		{`(?i)ACME_`, "acme_", true, false},
		// Go folds k with the Kelvin sign and s with the long s: the prefix stops before them.
		{`(?i)ticket-\d+`, "tic", true, false},
		{`(?i)secret`, "", true, false},
		{`(?i)é-\d`, "", true, false},
		{`é-\d`, "é-", false, false},
		{`[A-Z]{3}-\d+`, "", false, false},
		{`x+y`, "", false, false},
		{`a|b`, "", false, false},
		{`0123456789abcdefghijklmnopqrstuvwxyz`, "0123456789abcdefghijklmnopqrstuv", false, false},
	}
	for _, tt := range tests {
		c := newCustomPattern(0, regexp.MustCompile(tt.re), 0)
		if c.prefix != tt.prefix || c.fold != tt.fold || (c.prefix != "" && c.asserts != tt.asserts) {
			t.Errorf("%s: prefix %q fold %v asserts %v, want %q %v %v", tt.re, c.prefix, c.fold, c.asserts, tt.prefix, tt.fold, tt.asserts)
		}
	}
	if c := newCustomPattern(0, regexp.MustCompile(`EMP-\d`), maxPrefixed); c.prefix != "" {
		t.Errorf("pattern %d has a prefix, only %d may", maxPrefixed+1, maxPrefixed)
	}
}

// TestCustomPatternsMatchAsRegexes: a custom pattern finds, through the automaton, what its
// regex finds on its own, wherever its prefix is and whatever comes before it.
func TestCustomPatternsMatchAsRegexes(t *testing.T) {
	patterns := []*config.Pattern{
		{Name: "emp", Regex: `EMP-[0-9]{4}`},
		{Name: "sec", Regex: `\bSEC-[0-9]+\b`},
		{Name: "inv", Regex: `(?i)inv-[0-9]{3}`},
		{Name: "line", Regex: `(?m)^deploy: \w+`},
		{Name: "kelvin", Regex: `(?i)kv-[0-9]{2}`},
		{Name: "noprefix", Regex: `[A-Z]{2}#[0-9]{2}`},
	}
	p := mustCompile(t, "custom", &config.Redaction{Detectors: []string{}, Patterns: patterns})
	tests := []struct{ in, want string }{
		{"EMP-1234 and EMP-5678", "[REDACTED:emp] and [REDACTED:emp]"},
		{"xEMP-1234", "x[REDACTED:emp]"},
		{"SEC-12 xSEC-34 SEC-56x SEC-78", "[REDACTED:sec] xSEC-34 SEC-56x [REDACTED:sec]"},
		{"Inv-123 INV-456 inv-78", "[REDACTED:inv] [REDACTED:inv] inv-78"},
		{"deploy: prod\n  deploy: no\ndeploy: canary", "[REDACTED:line]\n  deploy: no\n[REDACTED:line]"},
		{"KV-12 \u212aV-34 kv-5", "[REDACTED:kelvin] [REDACTED:kelvin] kv-5"},
		{"AB#12 ab#12", "[REDACTED:noprefix] ab#12"},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := p.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
