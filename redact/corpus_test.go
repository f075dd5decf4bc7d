package redact

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// corpusCase is one line of testdata/pii/corpus.jsonl.
type corpusCase struct {
	Text   string   `json:"text"`
	Redact []string `json:"redact"`
	Keep   []string `json:"keep"`
}

func readCorpus(t testing.TB) []corpusCase {
	t.Helper()
	f, err := os.Open("../testdata/pii/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c corpusCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("corpus line %q: %v", sc.Text(), err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestCorpus runs every case of the PII corpus through the default profile: what must go is
// gone, what must stay is still there.
func TestCorpus(t *testing.T) {
	p := mustCompile(t, "default", nil)
	cases := readCorpus(t)
	if len(cases) < 45 {
		t.Fatalf("corpus has %d cases, want at least 45", len(cases))
	}
	for _, c := range cases {
		got := p.String(c.Text)
		for _, r := range c.Redact {
			if strings.Contains(got, r) {
				t.Errorf("String(%q) = %q: %q is still there", c.Text, got, r)
			}
		}
		for _, k := range c.Keep {
			if !strings.Contains(got, k) {
				t.Errorf("String(%q) = %q: %q is gone", c.Text, got, k)
			}
		}
		if len(c.Redact) == 0 && got != c.Text {
			t.Errorf("String(%q) = %q: nothing should change", c.Text, got)
		}
	}
}
