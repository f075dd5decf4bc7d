package redact

import (
	"slices"
	"sort"
	"strings"
)

// maxRounds bounds how often one string is scanned again after a replacement. A replacement
// changes what its neighbours see: what is left of a value that overlapped the replaced one
// may be a value of its own ("0@0.AA%@0.AA" holds two overlapping email addresses), and a
// value that ran into the replaced one now has a boundary ("...1111+810000000" holds a phone
// number once the card number before it is a mask). Scanning again until nothing new turns up
// finds those too, and makes redacting twice the same as redacting once. It costs a second
// pass over strings that changed, and nothing for the others. Masks are never scanned.
const maxRounds = 4

// testHookText, when set, is called with every string before it is scanned: tests use it to
// make a detector fail mid-walk.
var testHookText func(s string)

// text redacts one string. It returns s itself, and false, when nothing in it needs to change.
func (p *Profile) text(s string, t *tally) (string, bool) {
	if testHookText != nil {
		testHookText(s)
	}
	if len(s) == 0 || p.pf.quiet(s) {
		return s, false
	}
	var sc scanner
	sc.p = p
	out, changed := s, false
	for round := 0; round < maxRounds; round++ {
		ms := sc.find(out)
		if len(ms) == 0 {
			break
		}
		out, changed = p.replace(out, ms, t), true
	}
	return out, changed
}

// scanner finds what to redact in one string. It lives on the stack of one call.
type scanner struct {
	p *Profile
	s string
	// The spans found: the first len(buf) in buf, the rest in more. (A slice into buf kept in
	// the scanner would move the whole scanner to the heap.)
	buf    [16]match
	n      int
	more   []match
	masked bool // s holds a mask from an earlier redaction
	// Spots before these were inside a number already claimed, part of an IPv6 candidate
	// already looked at, or inside a private key or assigned value already found: looking again
	// would find the same thing or less, and long runs of such text would cost a read of the
	// run for every spot in it.
	numUntil, colonUntil, pemUntil, assignUntil int
	maskUntil                                   int // the end of the last mask found
	longRun                                     int // s[longRun-1] is in a run of IPv6 characters too long for an address

	runs runs // the token runs already read

	// The custom patterns whose prefix s holds (by index in Profile.custom), and where the
	// first few patterns' prefixes first occur (the others run from the start of s).
	prefixed uint64
	from     [8]int
}

// find returns the spans of s to replace, in order and without overlaps (nil for none). The
// earliest span wins; of two starting together the longer; of two alike the detector with the
// lower id.
func (sc *scanner) find(s string) []match {
	sc.collect(s)
	if sc.n == 0 {
		return nil
	}
	ms := sc.buf[:sc.n]
	if sc.more != nil {
		ms = append(append(make([]match, 0, sc.n+len(sc.more)), ms...), sc.more...)
	}
	if sc.masked {
		ms = coverMasks(ms)
	}
	slices.SortFunc(ms, func(a, b match) int {
		switch {
		case a.start != b.start:
			return a.start - b.start
		case a.end != b.end:
			return b.end - a.end
		}
		return int(a.id) - int(b.id)
	})
	out, last, found := ms[:0], 0, false
	for _, m := range ms {
		if m.start >= last {
			out = append(out, m)
			last = m.end
			found = found || m.id != idMasked
		}
	}
	if !found {
		return nil
	}
	return out
}

// collect finds every span a detector or custom pattern confirms in s, and every mask, in no
// particular order, overlaps and all: sc.buf[:sc.n], then sc.more.
func (sc *scanner) collect(s string) {
	sc.s, sc.n, sc.more, sc.masked, sc.prefixed = s, 0, nil, false, 0
	sc.numUntil, sc.colonUntil, sc.pemUntil, sc.assignUntil, sc.maskUntil = 0, 0, 0, 0, 0
	sc.longRun = 0
	sc.runs = runs{}
	sc.p.pf.scan(s, sc)
	for i := range sc.p.custom {
		c := &sc.p.custom[i]
		from := 0
		if c.prefix != "" {
			if sc.prefixed&(1<<i) == 0 {
				continue // no match can start without the prefix
			}
			if !c.asserts && i < len(sc.from) {
				// No match starts before the first prefix, and the regex does not look
				// behind it: matching from there finds what matching from 0 would.
				from = sc.from[i]
			}
		}
		for _, loc := range c.re.FindAllStringIndex(s[from:], -1) {
			sc.add(from+loc[0], from+loc[1], c.id)
		}
	}
}

