package redact

// The prefilter's automaton: a dense deterministic Aho-Corasick automaton over bytes, written
// here rather than taken from a library because it was the fastest by a wide margin and the
// only one that does all the prefilter needs in one pass without allocating.
//
// Each state knows which literals are partly matched and what the byte before it was (a letter
// or digit, '_' or '.', a '-' after a letter or digit, or anything else). That puts case folding
// (per literal: bearer matches Bearer, AKIA matches only AKIA), word boundaries (ghp_ must not
// follow a letter) and the byte events (a digit that starts a number, '@', ':', '=', ...) into
// the table, so the scan loop is a load from a byte-class table and a load from the transition
// table per byte, and one comparison: states that report something are numbered last. Bytes
// that every state treats alike share a column, which keeps the table small (about 200 states
// by 64 columns for the built-in detectors). Long strings are scanned in four interleaved
// segments (see scan).
//
// Chosen by benchmark (scratch module, go1.26.8, AMD EPYC, one core, median of three; the 41
// built-in literals, the folded ones given to the libraries in lower case and matched
// case-sensitively, which only flatters them; texts: the 753-byte prose of bench_test.go, a
// 6.4 KB Go source file, the corpus's 2.3 KB of secrets; MB/s):
//
//	                                          prose   code  secrets  allocs/op
//	this automaton, four segments              1600   1802     1341      0
//	this automaton, one pass                    607    600      603      0
//	this automaton, with the byte events       1137    883      937      0
//	cloudflare/ahocorasick (which, not where)   714    715      609      0-3
//	BobuSumisu/aho-corasick (Walk)              490    491      417      0
//	petar-dambovaliev/aho-corasick, DFA         211    230      153      5-135
//	petar-dambovaliev/aho-corasick, NFA          97     93       95      3-57
//
// cloudflare's matcher reports which patterns occur but not where, which the detectors need;
// none of the libraries folds case per pattern, checks word boundaries or reports byte events,
// each of which would take a second pass over the text.

import (
	"encoding/binary"
	"slices"
)

// acPattern is one literal the automaton finds.
type acPattern struct {
	text     string // lower case where fold is set
	fold     bool   // ASCII letters match in either case
	boundary bool   // must not follow an ASCII letter or digit
}

// acEvent is a byte that matters by itself, given the byte before it.
type acEvent uint8

const (
	evNone acEvent = iota
	// evNumber is a digit that starts a number of its own: not one after a letter, digit, '_'
	// or '.', nor after a '-' that follows a letter or digit. A number inside a word (v1,
	// sha256), a decimal or dotted number (1.5, 10.0.0.1) or a hyphenated id (e20e-46c3) is
	// never a phone, card or SSN number.
	evNumber
	evSign    // '+' or '(' not after a letter or digit
	evAt      // '@'
	evColon   // ':'
	evEquals  // '='
	evBracket // '['
)

// What the byte before says, as far as events and boundaries care.
const (
	ctxOther     uint8 = iota // the start of the text, or anything below
	ctxAlnum                  // an ASCII letter or digit
	ctxWordPunct              // '_' or '.'
	ctxDash                   // '-' after a letter or digit
)

// acReport is what the automaton reports on entering a state.
type acReport struct {
	ev   acEvent
	hits []int32 // the patterns that end at this byte, by index
}

// maxACStates and maxACTable bound the automaton (its states, and the entries of its table).
// The built-in literals need about 200 states and 13,000 entries; only a profile with very
// many long custom prefixes comes near either bound.
const (
	maxACStates = 1 << 14
	maxACTable  = 1 << 20
)

// automaton is a deterministic Aho-Corasick automaton over bytes.
type automaton struct {
	class   [256]uint8 // byte -> column
	trans   []uint32   // [state<<shift | column] -> next state<<shift
	shift   uint8
	first   uint32 // states from this one (shifted) on report something
	reports []acReport
	states  int
	window  int // the bytes before a position that decide the state there
}

// newAutomaton builds the automaton for pats and the byte events in events (evNone for a byte
// that is not one). It reports false when it would need more than limit states, or a table
// larger than maxACTable.
func newAutomaton(pats []acPattern, events *[256]acEvent, limit int) (*automaton, bool) {
	b := acBuilder{pats: pats, events: events, index: map[string]int{}, limit: limit}
	b.add(acNState{})
	for q := 0; q < len(b.states); q++ {
		var row [256]int
		for c := 0; c < 256; c++ {
			n := b.add(b.step(&b.states[q], byte(c)))
			if n < 0 {
				return nil, false
			}
			row[c] = n
		}
		b.rows = append(b.rows, row)
	}
	a := b.compile()
	if len(a.trans) > maxACTable {
		return nil, false
	}
	for _, p := range pats {
		a.window = max(a.window, len(p.text)+2)
	}
	return a, true
}

