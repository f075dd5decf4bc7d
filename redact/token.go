package redact

// Keys and tokens that announce themselves with a fixed prefix. The prefilter finds the prefix;
// these functions check what follows it. Each gets the position of the prefix and its length.

// maxToken bounds how far a token is read. Real keys are far shorter; the bound keeps a long
// run of token-like text from being read again from every prefix inside it.
const maxToken = 256

// findToken finds a token made of a prefix and a body of at least min bytes of the given
// alphabet (the body stops at the first byte outside it, or at maxToken).
func findToken(s string, at, prefix, min int, alphabet func(byte) bool) (start, end int, ok bool) {
	return findTokenN(s, at, prefix, min, maxToken, alphabet)
}

// findTokenN is findToken with a bound of its own.
func findTokenN(s string, at, prefix, min, max int, alphabet func(byte) bool) (start, end int, ok bool) {
	end = at + prefix
	for end < len(s) && end-at < max && alphabet(s[end]) {
		end++
	}
	if end-at-prefix < min {
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
func findSK(s string, at, prefix int) (start, end int, ok bool) {
	start, end, ok = findToken(s, at, prefix, 20, isB64URL)
	if !ok {
		return 0, 0, false
	}
	for i := at + prefix; i < end; i++ {
		if isDigit(s[i]) {
			return start, end, true
		}
	}
	return 0, 0, false
}

// findSlack finds a Slack token: xoxb-, xoxp-, xoxa-, xoxo-, xoxr-, xoxs- or xapp- and the rest.
func findSlack(s string, at, prefix int) (start, end int, ok bool) {
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
	return findToken(s, at, prefix, 10, func(c byte) bool { return isAlnum(c) || c == '-' })
}

// findSlackHook finds the secret path of a Slack webhook URL (what follows
// hooks.slack.com/services/); the host stays so a reader can tell what it was.
func findSlackHook(s string, at, prefix int) (start, end int, ok bool) {
	i := at + prefix
	for _, kind := range [...]string{"services/", "workflows/", "triggers/"} {
		if len(s)-i >= len(kind) && s[i:i+len(kind)] == kind {
			start = i + len(kind)
			_, end, ok = findToken(s, start, 0, 8, func(c byte) bool { return isB64URL(c) || c == '/' })
			for ok && end > start && s[end-1] == '/' {
				end--
			}
			return start, end, ok
		}
	}
	return 0, 0, false
}

// findSendGrid finds a SendGrid key: SG.<id>.<secret>.
func findSendGrid(s string, at, prefix int) (start, end int, ok bool) {
	_, dot, ok := findToken(s, at, prefix, 16, isB64URL)
	if !ok || dot >= len(s) || s[dot] != '.' {
		return 0, 0, false
	}
	_, end, ok = findToken(s, dot+1, 0, 16, isB64URL)
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
func findJWT(s string, at, prefix int) (start, end int, ok bool) {
	_, end, ok = findTokenN(s, at, prefix, 7, maxJWTSegment, isB64URL)
	if !ok || end >= len(s) || s[end] != '.' {
		return 0, 0, false
	}
	if _, end, ok = findTokenN(s, end+1, 0, 2, maxJWTSegment, isB64URL); !ok || end >= len(s) || s[end] != '.' {
		return 0, 0, false
	}
	_, end, _ = findTokenN(s, end+1, 0, 0, maxJWTSegment, isB64URL)
	if end < len(s) && s[end] == '.' {
		// An encrypted token has two more segments (the third, the IV, is not empty).
		if _, e4, ok := findTokenN(s, end+1, 0, 1, maxJWTSegment, isB64URL); ok && e4 < len(s) && s[e4] == '.' {
			_, end, _ = findTokenN(s, e4+1, 0, 0, maxJWTSegment, isB64URL)
		}
	}
	return at, end, true
}