// coverMasks settles the spans that meet a mask or tag from an earlier redaction. A span that
// starts inside a mask is dropped: it is the mask, a piece of it, or a detector's misreading
// of it. A span that reaches into a mask from outside is widened to take in every mask it
// overlaps, so that what lies outside is redacted too (a quoted password that holds a mask is
// still a password) and no mask is cut in two.
func coverMasks(ms []match) []match {
	var buf [16]match
	masks := buf[:0] // by start; masks never overlap one another, so by end too
	for _, m := range ms {
		if m.id == idMasked {
			masks = append(masks, m)
		}
	}
	slices.SortFunc(masks, func(a, b match) int { return a.start - b.start })
	for i := range ms {
		m := &ms[i]
		if m.id == idMasked {
			continue
		}
		j := sort.Search(len(masks), func(j int) bool { return masks[j].end > m.start })
		for ; j < len(masks) && masks[j].start < m.end; j++ {
			k := masks[j]
			if k.start < m.start || k.start == m.start && m.end <= k.end {
				m.end = m.start // dropped below
				break
			}
			m.end = max(m.end, k.end)
		}
	}
	return slices.DeleteFunc(ms, func(m match) bool { return m.end <= m.start })
}

// prefixAt notes that custom pattern i's prefix occurs at at.
func (sc *scanner) prefixAt(i, at int) {
	if sc.prefixed&(1<<i) == 0 {
		sc.prefixed |= 1 << i
		if i < len(sc.from) {
			sc.from[i] = at
		}
	}
}

func (sc *scanner) add(start, end int, id detID) {
	switch m := (match{start: start, end: end, id: id}); {
	case end <= start:
	case sc.n < len(sc.buf):
		sc.buf[sc.n] = m
		sc.n++
	default:
		sc.more = append(sc.more, m)
	}
}