// acNState is a state while building: the patterns partly matched, how far each, and what
// entering the state reports.
type acNState struct {
	items []uint32 // pattern<<8 | bytes matched, sorted
	ctx   uint8
	ev    acEvent
	hits  []int32 // sorted
}

func (s *acNState) key() string {
	k := []byte{s.ctx, byte(s.ev), byte(len(s.items) >> 8), byte(len(s.items))}
	for _, it := range s.items {
		k = binary.LittleEndian.AppendUint32(k, it)
	}
	for _, h := range s.hits {
		k = binary.LittleEndian.AppendUint32(k, uint32(h))
	}
	return string(k)
}

func (s *acNState) reports() bool { return s.ev != evNone || len(s.hits) > 0 }

type acBuilder struct {
	pats   []acPattern
	events *[256]acEvent
	states []acNState
	index  map[string]int
	rows   [][256]int
	limit  int
}

func (b *acBuilder) add(s acNState) int {
	k := s.key()
	if i, ok := b.index[k]; ok {
		return i
	}
	if len(b.states) == b.limit {
		return -1
	}
	b.index[k] = len(b.states)
	b.states = append(b.states, s)
	return len(b.states) - 1
}

// step is the state after s on byte c.
func (b *acBuilder) step(s *acNState, c byte) acNState {
	var n acNState
	advance := func(p int32, k int) {
		pat := &b.pats[p]
		want := pat.text[k]
		if c != want && !(pat.fold && lower(c) == want) {
			return
		}
		if k+1 == len(pat.text) {
			n.hits = append(n.hits, p)
		} else {
			n.items = append(n.items, uint32(p)<<8|uint32(k+1))
		}
	}
	for _, it := range s.items {
		advance(int32(it>>8), int(it&0xff))
	}
	for p := range b.pats {
		if !b.pats[p].boundary || s.ctx != ctxAlnum {
			advance(int32(p), 0)
		}
	}
	slices.Sort(n.items)
	slices.Sort(n.hits)
	switch ev := b.events[c]; {
	case ev == evNumber:
		if s.ctx == ctxOther {
			n.ev = ev
		}
	case ev == evSign:
		if s.ctx != ctxAlnum {
			n.ev = ev
		}
	default:
		n.ev = ev
	}
	switch {
	case isAlnum(c):
		n.ctx = ctxAlnum
	case c == '_' || c == '.':
		n.ctx = ctxWordPunct
	case c == '-' && s.ctx == ctxAlnum:
		n.ctx = ctxDash
	}
	return n
}

// compile numbers the states so that the reporting ones come last, merges bytes that every
// state treats alike into one column, and lays out the table.
func (b *acBuilder) compile() *automaton {
	order := make([]int, 0, len(b.states)) // new number -> old
	for i := range b.states {
		if !b.states[i].reports() {
			order = append(order, i)
		}
	}
	first := len(order)
	for i := range b.states {
		if b.states[i].reports() {
			order = append(order, i)
		}
	}
	renum := make([]int, len(b.states))
	for n, o := range order {
		renum[o] = n
	}

	a := &automaton{states: len(b.states)}
	columns := map[string]uint8{}
	var reps []int // a byte of each column
	for c := 0; c < 256; c++ {
		sig := make([]byte, 0, 2*len(order))
		for _, o := range order {
			sig = binary.LittleEndian.AppendUint16(sig, uint16(renum[b.rows[o][c]]))
		}
		col, ok := columns[string(sig)]
		if !ok {
			col = uint8(len(reps))
			columns[string(sig)] = col
			reps = append(reps, c)
		}
		a.class[c] = col
	}
	for 1<<a.shift < len(reps) {
		a.shift++
	}
	a.trans = make([]uint32, len(order)<<a.shift)
	for n, o := range order {
		for col, c := range reps {
			a.trans[n<<a.shift|col] = uint32(renum[b.rows[o][c]]) << a.shift
		}
	}
	a.first = uint32(first) << a.shift
	for _, o := range order[first:] {
		s := &b.states[o]
		a.reports = append(a.reports, acReport{ev: s.ev, hits: s.hits})
	}
	return a
}

