package redact

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"claude-otel-gw/config"
)

// FuzzString checks String on any text: it never panics (a recovered panic would show as the
// failure text), keeps UTF-8 valid, never masks a mask, leaves nothing the detectors confirm
// outside a mask, and is idempotent: redacting its output again changes nothing.
func FuzzString(f *testing.F) {
	for _, c := range readCorpus(f) {
		f.Add(c.Text)
	}
	for _, cases := range detectorCases {
		for _, c := range cases {
			f.Add(c.in)
		}
	}
	f.Add("alice@example.com4111 1111 1111 1111+44 20 7946 0958")
	f.Add("password=[REDACTED:secret_assignment] token: [email:0123456789ab]")
	mask := mustCompile(f, "default", nil)
	hash := mustCompile(f, "hash", &config.Redaction{Action: "hash", HashKeyFile: writeKeyFile(f, "fuzz")})

	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []*Profile{mask, hash} {
			checkString(t, p, s)
		}
	})
}

// FuzzMatcher checks the matcher with custom patterns beside the detectors, in profiles with
// all, some or none of the detectors: the properties of FuzzString, and that each custom
// pattern finds, through the prefilter, exactly what its regex finds on its own.
func FuzzMatcher(f *testing.F) {
	patterns := []*config.Pattern{
		{Name: "employee_id", Regex: `EMP-[0-9]{6}`},
		{Name: "ticket", Regex: `\bSEC-[0-9]+\b`},
		{Name: "invoice", Regex: `(?i)inv-[0-9]{4,}`},
		{Name: "account", Regex: `(?i)ak[a-z]{3}[0-9]`},
		{Name: "host", Regex: `[a-z]+\.corp\.internal`},
		{Name: "deploy", Regex: `(?m)^deploy:\s*\S+`},
		{Name: "badge", Regex: `é-[0-9]+`},
	}
	key := writeKeyFile(f, "fuzz")
	profiles := []*Profile{
		mustCompile(f, "all", &config.Redaction{Patterns: patterns}),
		mustCompile(f, "all-hash", &config.Redaction{Patterns: patterns, Action: "hash", HashKeyFile: key}),
		mustCompile(f, "custom", &config.Redaction{Detectors: []string{}, Patterns: patterns}),
		mustCompile(f, "numbers", &config.Redaction{Detectors: []string{"phone", "ssn", "credit_card", "ip"}, Patterns: patterns}),
		mustCompile(f, "secrets", &config.Redaction{Detectors: []string{"cloud_key", "vcs_token", "ai_key", "saas_token", "jwt", "private_key", "auth_header", "url_credentials", "secret_assignment"}, Patterns: patterns}),
	}
	for _, c := range readCorpus(f) {
		f.Add(c.Text, uint8(0))
	}
	for i, s := range []string{
		"EMP-123456 filed SEC-42 for bob@example.com",
		"xEMP-1234567 SEC-1x Inv-20240101 INV-12 akabc1 AKxyz9 \u212aKabc1",
		"build.corp.internal:8080 and db.corp.internal",
		"deploy: prod\n deploy: no\ndeploy:canary",
		"badge é-42, É-43",
		`password: "EMP-123456 [REDACTED:email]"`,
		"[REDACTED:employee_id] [employee_id:0123456789ab] SEC-7",
	} {
		f.Add(s, uint8(i))
	}
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		p := profiles[int(which)%len(profiles)]
		checkString(t, p, s)

		var sc scanner
		sc.p = p
		sc.collect(s)
		found := append(sc.buf[:sc.n:sc.n], sc.more...)
		for _, c := range p.custom {
			want := c.re.FindAllStringIndex(s, -1)
			var got [][]int
			for _, m := range found {
				if m.id == c.id {
					got = append(got, []int{m.start, m.end})
				}
			}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("%s: pattern %s in %q: found %v, its regex finds %v", p.name, p.names[c.id], s, got, want)
			}
		}
	})
}

// checkString checks the properties every redaction of s must have.
func checkString(t *testing.T, p *Profile, s string) {
	t.Helper()
	out := p.String(s)
	if out == failedText && s != failedText {
		t.Fatalf("%s: String(%q) failed", p.name, s)
	}
	if utf8.ValidString(s) && !utf8.ValidString(out) {
		t.Fatalf("%s: String(%q) = %q is not valid UTF-8", p.name, s, out)
	}
	checkFindings(t, p, s, out)
	if again := p.String(out); again != out {
		t.Fatalf("%s: not idempotent:\n in    %q\n once  %q\n twice %q", p.name, s, out, again)
	}
	if !strings.Contains(s, "[") {
		checkTags(t, p, s, out)
	}
}

// checkFindings runs the detectors over the output: whatever they confirm there must lie
// inside a mask or tag.
func checkFindings(t *testing.T, p *Profile, in, out string) {
	t.Helper()
	var sc scanner
	sc.p = p
	sc.collect(out)
	found := append(sc.buf[:sc.n:sc.n], sc.more...)
	for _, m := range found {
		if m.id == idMasked {
			continue
		}
		inside := slices.ContainsFunc(found, func(k match) bool {
			return k.id == idMasked && k.start <= m.start && m.end <= k.end
		})
		if !inside {
			t.Fatalf("%s: String(%q) = %q still holds %q, which %s confirms", p.name, in, out, out[m.start:m.end], p.names[m.id])
		}
	}
}

// checkTags checks that every '[' in out opens a well-formed mask or tag naming a detector of
// p, for an input that had no '[' of its own: a mask inside a mask would not be.
func checkTags(t *testing.T, p *Profile, in, out string) {
	t.Helper()
	for i := strings.IndexByte(out, '['); i >= 0; {
		end, ok := p.maskAt(out, i)
		if !ok {
			t.Fatalf("%s: String(%q) = %q: malformed mask at %d", p.name, in, out, i)
		}
		if isHash := !strings.HasPrefix(out[i:], "[REDACTED"); isHash != (p.hash != nil) {
			t.Fatalf("%s: String(%q) = %q: %q is the wrong kind of mask", p.name, in, out, out[i:end])
		}
		next := strings.IndexByte(out[end:], '[')
		if next < 0 {
			break
		}
		i = end + next
	}
}
