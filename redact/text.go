package redact

import (
	"slices"
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
	if len(s) == 0 {
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
	// Spots before these were inside a number already claimed, or part of an IPv6 candidate
	// already looked at; looking again would find the same thing.
	numUntil, colonUntil int
}

// find returns the spans of s to replace, in order and without overlaps (nil for none). The
// earliest span wins; of two starting together the longer; of two alike the detector with the
// lower id.
func (sc *scanner) find(s string) []match {
	sc.s, sc.n, sc.more, sc.masked, sc.numUntil, sc.colonUntil = s, 0, nil, false, 0, 0
	sc.p.pf.scan(s, sc.visit)
	for _, c := range sc.p.custom {
		for _, loc := range c.re.FindAllStringIndex(s, -1) {
			sc.add(loc[0], loc[1], c.id)
		}
	}
	if sc.n == 0 {
		return nil
	}
	ms := sc.buf[:sc.n]
	if sc.more != nil {
		ms = append(append(make([]match, 0, sc.n+len(sc.more)), ms...), sc.more...)
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
	if sc.masked {
		ms = dropOverlapsWithMasks(ms)
	}
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

// dropOverlapsWithMasks removes every span that overlaps a mask from an earlier redaction, so
// nothing is masked twice.
func dropOverlapsWithMasks(ms []match) []match {
	out := ms[:0]
	for _, m := range ms {
		keep := true
		if m.id != idMasked {
			for _, k := range ms {
				if k.id == idMasked && m.start < k.end && k.start < m.end {
					keep = false
					break
				}
			}
		}
		if keep {
			out = append(out, m)
		}
	}
	return out
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
	s, on := sc.s, &sc.p.on
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
	case spotColon:
		if on[detIP] && at >= sc.colonUntil {
			start, end, sc.colonUntil, ok = findIPv6(s, at)
			if ok {
				sc.add(start, end, detIP)
			}
		}
		if on[detURLCredentials] {
			if start, end, ok = findURLPassword(s, at); ok {
				sc.add(start, end, detURLCredentials)
			}
		}
		start, end, id, ok = findAssignment(s, at)
		ok = ok && on[id]
	case spotEquals:
		start, end, id, ok = findAssignment(s, at)
		ok = ok && on[id]
	case spotFlag:
		start, end, id, ok = findFlag(s, at)
		ok = ok && on[id]
	case spotMask:
		if end, ok := sc.p.maskAt(s, at); ok {
			sc.add(at, end, idMasked)
			sc.masked = true
		}
		return
	case spotCurlUser:
		start, end, ok = findCurlUser(s, at, n)
		id = detAuthHeader
	case spotBearer, spotBasic:
		start, end, ok = findBearer(s, at, n, sp == spotBasic)
		id = detAuthHeader
	case spotPEM:
		start, end, ok = findPrivateKey(s, at, n)
		id = detPrivateKey
	case spotJWT:
		start, end, ok = findJWT(s, at, n)
		id = detJWT
	case spotAWSKeyID:
		start, end, ok = findAWSKeyID(s, at, n)
		id = detCloudKey
	case spotGCPKey:
		start, end, ok = findGCPKey(s, at, n)
		id = detCloudKey
	case spotOAuth:
		start, end, ok = findToken(s, at, n, 20, func(c byte) bool { return isB64URL(c) || c == '.' })
		id = detCloudKey
	case spotGitHub:
		start, end, ok = findToken(s, at, n, 20, isAlnum)
		id = detVCSToken
	case spotGitHubPAT:
		start, end, ok = findToken(s, at, n, 20, isWord)
		id = detVCSToken
	case spotGitLab:
		start, end, ok = findToken(s, at, n, 20, isB64URL)
		id = detVCSToken
	case spotSK:
		start, end, ok = findSK(s, at, n)
		id = detAIKey
	case spotSlack:
		start, end, ok = findSlack(s, at, n)
		id = detSaaSToken
	case spotSlackHook:
		start, end, ok = findSlackHook(s, at, n)
		id = detSaaSToken
	case spotStripe:
		start, end, ok = findToken(s, at, n, 10, isAlnum)
		id = detSaaSToken
	case spotSendGrid:
		start, end, ok = findSendGrid(s, at, n)
		id = detSaaSToken
	case spotNPM:
		start, end, ok = findToken(s, at, n, 30, isAlnum)
		id = detSaaSToken
	case spotSaaSB64:
		start, end, ok = findToken(s, at, n, 20, isB64URL)
		id = detSaaSToken
	case spotGoogleSecret:
		start, end, ok = findToken(s, at, n, 24, isB64URL)
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

// visitNumber runs the number detectors at a spot that may start a number.
func (sc *scanner) visitNumber(at int) {
	if at < sc.numUntil {
		return
	}
	s, on := sc.s, &sc.p.on
	try := func(start, end int, ok bool, id detID) {
		if ok {
			sc.add(start, end, id)
			sc.numUntil = max(sc.numUntil, end)
		}
	}
	if on[detPhone] {
		start, end, ok := findPhone(s, at)
		try(start, end, ok, detPhone)
	}
	if !isDigit(s[at]) {
		return
	}
	if on[detSSN] {
		start, end, ok := findSSN(s, at)
		try(start, end, ok, detSSN)
	}
	if on[detCard] {
		start, end, ok := findCard(s, at)
		try(start, end, ok, detCard)
	}
	if on[detIP] {
		start, end, ok := findIPv4(s, at)
		try(start, end, ok, detIP)
	}
}

// maskAt reports whether a mask or hash tag of this profile starts at the '[' at at:
// [REDACTED], [REDACTED:<name>] or [<name>:<12 hex digits>], where name is one of the profile's
// detectors. (Any name would let "[REDACTED:<a token>]" shield the token.)
func (p *Profile) maskAt(s string, at int) (end int, ok bool) {
	i := at + 1
	if strings.HasPrefix(s[i:], "REDACTED") {
		i += len("REDACTED")
		if i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		if i >= len(s) || s[i] != ':' {
			return 0, false
		}
		j := i + 1
		for j < len(s) && j-i <= 64 && isNameChar(s[j]) {
			j++
		}
		if j >= len(s) || s[j] != ']' || !slices.Contains(p.names, s[i+1:j]) {
			return 0, false
		}
		return j + 1, true
	}
	j := i
	for j < len(s) && j-i <= 64 && isNameChar(s[j]) {
		j++
	}
	if j+14 > len(s) || s[j] != ':' || s[j+13] != ']' || !slices.Contains(p.names, s[i:j]) {
		return 0, false
	}
	for k := j + 1; k < j+13; k++ {
		if c := s[k]; !isDigit(c) && (c < 'a' || c > 'f') {
			return 0, false
		}
	}
	return j + 14, true
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
