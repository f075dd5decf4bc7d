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
// every position, every event byte and operator checked against the bytes before it.
func naiveReports(pats []acPattern, events *[256]acEvent, s string) []acHitAt {
	var out []acHitAt
	for i := 0; i < len(s); i++ {
		h := acHitAt{at: i, ev: events[s[i]]}
		if assignOpRef(pats, s, i) {
			h.ev = evAssign
		}
		for p, pat := range pats {
			if !pat.keyEnd && endsAtRef(pat, s, i) {
				h.hits = append(h.hits, int32(p))
			}
		}
		if h.ev != evNone || len(h.hits) > 0 {
			out = append(out, h)
		}
	}
	return out
}

// endsAtRef reports whether pat matches s at the bytes that end at i.
func endsAtRef(pat acPattern, s string, i int) bool {
	start := i + 1 - len(pat.text)
	switch {
	case start < 0:
		return false
	case pat.number && !numberStartRef(s, start):
		return false
	case pat.boundary && start > 0 && isAlnum(s[start-1]):
		return false
	}
	seg := s[start : i+1]
	if pat.shape {
		return shapeMatchRef(pat.text, seg)
	}
	return seg == pat.text || (pat.fold && strings.EqualFold(seg, pat.text) && asciiOnly(seg))
}

// shapeMatchRef reports whether seg fits shape, class by class.
func shapeMatchRef(shape, seg string) bool {
	for i := 0; i < len(shape); i++ {
		class := shape[i : i+1]
		switch shape[i] {
		case '#':
			class = "0123456789"
		case 'N':
			class = "23456789"
		case 'X':
			class = "0123456789abcdefABCDEF"
		case 'A':
			class = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		}
		if strings.IndexByte(class, seg[i]) < 0 {
			return false
		}
	}
	return true
}