// scan runs the automaton over s and calls visit, in order, at every byte where it reports
// something.
//
// One pass of a table-driven automaton is bound by the latency of its table loads, each of
// which needs the state the one before it gave. A long string is therefore cut into four
// segments, run side by side in one loop so that the processor overlaps their loads. The
// state at a position depends only on the window of bytes before it (the longest pattern and
// two bytes of context), so each segment after the first starts a window early and reports
// nothing in its window, which the segment before it covers. The first segment reports as it
// goes; the others keep their reports, in order, in small buffers delivered once the segments
// before them are done. When a buffer fills, the segments go on one after the other from where
// they are.
func (a *automaton) scan(s string, visit func(i int, r *acReport)) {
	n, w := len(s), a.window
	// Each segment is t bytes long, and starts w bytes before the end of the one before:
	// [0, t), [t-w, 2t-w), [2t-2w, 3t-2w), [3t-3w, 4t-3w), and the last one runs on to n.
	t := (n + 3*w) / 4
	if t-w < splitMin || n > maxInterleaved {
		a.run(s, 0, n, 0, visit)
		return
	}
	b1, b2, b3 := t-w, 2*(t-w), 3*(t-w)
	var (
		sts            [4]uint32
		buf            [3][reportBuf]uint64 // position<<32 | state
		n1, n2, n3     int
		first          = a.first
		s0, s1, s2, s3 = s[:t], s[b1 : b1+t], s[b2 : b2+t], s[b3 : b3+t]
		j              int
	)
	for {
		// The loop without reports is kept apart, free of calls, so that the four states
		// stay in registers.
		j = a.lockstep(&sts, s0, s1, s2, s3, j)
		if j == len(s0) {
			break
		}
		st0, st1, st2, st3 := sts[0], sts[1], sts[2], sts[3]
		j++
		if st0 >= first {
			visit(j-1, &a.reports[(st0-first)>>a.shift])
		}
		if j <= w {
			continue
		}
		if st1 >= first {
			buf[0][n1] = uint64(b1+j-1)<<32 | uint64(st1)
			n1++
		}
		if st2 >= first {
			buf[1][n2] = uint64(b2+j-1)<<32 | uint64(st2)
			n2++
		}
		if st3 >= first {
			buf[2][n3] = uint64(b3+j-1)<<32 | uint64(st3)
			n3++
		}
		if max(n1, n2, n3) == reportBuf {
			break
		}
	}
	st0, st1, st2, st3 := sts[0], sts[1], sts[2], sts[3]
	// A segment that stopped inside its window (a buffer filled early) still covers the rest
	// of it: run resumes from the position and state it reached.
	a.run(s, j, b1+w, st0, visit)
	a.flush(buf[0][:n1], visit)
	st1 = a.skip(s, b1+j, b1+w, st1)
	a.run(s, max(b1+j, b1+w), b2+w, st1, visit)
	a.flush(buf[1][:n2], visit)
	st2 = a.skip(s, b2+j, b2+w, st2)
	a.run(s, max(b2+j, b2+w), b3+w, st2, visit)
	a.flush(buf[2][:n3], visit)
	st3 = a.skip(s, b3+j, b3+w, st3)
	a.run(s, max(b3+j, b3+w), n, st3, visit)
}

// lockstep advances the four states in sts over s0[j:], s1[j:], s2[j:] and s3[j:] (all of one
// length) until one of them reports, and returns the position of that byte (len(s0) if none
// did).
func (a *automaton) lockstep(sts *[4]uint32, s0, s1, s2, s3 string, j int) int {
	trans, first := a.trans, a.first
	st0, st1, st2, st3 := sts[0], sts[1], sts[2], sts[3]
	s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
	for ; j < len(s0); j++ {
		st0 = trans[st0+uint32(a.class[s0[j]])]
		st1 = trans[st1+uint32(a.class[s1[j]])]
		st2 = trans[st2+uint32(a.class[s2[j]])]
		st3 = trans[st3+uint32(a.class[s3[j]])]
		if max(st0, st1, st2, st3) >= first {
			break
		}
	}
	sts[0], sts[1], sts[2], sts[3] = st0, st1, st2, st3
	return j
}

const (
	splitMin       = 64      // the shortest segment worth running side by side
	maxInterleaved = 1 << 31 // positions in the report buffers are 32 bits
	reportBuf      = 32
)

// run runs the automaton over s[from:to] from state st, reporting as it goes.
func (a *automaton) run(s string, from, to int, st uint32, visit func(i int, r *acReport)) {
	trans, first := a.trans, a.first
	for i := from; i < to; i++ {
		st = trans[st+uint32(a.class[s[i]])]
		if st >= first {
			visit(i, &a.reports[(st-first)>>a.shift])
		}
	}
}

// skip runs the automaton over s[from:to] from state st without reporting (the part of a
// window a segment had not read yet).
func (a *automaton) skip(s string, from, to int, st uint32) uint32 {
	for i := from; i < to; i++ {
		st = a.trans[st+uint32(a.class[s[i]])]
	}
	return st
}

func (a *automaton) flush(reps []uint64, visit func(i int, r *acReport)) {
	for _, r := range reps {
		visit(int(r>>32), &a.reports[(uint32(r)-a.first)>>a.shift])
	}
}
