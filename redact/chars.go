package redact

// Byte classes shared by the detectors. Everything here is ASCII: a byte of a multi-byte UTF-8
// sequence is never a letter, digit or separator, so detectors treat non-ASCII text as a
// boundary and never cut a character in two.

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// isWord reports whether c continues an identifier, so a match next to it is part of a longer
// word and not a value of its own.
func isWord(c byte) bool { return isAlnum(c) || c == '_' }

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

// isB64URL reports whether c belongs to the base64url alphabet used by JWTs and many API keys.
func isB64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

func lower(c byte) byte {
	if isUpper(c) {
		return c + ('a' - 'A')
	}
	return c
}

// wordBefore reports whether the byte before i continues a word, so that a match starting at
// i would start in the middle of one.
func wordBefore(s string, i int) bool { return i > 0 && isAlnum(s[i-1]) }

// runeStart moves i back to the start of the UTF-8 sequence it falls in, so that a span cut
// at a length limit still ends between characters.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && s[i]&0xC0 == 0x80 {
		i--
	}
	return i
}

// hasSuffixFold reports whether b ends with the lower-case ASCII word w, ignoring case.
func hasSuffixFold(b []byte, w string) bool {
	if len(b) < len(w) {
		return false
	}
	b = b[len(b)-len(w):]
	for i := 0; i < len(w); i++ {
		if lower(b[i]) != w[i] {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s[i:] starts with the lower-case ASCII word w, ignoring case.
func hasPrefixFold(s string, i int, w string) bool {
	if len(s)-i < len(w) {
		return false
	}
	for j := 0; j < len(w); j++ {
		if lower(s[i+j]) != w[j] {
			return false
		}
	}
	return true
}
