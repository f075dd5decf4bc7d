package redact

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"claude-otel-gw/config"
)

// acHit is one report of the automaton, as the tests compare them.
type acHitAt struct {
	at   int
	ev   acEvent
	hits []int32
}

func (h acHitAt) String() string { return fmt.Sprintf("%d:%d%v", h.at, h.ev, h.hits) }

// naiveReports is what the automaton must report, found the slow way: every pattern tried at
// every position, every event byte checked against the bytes before it.
func naiveReports(pats []acPattern, events *[256]acEvent, s string) []acHitAt {
	var out []acHitAt
	for i := 0; i < len(s); i++ {
		h := acHitAt{at: i}
		switch ev := events[s[i]]; ev {
		case evNumber:
			if numberStartRef(s, i) {
				h.ev = ev
			}
		case evSign:
			if i == 0 || !isAlnum(s[i-1]) {
				h.ev = ev
			}
		default:
			h.ev = ev
		}
		for p, pat := range pats {
			start := i + 1 - len(pat.text)
			if start < 0 || (pat.boundary && start > 0 && isAlnum(s[start-1])) {
				continue
			}
			seg := s[start : i+1]
			if seg == pat.text || (pat.fold && strings.EqualFold(seg, pat.text) && asciiOnly(seg)) {
				h.hits = append(h.hits, int32(p))
			}
		}
		if h.ev != evNone || len(h.hits) > 0 {
			out = append(out, h)
		}
	}
	return out
}

// numberStartRef is the rule for where a number starts, written out: not after a letter,
// digit, '_' or '.', nor after a '-' that follows a letter or digit (e20e-46c3).
func numberStartRef(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch p := s[i-1]; {
	case isWord(p), p == '.':
		return false
	case p == '-':
		return i < 2 || !isAlnum(s[i-2])
	}
	return true
}

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func automatonReports(a *automaton, s string) []acHitAt {
	var out []acHitAt
	a.scan(s, func(i int, r *acReport) {
		out = append(out, acHitAt{at: i, ev: r.ev, hits: slices.Clone(r.hits)})
	})
	return out
}

func equalReports(a, b []acHitAt) bool {
	return slices.EqualFunc(a, b, func(x, y acHitAt) bool {
		return x.at == y.at && x.ev == y.ev && slices.Equal(x.hits, y.hits)
	})
}

// TestAutomatonAgainstNaive runs the automaton over random text built from pieces of its own
// patterns and from bytes its events look at, short and long (the four segments, their
// windows and full report buffers), and checks it reports exactly what a naive search finds.
func TestAutomatonAgainstNaive(t *testing.T) {
	var events [256]acEvent
	for c := '0'; c <= '9'; c++ {
		events[c] = evNumber
	}
	events['+'], events['('] = evSign, evSign
	events['@'], events[':'], events['='], events['['] = evAt, evColon, evEquals, evBracket
	var pats []acPattern
	for _, l := range literals {
		p := acPattern{text: l.text, fold: l.fold, boundary: l.boundary}
		if !slices.Contains(pats, p) {
			pats = append(pats, p)
		}
	}
	pats = append(pats, acPattern{text: "emp-"}, acPattern{text: "tick", fold: true}, acPattern{text: "E"})
	a, ok := newAutomaton(pats, &events, maxACStates)
	if !ok {
		t.Fatal("the automaton is too big")
	}

	pieces := []string{" ", "  ", "\n", "a", "Z", "_", ".", "-", "--", "0", "42", "1-", "x9", "@", ":", "=", "[", "+", "(", "é", "\xff"}
	for _, p := range pats {
		pieces = append(pieces, p.text, strings.ToUpper(p.text), p.text[:len(p.text)/2])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		size := rng.IntN(64)
		if n%10 == 0 {
			size = 200 + rng.IntN(2000)
		}
		for b.Len() < size {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		got, want := automatonReports(a, s), naiveReports(pats, &events, s)
		if !equalReports(got, want) {
			t.Fatalf("text %q:\n got %v\nwant %v", s, got, want)
		}
	}
}

// TestAutomatonSegments checks the four-segment scan where it is most likely to go wrong: a
// pattern across each segment boundary, and more reports in one segment than its buffer holds.
func TestAutomatonSegments(t *testing.T) {
	var events [256]acEvent
	events['@'] = evAt
	pats := []acPattern{{text: "ghp_", boundary: true}, {text: "secret_access_key", fold: true}}
	a, _ := newAutomaton(pats, &events, maxACStates)
	filler := strings.Repeat("lorem ipsum ", 100)
	tests := map[string]string{
		"clean":          filler,
		"dense":          strings.Repeat("a@b ", 400),
		"dense at end":   filler + strings.Repeat("@", 300),
		"dense at start": strings.Repeat("@", 300) + filler,
	}
	for at := 250; at < 1100; at += 7 {
		s := filler[:at] + "SECRET_ACCESS_KEY ghp_" + filler[at:]
		tests[fmt.Sprintf("across %d", at)] = s
	}
	for name, s := range tests {
		got, want := automatonReports(a, s), naiveReports(pats, &events, s)
		if !equalReports(got, want) {
			t.Errorf("%s: got %d reports, want %d:\n got %v\nwant %v", name, len(got), len(want), got, want)
		}
	}
}

// TestAutomatonTooBig: custom prefixes that would make the automaton too big are left out,
// and their patterns run on every string instead, so they still find what they find.
func TestAutomatonTooBig(t *testing.T) {
	p := mustCompile(t, "custom", &config.Redaction{
		Detectors: []string{"email"},
		Patterns: []*config.Pattern{
			{Name: "employee_id", Regex: `EMP-[0-9]{6}`},
			{Name: "ticket", Regex: `(?i)\bticket-[0-9]+\b`},
		},
	})
	in := "EMP-123456 filed TICKET-42 for bob@example.com"
	want := "[REDACTED:employee_id] filed [REDACTED:ticket] for [REDACTED:email]"
	if got := p.String(in); got != want {
		t.Fatalf("String(%q) = %q, want %q", in, got, want)
	}
	small, err := buildPrefilter(&p.on, p.custom, p.pf.ac.states-1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.custom {
		if c.prefix != "" {
			t.Errorf("pattern %d kept its prefix %q", c.id, c.prefix)
		}
	}
	p.pf = small
	if got := p.String(in); got != want {
		t.Errorf("without prefixes: String(%q) = %q, want %q", in, got, want)
	}
	if _, err := buildPrefilter(&p.on, p.custom, 3); err == nil {
		t.Error("an automaton of 3 states was built")
	}
}

func BenchmarkAutomaton(b *testing.B) {
	p := mustCompile(b, "default", nil)
	for _, tt := range []struct{ name, text string }{{"prose", prose}, {"dense", secretsText(b)}} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tt.text)))
			n := 0
			for b.Loop() {
				p.pf.ac.scan(tt.text, func(int, *acReport) { n++ })
			}
		})
	}
}
