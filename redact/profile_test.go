package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
)

func writeKey(t *testing.T, content string) string { return writeKeyFile(t, content) }

func writeKeyFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hash.key")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCompileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.key")
	empty := writeKey(t, "\n")
	tests := []struct {
		name string
		cfg  config.Redaction
		want []string // each must appear in the error
	}{
		{"unknown detector", config.Redaction{Detectors: []string{"email", "passport"}},
			[]string{`redaction profile "p": unknown detector "passport" (known: email, phone,`}},
		{"unknown action", config.Redaction{Action: "shred"},
			[]string{`unknown action "shred" (want "mask" or "hash")`}},
		{"hash without key", config.Redaction{Action: "hash"},
			[]string{`action "hash" needs hash_key_file`}},
		{"missing key file", config.Redaction{Action: "hash", HashKeyFile: missing},
			[]string{"hash_key_file: open " + missing}},
		{"empty key", config.Redaction{Action: "hash", HashKeyFile: empty},
			[]string{"the key is empty"}},
		{"bad regex", config.Redaction{Patterns: []*config.Pattern{{Name: "emp", Regex: "EMP-[0-9"}}},
			[]string{`pattern "emp": error parsing regexp: missing closing ]`}},
		{"empty match", config.Redaction{Patterns: []*config.Pattern{{Name: "any", Regex: "x*"}}},
			[]string{`pattern "any": regex "x*" matches empty text`}},
		{"bad name", config.Redaction{Patterns: []*config.Pattern{{Name: "emp id", Regex: "x"}}},
			[]string{`pattern 1: name "emp id" must be 1 to 64 letters, digits, underscores or hyphens`}},
		{"taken name", config.Redaction{Patterns: []*config.Pattern{{Name: "email", Regex: "x"}, {Name: "key", Regex: "y"}}},
			[]string{`pattern "email": the name is already taken`, `pattern "key": the name is already taken`}},
		{"duplicate name", config.Redaction{Patterns: []*config.Pattern{{Name: "emp", Regex: "x"}, {Name: "emp", Regex: "y"}}},
			[]string{`pattern "emp": the name is already taken`}},
		{"empty keys", config.Redaction{DropKeys: []string{""}, MaskKeys: []string{""}},
			[]string{"drop_keys: an empty key", "mask_keys: an empty key"}},
		{"every problem at once", config.Redaction{Detectors: []string{"nope"}, Action: "nope"},
			[]string{`unknown detector "nope"`, `unknown action "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile("p", &tt.cfg, nil)
			if err == nil {
				t.Fatalf("Compile = %v, want an error", p)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCompileDefaults(t *testing.T) {
	p := mustCompile(t, "default", nil)
	if p.Name() != "default" {
		t.Errorf("Name() = %q", p.Name())
	}
	for _, c := range []struct{ in, want string }{
		{"a@example.com 078-05-1120 10.1.2.3", "[REDACTED:email] [REDACTED:ssn] [REDACTED:ip]"},
	} {
		if got := p.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	none := mustCompile(t, "none", &config.Redaction{Detectors: []string{}})
	if in := "a@example.com 078-05-1120"; none.String(in) != in {
		t.Errorf("an empty detector list still redacts: %q", none.String(in))
	}
}

func TestDetectorSubset(t *testing.T) {
	p := mustCompile(t, "subset", &config.Redaction{Detectors: []string{"email", "ip"}})
	in := "alice@example.com from 10.1.2.3 with SSN 078-05-1120 and key AKIAIOSFODNN7EXAMPLE"
	want := "[REDACTED:email] from [REDACTED:ip] with SSN 078-05-1120 and key AKIAIOSFODNN7EXAMPLE"
	if got := p.String(in); got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func hmacTag(key, name, value string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(value))
	return "[" + name + ":" + hex.EncodeToString(m.Sum(nil))[:12] + "]"
}

func TestHash(t *testing.T) {
	keyA := mustCompile(t, "a", &config.Redaction{Action: "hash", HashKeyFile: writeKey(t, "key-a\n")})
	keyA2 := mustCompile(t, "a2", &config.Redaction{Action: "hash", HashKeyFile: writeKey(t, "key-a")})
	keyB := mustCompile(t, "b", &config.Redaction{Action: "hash", HashKeyFile: writeKey(t, "key-b\n")})

	in := "from alice@example.com: call 415-555-0199, token ghp_16C7e42F292c6912E7710c838347Ae178B4a"
	want := "from " + hmacTag("key-a", "email", "alice@example.com") +
		": call " + hmacTag("key-a", "phone", "4155550199") +
		", token " + hmacTag("key-a", "vcs_token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a")
	if got := keyA.String(in); got != want {
		t.Errorf("hash:\n got %q\nwant %q", got, want)
	}
	if got := keyA2.String(in); got != want {
		t.Errorf("a key file with and without its trailing newline hash differently:\n%q\n%q", got, want)
	}
	if got := keyB.String(in); got == want || !regexp.MustCompile(`^from \[email:[0-9a-f]{12}\]: call \[phone:[0-9a-f]{12}\], token \[vcs_token:[0-9a-f]{12}\]$`).MatchString(got) {
		t.Errorf("another key: %q", got)
	}
	// One value written two ways is one value.
	if a, b := keyA.String("(415) 555-0199"), keyA.String("+1 415 555 0199"); a != b {
		t.Errorf("one phone number, two tags: %q, %q", a, b)
	}
	if a, b := keyA.String("Alice@Example.com"), keyA.String("alice@example.com"); a != b {
		t.Errorf("one email address, two tags: %q, %q", a, b)
	}
	if a, b := keyA.String("alice@example.com"), keyA.String("bob@example.com"); a == b {
		t.Errorf("two email addresses, one tag: %q", a)
	}
	// Tags are not hashed again.
	if out := keyA.String(in); keyA.String(out) != out {
		t.Errorf("hashing twice changed %q to %q", out, keyA.String(out))
	}
}

func TestCustomPatterns(t *testing.T) {
	p := mustCompile(t, "custom", &config.Redaction{
		Detectors: []string{"email"},
		Patterns: []*config.Pattern{
			{Name: "employee_id", Regex: `EMP-[0-9]{6}`},
			{Name: "ticket", Regex: `\bSEC-[0-9]+\b`},
		},
	})
	tests := []struct{ in, want string }{
		{"EMP-123456 filed SEC-42 for bob@example.com", "[REDACTED:employee_id] filed [REDACTED:ticket] for [REDACTED:email]"},
		{"EMP-12345 is too short", "EMP-12345 is too short"},
		// The longer match wins an overlap, whichever detector found it.
		{"EMP-123456@example.com", "[REDACTED:email]"},
	}
	for _, tt := range tests {
		if got := p.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCounting(t *testing.T) {
	m := admin.NewTestMetrics()
	p, err := Compile("audit", &config.Redaction{
		MaskKeys:  []string{"user.email"},
		DropKeys:  []string{"host.name"},
		Detectors: []string{"email", "ssn"},
		Patterns:  []*config.Pattern{{Name: "employee_id", Regex: `EMP-[0-9]{6}`}},
	}, m)
	if err != nil {
		t.Fatal(err)
	}
	p.String("a@example.com, b@example.com, 078-05-1120, EMP-123456")
	req := logsRequest(
		[]*commonpb.KeyValue{strKV("host.name", "dev-1"), strKV("user.email", "c@example.com")},
		strKV("prompt", "mail d@example.com"),
	)
	if _, err := p.Redact(req); err != nil {
		t.Fatal(err)
	}
	for det, want := range map[string]float64{
		"email": 3, "ssn": 1, "employee_id": 1, "key": 1, "drop_key": 1, "phone": 0,
	} {
		if got := testutil.ToFloat64(m.Redactions.WithLabelValues("audit", det)); got != want {
			t.Errorf("redactions{profile=audit,detector=%s} = %v, want %v", det, got, want)
		}
	}
}

// TestConcurrentUse shares one profile among many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	m := admin.NewTestMetrics()
	p, err := Compile("shared", &config.Redaction{Action: "hash", HashKeyFile: writeKey(t, "k")}, m)
	if err != nil {
		t.Fatal(err)
	}
	req := logsRequest(nil, strKV("prompt", "mail alice@example.com or call 415-555-0199"))
	want, err := p.Redact(req)
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				got, err := p.Redact(req)
				if err != nil {
					errs <- err
					return
				}
				if a, b := bodyOrAttr(got), bodyOrAttr(want); a != b {
					errs <- errors.New("redacted differently: " + a + " vs " + b)
					return
				}
				p.String("ssn 078-05-1120")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := testutil.ToFloat64(m.Redactions.WithLabelValues("shared", "email")); got != workers*rounds+1 {
		t.Errorf("email redactions = %v, want %v", got, workers*rounds+1)
	}
}