// visit runs the detectors that look at a spot the prefilter found.
func (sc *scanner) visit(at int, sp spot, n int) {
	if at < sc.maskUntil {
		return // inside a mask: whatever starts there is dropped (see coverMasks)
	}
	s, on, r := sc.s, &sc.p.on, &sc.runs
	var (
		start, end int
		ok         bool
		id         detID
	)
	switch sp {
	case spotEmail:
		start, end, ok = findEmail(s, at)
		id = detEmail
	case spotNumber:
		sc.visitNumber(at)
		return
	case spotIPv6:
		sc.visitIPv6(at+strings.IndexByte(s[at:at+n], ':'), at+n-1)
		return
	case spotURL:
		start, end, ok = findURLPassword(s, at+1) // the shape starts at the letter before ':'
		id = detURLCredentials
	case spotAssign:
		start, end, id, ok = sc.assignment(at)
	case spotFlag:
		start, end, id, ok = findFlag(s, at)
		ok = ok && on[id]
	case spotMask:
		if end, ok := sc.p.maskAt(s, at); ok {
			sc.add(at, end, idMasked)
			sc.masked = true
			sc.maskUntil = end
		}
		return
	case spotCurlUser:
		start, end, ok = findCurlUser(s, at, n)
		id = detAuthHeader
	case spotBearer, spotBasic:
		start, end, ok = findBearer(s, at, n, sp == spotBasic)
		id = detAuthHeader
	case spotPEM:
		if at < sc.pemUntil {
			return // inside a key body already found: the span would lie inside it
		}
		start, end, ok = findPrivateKey(s, at, n)
		id = detPrivateKey
		if ok {
			sc.pemUntil = end
		}
	case spotJWT:
		start, end, ok = findJWT(s, r, at, n)
		id = detJWT
	case spotAWSKeyID:
		start, end, ok = findAWSKeyID(s, at, n)
		id = detCloudKey
	case spotGCPKey:
		start, end, ok = findGCPKey(s, at, n)
		id = detCloudKey
	case spotOAuth:
		start, end, ok = findToken(s, r, at, n, 20, b64urlDot)
		id = detCloudKey
	case spotGitHub:
		start, end, ok = findToken(s, r, at, n, 20, alnum)
		id = detVCSToken
	case spotGitHubPAT:
		start, end, ok = findToken(s, r, at, n, 20, word)
		id = detVCSToken
	case spotGitLab:
		start, end, ok = findToken(s, r, at, n, 20, b64url)
		id = detVCSToken
	case spotSK:
		start, end, ok = findSK(s, r, at, n)
		id = detAIKey
	case spotSlack:
		start, end, ok = findSlack(s, r, at, n)
		id = detSaaSToken
	case spotSlackHook:
		start, end, ok = findSlackHook(s, r, at, n)
		id = detSaaSToken
	case spotStripe:
		start, end, ok = findToken(s, r, at, n, 10, alnum)
		id = detSaaSToken
	case spotSendGrid:
		start, end, ok = findSendGrid(s, r, at, n)
		id = detSaaSToken
	case spotNPM:
		start, end, ok = findToken(s, r, at, n, 30, alnum)
		id = detSaaSToken
	case spotSaaSB64:
		start, end, ok = findToken(s, r, at, n, 20, b64url)
		id = detSaaSToken
	case spotGoogleSecret:
		start, end, ok = findToken(s, r, at, n, 24, b64url)
		id = detCloudKey
	case spotAWSSecretName:
		start, end, ok = findAWSSecretNearName(s, at, n)
		id = detCloudKey
	case spotCLIFlag:
		start, end, ok = findCLIPassword(s, at)
		id = detSecretAssignment
	}
	if ok {
		sc.add(start, end, id)
	}
}

// visitIPv6 runs findIPv6 on the run of IPv6 characters that holds the colons at first and
// last (a shape of spotIPv6), from the run's first colon: where findIPv6 would have been run
// had every colon been a spot. A run without such a shape holds no address (see shapes), nor
// does one longer than an address.
func (sc *scanner) visitIPv6(first, last int) {
	if last < sc.colonUntil {
		return // the run has been looked at
	}
	s, c := sc.s, first
	for j := first; j > 0 && isIPv6Char(s[j-1]); {
		if j <= sc.longRun || first-j >= maxIPv6 {
			// The run reaches back to one known to be too long, or is too long by itself.
			sc.longRun = last + 1
			return
		}
		j--
		if s[j] == ':' {
			c = j
		}
	}
	if c < sc.colonUntil {
		return
	}
	start, end, seen, ok := findIPv6(s, c)
	sc.colonUntil = seen
	if ok {
		sc.add(start, end, detIP)
	}
}

// assignment looks for a secret assigned at the operator at op, unless op lies inside a value
// already found (which is redacted whole).
func (sc *scanner) assignment(op int) (start, end int, id detID, ok bool) {
	if op < sc.assignUntil {
		return 0, 0, 0, false
	}
	start, end, id, ok = findAssignment(sc.s, op)
	if !ok || !sc.p.on[id] {
		return 0, 0, 0, false
	}
	sc.assignUntil = end
	return start, end, id, true
}

