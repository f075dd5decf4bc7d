package redact

// Keys and tokens that announce themselves with a fixed prefix. The prefilter finds the prefix;
// these functions check what follows it. Each gets the position of the prefix and its length,
// and those that read a run of token bytes get the scanner's memory of runs already read.

// maxToken bounds how far a token is read. Real keys are far shorter.
const maxToken = 256

// alphabet is a set of bytes a token's body is made of.
type alphabet uint8

const (
	alnum       alphabet = iota // letters and digits
	word                        // and '_'
	b64url                      // letters, digits, '-' and '_'
	b64urlDot                   // and '.'
	alnumDash                   // letters, digits and '-'
	b64urlSlash                 // letters, digits, '-', '_' and '/'
	numAlphabets
)

func (a alphabet) has(c byte) bool {
	switch a {
	case alnum:
		return isAlnum(c)
	case word:
		return isWord(c)
	case b64url:
		return isB64URL(c)
	case b64urlDot:
		return isB64URL(c) || c == '.'
	case alnumDash:
		return isAlnum(c) || c == '-'
	case b64urlSlash:
		return isB64URL(c) || c == '/'
	}
	return false
}

// runs remembers, while one string is scanned, the last run of each alphabet read, the next
// digit found, and the last JWT parsed. Prefixes are often found inside a run already read
// (sk-sk-sk-..., -eyJ-eyJ-...): each is then answered from memory instead of reading the run
// again, which keeps the scan linear in the length of the string whatever it holds.
type runs struct {
	run   [numAlphabets]struct{ from, end int }
	digit struct {
		from, at int // the first digit at or after any position in [from, at]
		set      bool
	}
	jwt struct {
		first, end int // a JWT whose first segment ends at first ends at end
		ok         bool
	}
}

// end returns where the run of a's bytes that starts at from ends.
func (r *runs) end(s string, a alphabet, from int) int {
	x := &r.run[a]
	if from < x.from || from >= x.end {
		e := from
		for e < len(s) && a.has(s[e]) {
			e++
		}
		x.from, x.end = from, e
	}
	return x.end
}

// nextDigit returns the position of the first digit at or after from (len(s) if none).
func (r *runs) nextDigit(s string, from int) int {
	d := &r.digit
	if !d.set || from < d.from || from > d.at {
		i := from
		for i < len(s) && !isDigit(s[i]) {
			i++
		}
		d.from, d.at, d.set = from, i, true
	}
	return d.at
}

// findToken finds a token made of a prefix and a body of at least least bytes of alphabet a (the
// body stops at the first byte outside it, or at maxToken).
func findToken(s string, r *runs, at, prefix, least int, a alphabet) (start, end int, ok bool) {
	end = min(r.end(s, a, at+prefix), at+maxToken)
	if end-at-prefix < least {
		return 0, 0, false
	}
	return at, end, true
}

// findAWSKeyID finds an AWS access key id: AKIA (long-term) or ASIA (temporary) and 16 upper
// case letters and digits.
func findAWSKeyID(s string, at, prefix int) (start, end int, ok bool) {
	end = at + prefix + 16
	if end > len(s) || (end < len(s) && isAlnum(s[end])) {
		return 0, 0, false
	}
	for i := at + prefix; i < end; i++ {
		if !isUpper(s[i]) && !isDigit(s[i]) {
			return 0, 0, false
		}
	}
	return at, end, true
}

// findGCPKey finds a Google API key: AIza and 35 base64url characters.
func findGCPKey(s string, at, prefix int) (start, end int, ok bool) {
	end = at + prefix + 35
	if end > len(s) || (end < len(s) && isB64URL(s[end])) {
		return 0, 0, false
	}
	for i := at + prefix; i < end; i++ {
		if !isB64URL(s[i]) {
			return 0, 0, false
		}
	}
	return at, end, true
}

