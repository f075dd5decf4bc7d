package redact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"claude-otel-gw/config"
)

// FuzzString checks String on any text: it never panics (a recovered panic would show as the
// failure text), keeps UTF-8 valid, never masks a mask, and is idempotent: redacting its
// output again changes nothing.
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
			out := p.String(s)
			if out == failedText && s != failedText {
				t.Fatalf("%s: String(%q) failed", p.name, s)
			}
			if utf8.ValidString(s) && !utf8.ValidString(out) {
				t.Fatalf("%s: String(%q) = %q is not valid UTF-8", p.name, s, out)
			}
			if again := p.String(out); again != out {
				t.Fatalf("%s: not idempotent:\n in    %q\n once  %q\n twice %q", p.name, s, out, again)
			}
			if !strings.Contains(s, "[") {
				checkTags(t, p, s, out)
			}
		}
	})
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
