package redact

// The prefilter's automaton: a dense deterministic Aho-Corasick automaton over bytes, written
// here rather than taken from a library because it was the fastest by a wide margin and the
// only one that does all the prefilter needs in one pass without allocating.
//
// Each state knows which patterns are partly matched, what the byte before it was (a letter
// or digit, '_' or '.', a '-' after a letter or digit, or anything else) and, after a key
// pattern, how far the bytes toward an operator have come. That puts case folding (per
// literal: bearer matches Bearer, AKIA matches only AKIA), word boundaries (ghp_ must not
// follow a letter), the start of a number, and the byte events ('@', '[', a ':' or '=' after a
// key that may name a secret) into the table, so the scan loop is a load from a byte-class
// table and a load from the transition table per byte, and one comparison: states that report
// something are numbered last. Bytes that every state treats alike share a column, which keeps
// the table small (about 700 states by 67 columns for the built-in detectors). Long strings are
// scanned in four interleaved segments (see scan).
//
// Besides literals, a pattern may be a shape: byte classes of fixed length, such as
// "###-##-####" for the numbers findSSN takes. Clean text is full of digits and colons (times,
// sizes, versions, line numbers, "key: value"); were each a spot, each would stop the
// interleaved loop and call a detector that reads a few bytes to say no. Shapes, and the key
// patterns before an operator, make that first look in the table instead: the prose of
// bench_test.go holds no report rather than 25, and the whole redactor reads it at about 1400
// MB/s rather than 650, for a table of 88,000 entries rather than 13,500 and no slower a loop
// (rows of 67 entries rather than 128, half the table, measured no faster).
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

// acPattern is one pattern the automaton finds: a literal, or a shape (a string of byte
// classes of fixed length, see shapeAccepts).
type acPattern struct {
	text     string // lower case where fold is set
	fold     bool   // ASCII letters match in either case
	boundary bool   // must not follow an ASCII letter or digit
	number   bool   // must start a number (see ctxOther)
	shape    bool   // text is a shape
	// keyEnd marks the end of a key that may name a secret. It is not reported itself: the
	// ':' or '=' after the key is (see acPhase).
	keyEnd bool
}

// shapeAccepts reports whether byte c fits the class t at one position of a shape: '#' a digit,
// 'N' a digit from 2 to 9, 'X' a hex digit, 'A' an ASCII letter; any other byte stands for
// itself.
func shapeAccepts(t, c byte) bool {
	switch t {
	case '#':
		return isDigit(c)
	case 'N':
		return '2' <= c && c <= '9'
	case 'X':
		return isHex(c)
	case 'A':
		return isAlpha(c)
	}
	return c == t
}

// accepts reports whether byte c may come at position k of p.
func (p *acPattern) accepts(k int, c byte) bool {
	t := p.text[k]
	switch {
	case p.shape:
		return shapeAccepts(t, c)
	case c == t:
		return true
	}
	return p.fold && lower(c) == t
}

// startsAfter reports whether p may start after a byte of context ctx.
func (p *acPattern) startsAfter(ctx uint8) bool {
	switch {
	case p.number:
		return ctx == ctxOther
	case p.boundary:
		return ctx != ctxAlnum
	}
	return true
}

// acEvent is a byte that matters by itself, given the bytes before it.
type acEvent uint8

const (
	evNone    acEvent = iota
	evAt              // '@'
	evBracket         // '['
	// evAssign is a ':' or '=' that may assign a secret: one after the end of a key pattern,
	// then at most a backslash and a quote, then at most eight spaces or tabs, as
	// findAssignment reads them; or the '=' of a ':=' whose ':' was one.
	evAssign
)

// What the byte before says, as far as events and boundaries care.
const (
	// ctxOther is the start of the text, or a byte not below. A number starts only after it:
	// a number inside a word (v1, sha256), a decimal or dotted number (1.5, 10.0.0.1) or a
	// hyphenated id (e20e-46c3) is never a phone, card or SSN number.
	ctxOther     uint8 = iota
	ctxAlnum           // an ASCII letter or digit
	ctxWordPunct       // '_' or '.'
	ctxDash            // '-' after a letter or digit
)

// acPhase is how far the bytes after a key pattern have come toward an operator that evAssign
// reports.
type acPhase uint8

const (
	phNone   acPhase = iota
	phKey            // a key pattern just ended
	phEscape         // a backslash after it
	phQuote          // a quote after the key, or after the backslash
	phSpace          // phSpace+k-1: k spaces or tabs after the key or the quote, k <= maxOpSpaces
)

// phColon follows a reported ':', and makes a '=' right after it one too.
const phColon = phSpace + maxOpSpaces

// maxOpSpaces is how many spaces or tabs findAssignment looks back over before an operator.
const maxOpSpaces = 8

// phaseWindow is how many bytes decide a phase, up to the operator: a key pattern's two, a
// backslash, a quote, the spaces and a ":=".
const phaseWindow = 2 + 2 + maxOpSpaces + 2

// next is the phase after byte c; keyEnd says a key pattern ends at c. assign says c is an
// operator to report.
func (ph acPhase) next(c byte, keyEnd bool) (next acPhase, assign bool) {
	afterKey := ph == phKey || ph == phQuote || ph >= phSpace && ph < phColon
	switch {
	case keyEnd:
		return phKey, false
	case c == ':' && afterKey:
		return phColon, true
	case c == '=' && (afterKey || ph == phColon):
		return phNone, true
	case c == '\\' && ph == phKey:
		return phEscape, false
	case (c == '"' || c == '\'') && (ph == phKey || ph == phEscape):
		return phQuote, false
	case (c == ' ' || c == '\t') && (ph == phKey || ph == phQuote):
		return phSpace, false
	case (c == ' ' || c == '\t') && ph >= phSpace && ph < phColon-1:
		return ph + 1, false
	}
	return phNone, false
}