// visitNumber runs the number detectors at a spot that may start a number. What follows the
// first run of digits says which of them could match. Number spots come in the order the
// numbers start (see shapes).
func (sc *scanner) visitNumber(at int) {
	if at < sc.numUntil || at < sc.maskUntil {
		return
	}
	s, on := sc.s, &sc.p.on
	try := func(start, end int, ok bool, id detID) {
		if ok {
			sc.add(start, end, id)
			sc.numUntil = max(sc.numUntil, end)
		}
	}
	if !isDigit(s[at]) {
		if on[detPhone] {
			start, end, ok := findPhone(s, at)
			try(start, end, ok, detPhone)
		}
		return
	}
	j := at + 1
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	run, next := j-at, byte(0)
	if j < len(s) {
		next = s[j]
	}
	// The shapes each detector starts with: phone 415-, 415. and the trunk prefix 1-, 1., 1
	// (see findPhone); SSN 078- and 078 ; a card number's first group of four or its 13 to 19
	// digits; an IPv4 address's first octet.
	if on[detPhone] && (run == 3 && (next == '-' || next == '.') ||
		run == 1 && s[at] == '1' && (next == '-' || next == '.' || next == ' ')) {
		start, end, ok := findPhone(s, at)
		try(start, end, ok, detPhone)
	}
	if on[detSSN] && run == 3 && (next == '-' || next == ' ') {
		start, end, ok := findSSN(s, at)
		try(start, end, ok, detSSN)
	}
	if on[detCard] && (run >= 13 || run == 4 && (next == ' ' || next == '-')) {
		start, end, ok := findCard(s, at)
		try(start, end, ok, detCard)
	}
	if on[detIP] && run <= 3 && next == '.' {
		start, end, ok := findIPv4(s, at)
		try(start, end, ok, detIP)
	}
}

// maskAt reports whether a mask or hash tag of this profile starts at the '[' at at:
// [REDACTED], [REDACTED:<name>] or [<name>:<12 hex digits>], where name is one of the profile's
// detectors. (Any name would let "[REDACTED:<a token>]" shield the token.)
func (p *Profile) maskAt(s string, at int) (end int, ok bool) {
	end, name, ok := maskShapeAt(s, at)
	if !ok || (name != "" && !slices.Contains(p.names, name)) {
		return 0, false
	}
	return end, true
}

// maskShapeAt reports whether text shaped like a mask or hash tag starts at the '[' at at, and
// the detector name it holds ("" for a bare [REDACTED]).
func maskShapeAt(s string, at int) (end int, name string, ok bool) {
	i := at + 1
	if strings.HasPrefix(s[i:], "REDACTED") {
		i += len("REDACTED")
		if i < len(s) && s[i] == ']' {
			return i + 1, "", true
		}
		if i >= len(s) || s[i] != ':' {
			return 0, "", false
		}
		j := i + 1
		for j < len(s) && j-i <= 64 && isNameChar(s[j]) {
			j++
		}
		if j >= len(s) || s[j] != ']' || j == i+1 {
			return 0, "", false
		}
		return j + 1, s[i+1 : j], true
	}
	j := i
	for j < len(s) && j-i <= 64 && isNameChar(s[j]) {
		j++
	}
	if j == i || j+14 > len(s) || s[j] != ':' || s[j+13] != ']' {
		return 0, "", false
	}
	for k := j + 1; k < j+13; k++ {
		if c := s[k]; !isDigit(c) && (c < 'a' || c > 'f') {
			return 0, "", false
		}
	}
	return j + 14, s[i:j], true
}

// indexColon returns the index of the first ':' in s that is not inside something shaped like
// a mask or tag (whose own ':' separates nothing), or -1.
func indexColon(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':':
			return i
		case '[':
			if end, _, ok := maskShapeAt(s, i); ok {
				i = end - 1
			}
		}
	}
	return -1
}

func isNameChar(c byte) bool { return isWord(c) || c == '.' || c == '-' }

// replace builds s with the spans in ms replaced, counting each in t.
func (p *Profile) replace(s string, ms []match, t *tally) string {
	var b strings.Builder
	grow := len(s)
	for _, m := range ms {
		grow += len(p.masks[min(int(m.id), len(p.masks)-1)]) + 16
	}
	b.Grow(grow)
	last := 0
	for _, m := range ms {
		if m.id == idMasked {
			continue
		}
		b.WriteString(s[last:m.start])
		if p.hash != nil {
			p.hash.tag(&b, p.names[m.id], canonical(m.id, s[m.start:m.end]))
		} else {
			b.WriteString(p.masks[m.id])
		}
		last = m.end
		t.add(p, m.id)
	}
	b.WriteString(s[last:])
	return b.String()
}