// assignOpRef is the rule for an operator evAssign reports, written out: a ':' or '=' with at
// most eight spaces or tabs before it, before them a quote or none (and before a quote a
// backslash or none), and before that the end of a key pattern; or the '=' of a ':=' whose ':'
// is one.
func assignOpRef(pats []acPattern, s string, i int) bool {
	if s[i] != ':' && s[i] != '=' {
		return false
	}
	k := i
	if s[i] == '=' && i > 0 && s[i-1] == ':' {
		k = i - 1
	}
	m := k
	for m > 0 && k-m < 8 && (s[m-1] == ' ' || s[m-1] == '\t') {
		m--
	}
	if m > 0 && (s[m-1] == '"' || s[m-1] == '\'') {
		m--
		if m > 0 && s[m-1] == '\\' {
			m--
		}
	}
	for _, pat := range pats {
		if pat.keyEnd && m > 0 && endsAtRef(pat, s, m-1) {
			return true
		}
	}
	return false
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

// TestAutomatonAgainstNaive runs automata over random text built from pieces of their own
// patterns and from bytes their events look at, short and long (one pass, the four segments,
// their windows and full report buffers), and checks each reports exactly what a naive search
// finds. The pattern sets are a profile's with every detector and custom prefixes, and sets
// whose windows are set by shapes alone, by key patterns alone, and by nothing.
func TestAutomatonAgainstNaive(t *testing.T) {
	var events [256]acEvent
	events['@'], events['['] = evAt, evBracket
	var all, numbers, keys []acPattern
	for _, l := range literals {
		p := acPattern{text: l.text, fold: l.fold, boundary: l.boundary}
		if !slices.Contains(all, p) {
			all = append(all, p)
		}
	}
	for _, sh := range shapes {
		all = append(all, sh.pattern())
		if sh.spot == spotNumber {
			numbers = append(numbers, sh.pattern())
		}
	}
	for _, k := range keyEnds {
		all = append(all, acPattern{text: k, fold: true, keyEnd: true})
		keys = append(keys, acPattern{text: k, fold: true, keyEnd: true})
	}
	all = append(all, acPattern{text: "emp-"}, acPattern{text: "tick", fold: true}, acPattern{text: "E"})

	rng := rand.New(rand.NewPCG(1, 2))
	for _, set := range []struct {
		name  string
		pats  []acPattern
		texts int
	}{{"all", all, 2000}, {"numbers", numbers, 1000}, {"keys", keys, 1000}, {"none", nil, 300}} {
		a, ok := newAutomaton(set.pats, &events, maxACStates)
		if !ok {
			t.Fatalf("%s: the automaton is too big", set.name)
		}
		pieces := []string{" ", "  ", "\n", "\t", "a", "Z", "_", ".", "-", "--", "0", "1", "42", "555", "1-", "x9", "@", ":", "=", "[", "+", "(", ")", "/", "é", "\xff",
			"\\", "\"", "'", "ff", "Password", "pass_word", "api_key", "TOKEN", "\\\"", "       ", "\t\t\t\t"}
		for _, p := range set.pats {
			text := p.text
			if p.shape {
				text = shapeSample(rng, text)
			}
			pieces = append(pieces, text, strings.ToUpper(text), text[:len(text)/2])
		}
		for n := 0; n < set.texts; n++ {
			var b strings.Builder
			size := rng.IntN(64)
			switch n % 10 {
			case 0:
				size = 200 + rng.IntN(2000)
			case 5:
				size = 64 + rng.IntN(256)
			}
			for b.Len() < size {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			s := b.String()
			got, want := automatonReports(a, s), naiveReports(set.pats, &events, s)
			if !equalReports(got, want) {
				t.Fatalf("%s: text %q:\n got %v\nwant %v", set.name, s, got, want)
			}
		}
	}
}

// shapeSample returns text that fits shape, its classes filled at random.
func shapeSample(rng *rand.Rand, shape string) string {
	b := []byte(shape)
	for i, c := range b {
		switch c {
		case '#':
			b[i] = byte('0' + rng.IntN(10))
		case 'N':
			b[i] = byte('2' + rng.IntN(8))
		case 'X':
			b[i] = "0123456789abcdefABCDEF"[rng.IntN(22)]
		case 'A':
			b[i] = "abcxyzABCXYZ"[rng.IntN(12)]
		}
	}
	return string(b)
}

// TestAutomatonSegments checks the four-segment scan where it is most likely to go wrong: a
// pattern across each segment boundary, and more reports in one segment than its buffer holds.
// Each set of patterns has its own window: literals, key patterns (whose operator may come 14
// bytes after the pattern starts), shapes.
func TestAutomatonSegments(t *testing.T) {
	var events [256]acEvent
	events['@'] = evAt
	var keys, numbers []acPattern
	for _, k := range keyEnds {
		keys = append(keys, acPattern{text: k, fold: true, keyEnd: true})
	}
	for _, sh := range shapes {
		if sh.spot == spotNumber {
			numbers = append(numbers, sh.pattern())
		}
	}
	filler := strings.Repeat("lorem ipsum ", 40)
	for _, set := range []struct {
		name, across string
		pats         []acPattern
	}{
		{"literals", "SECRET_ACCESS_KEY ghp_", []acPattern{{text: "ghp_", boundary: true}, {text: "secret_access_key", fold: true}}},
		{"keys", `PASS\"        :=x`, keys},
		{"numbers", "078-05-1120 (415) 555-0134", numbers},
	} {
		a, _ := newAutomaton(set.pats, &events, maxACStates)
		tests := map[string]string{
			"clean":          filler,
			"dense":          strings.Repeat("a@b ", 400),
			"dense at end":   filler + strings.Repeat("@", 300),
			"dense at start": strings.Repeat("@", 300) + filler,
		}
		for at := 0; at <= len(filler); at++ {
			tests[fmt.Sprintf("across %d", at)] = filler[:at] + set.across + filler[at:]
		}
		for name, s := range tests {
			got, want := automatonReports(a, s), naiveReports(set.pats, &events, s)
			if !equalReports(got, want) {
				t.Errorf("%s, %s: got %d reports, want %d:\n got %v\nwant %v", set.name, name, len(got), len(want), got, want)
			}
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