// acReport is what the automaton reports on entering a state.
type acReport struct {
	ev   acEvent
	hits []int32 // the patterns that end at this byte, by index
}

// maxACStates and maxACTable bound the automaton (its states, and the entries of its table).
// The built-in patterns need about 700 states and 88,000 entries; only a profile with very
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
	for p := range pats {
		for c := 0; c < 256; c++ {
			if pats[p].accepts(0, byte(c)) {
				b.starts[c] = append(b.starts[c], int32(p))
			}
		}
	}
	// Bytes that every pattern position, event, context and phase treats alike lead every
	// state to the same state: step is run for one byte of each such class.
	classes := map[string]int{}
	var rep [256]int // byte -> a byte of its class
	for c := 0; c < 256; c++ {
		sig := []byte{byte(events[c]), ctxOf(byte(c), ctxAlnum), ctxOf(byte(c), ctxOther)}
		if ph, assign := phKey.next(byte(c), false); ph != phNone || assign {
			sig = append(sig, byte(c)) // the bytes the phases look at: each is its own class
		}
		for p := range pats {
			for k := range len(pats[p].text) {
				sig = append(sig, b2u(pats[p].accepts(k, byte(c))))
			}
		}
		r, ok := classes[string(sig)]
		if !ok {
			r = c
			classes[string(sig)] = c
		}
		rep[c] = r
	}
	b.add(&acNState{})
	for q := 0; q < len(b.states); q++ {
		var row [256]int
		for c := 0; c < 256; c++ {
			if rep[c] != c {
				row[c] = row[rep[c]]
				continue
			}
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
		if p.keyEnd {
			a.window = max(a.window, phaseWindow)
		}
	}
	return a, true
}

// acNState is a state while building: the patterns partly matched, how far each, and what
// entering the state reports.
type acNState struct {
	items []uint32 // pattern<<8 | bytes matched, sorted
	ctx   uint8
	phase acPhase
	ev    acEvent
	hits  []int32 // sorted
}

// appendKey appends what identifies s among the states to k.
func (s *acNState) appendKey(k []byte) []byte {
	k = append(k, s.ctx, byte(s.phase), byte(s.ev), byte(len(s.items)>>8), byte(len(s.items)))
	for _, it := range s.items {
		k = binary.LittleEndian.AppendUint32(k, it)
	}
	for _, h := range s.hits {
		k = binary.LittleEndian.AppendUint32(k, uint32(h))
	}
	return k
}

func (s *acNState) reports() bool { return s.ev != evNone || len(s.hits) > 0 }

type acBuilder struct {
	pats   []acPattern
	starts [256][]int32 // by byte, the patterns that may start with it
	events *[256]acEvent
	states []acNState
	index  map[string]int
	rows   [][256]int
	limit  int

	next acNState // step's result, its slices reused from one step to the next
	key  []byte
}

// add returns the number of state s, numbering it if it is new (-1 if that would make more
// than limit states). s's slices are copied, not kept.
func (b *acBuilder) add(s *acNState) int {
	b.key = s.appendKey(b.key[:0])
	if i, ok := b.index[string(b.key)]; ok {
		return i
	}
	if len(b.states) == b.limit {
		return -1
	}
	b.index[string(b.key)] = len(b.states)
	n := *s
	n.items, n.hits = slices.Clone(s.items), slices.Clone(s.hits)
	b.states = append(b.states, n)
	return len(b.states) - 1
}

// step returns the state after s on byte c, valid until the next step.
func (b *acBuilder) step(s *acNState, c byte) *acNState {
	n := &b.next
	n.items, n.hits = n.items[:0], n.hits[:0]
	keyEnd := false
	advance := func(p int32, k int) {
		pat := &b.pats[p]
		switch {
		case !pat.accepts(k, c):
		case k+1 < len(pat.text):
			n.items = append(n.items, uint32(p)<<8|uint32(k+1))
		case pat.keyEnd:
			keyEnd = true
		default:
			n.hits = append(n.hits, p)
		}
	}
	for _, it := range s.items {
		advance(int32(it>>8), int(it&0xff))
	}
	for _, p := range b.starts[c] {
		if b.pats[p].startsAfter(s.ctx) {
			advance(p, 0)
		}
	}
	slices.Sort(n.items)
	slices.Sort(n.hits)
	n.ev = b.events[c]
	var assign bool
	if n.phase, assign = s.phase.next(c, keyEnd); assign {
		n.ev = evAssign
	}
	n.ctx = ctxOf(c, s.ctx)
	return n
}

// ctxOf is the context byte c gives, after a byte of context prev.
func ctxOf(c byte, prev uint8) uint8 {
	switch {
	case isAlnum(c):
		return ctxAlnum
	case c == '_' || c == '.':
		return ctxWordPunct
	case c == '-' && prev == ctxAlnum:
		return ctxDash
	}
	return ctxOther
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
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
	if a.onePass(n) {
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
	splitMin       = 16      // the shortest segment worth running side by side (measured)
	maxInterleaved = 1 << 31 // positions in the report buffers are 32 bits
	reportBuf      = 32
)

// onePass reports whether scan reads a string of n bytes in one pass rather than in segments.
func (a *automaton) onePass(n int) bool {
	t := (n + 3*a.window) / 4
	return t-a.window < splitMin || n > maxInterleaved
}

// quiet reports whether the automaton reports nothing in s, read in one pass.
func (a *automaton) quiet(s string) bool {
	trans, first := a.trans, a.first
	var st uint32
	for i := 0; i < len(s); i++ {
		if st = trans[st+uint32(a.class[s[i]])]; st >= first {
			return false
		}
	}
	return true
}

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