// findSK finds an Anthropic or OpenAI key: sk-ant-api03-..., sk-proj-..., sk-svcacct-... or a
// legacy sk-<48 characters>. A digit is required, so words like sk-learn never qualify.
func findSK(s string, r *runs, at, prefix int) (start, end int, ok bool) {
	start, end, ok = findToken(s, r, at, prefix, 20, b64url)
	if !ok || r.nextDigit(s, at+prefix) >= end {
		return 0, 0, false
	}
	return start, end, true
}

// findSlack finds a Slack token: xoxb-, xoxp-, xoxa-, xoxo-, xoxr-, xoxs- or xapp- and the rest.
func findSlack(s string, r *runs, at, prefix int) (start, end int, ok bool) {
	if s[at+prefix-1] != '-' {
		// "xox": the letter after it says which kind of token.
		i := at + prefix
		if i+1 >= len(s) || s[i+1] != '-' {
			return 0, 0, false
		}
		switch s[i] {
		case 'a', 'b', 'p', 'o', 'r', 's':
		default:
			return 0, 0, false
		}
		prefix += 2
	}
	return findToken(s, r, at, prefix, 10, alnumDash)
}

// findSlackHook finds the secret path of a Slack webhook URL (what follows
// hooks.slack.com/services/); the host stays so a reader can tell what it was.
func findSlackHook(s string, r *runs, at, prefix int) (start, end int, ok bool) {
	i := at + prefix
	for _, kind := range [...]string{"services/", "workflows/", "triggers/"} {
		if len(s)-i >= len(kind) && s[i:i+len(kind)] == kind {
			start = i + len(kind)
			_, end, ok = findToken(s, r, start, 0, 8, b64urlSlash)
			for ok && end > start && s[end-1] == '/' {
				end--
			}
			return start, end, ok
		}
	}
	return 0, 0, false
}

// findSendGrid finds a SendGrid key: SG.<id>.<secret>.
func findSendGrid(s string, r *runs, at, prefix int) (start, end int, ok bool) {
	_, dot, ok := findToken(s, r, at, prefix, 16, b64url)
	if !ok || dot >= len(s) || s[dot] != '.' {
		return 0, 0, false
	}
	_, end, ok = findToken(s, r, dot+1, 0, 16, b64url)
	if !ok {
		return 0, 0, false
	}
	return at, end, true
}

// maxJWTSegment bounds one segment of a JWT; a payload with many claims runs to kilobytes.
const maxJWTSegment = 16 << 10

// findJWT finds a JSON Web Token: base64url segments separated by dots, the first (the header)
// starting eyJ ('{"'). Three segments for a signed token (the signature may be empty for
// alg "none"), five for an encrypted one.
func findJWT(s string, r *runs, at, prefix int) (start, end int, ok bool) {
	first := r.end(s, b64url, at+prefix)
	if first-at > maxJWTSegment || first-at < prefix+7 || first >= len(s) || s[first] != '.' {
		return 0, 0, false
	}
	if r.jwt.first != first {
		r.jwt.first = first
		r.jwt.end, r.jwt.ok = jwtRest(s, first)
	}
	return at, r.jwt.end, r.jwt.ok
}

// jwtRest reads the segments of a JWT after the first, which ends at the '.' at first.
func jwtRest(s string, first int) (end int, ok bool) {
	segment := func(from int) int {
		e := from
		for e < len(s) && e-from < maxJWTSegment && isB64URL(s[e]) {
			e++
		}
		return e
	}
	end = segment(first + 1)
	if end-first-1 < 2 || end >= len(s) || s[end] != '.' {
		return 0, false
	}
	end = segment(end + 1)
	if end < len(s) && s[end] == '.' {
		// An encrypted token has two more segments (the third, the IV, is not empty).
		if e4 := segment(end + 1); e4 > end+1 && e4 < len(s) && s[e4] == '.' {
			end = segment(e4 + 1)
		}
	}
	return end, true
}
