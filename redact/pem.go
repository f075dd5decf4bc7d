package redact

import "strings"

// maxPEMBody bounds how far the END line is looked for (a 4096-bit RSA key is about 3 KiB),
// so text with many BEGIN lines and no END costs a bounded scan for each.
const maxPEMBody = 64 << 10

// findPrivateKey finds the body of a PEM private key block: what lies between
// "-----BEGIN <label> PRIVATE KEY-----" and the matching END line (or, when the block was cut
// short, the end of the text or maxPEMBody, whichever comes first). The BEGIN and END lines
// stay, so a reader can tell a key was there. Newlines may be real or escaped (\n inside JSON).
func findPrivateKey(s string, at, prefix int) (start, end int, ok bool) {
	i := at + prefix
	if i >= len(s) || s[i] != ' ' {
		return 0, 0, false
	}
	labelEnd := strings.Index(s[i:min(len(s), i+64)], "-----")
	if labelEnd < 0 {
		return 0, 0, false
	}
	label := s[i+1 : i+labelEnd]
	if !strings.Contains(label, "PRIVATE KEY") {
		return 0, 0, false
	}
	start = i + labelEnd + len("-----")
	end = runeStart(s, min(len(s), start+maxPEMBody))
	if e := strings.Index(s[start:end], "-----END"); e >= 0 {
		end = start + e
	}
	start, end = trimLineBreaks(s, start, end)
	if start >= end {
		return 0, 0, false
	}
	return start, end, true
}

// trimLineBreaks narrows [start, end) past whitespace and escaped line breaks at either end.
func trimLineBreaks(s string, start, end int) (int, int) {
	for start < end {
		if c := s[start]; c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			start++
		} else if c == '\\' && start+1 < end && (s[start+1] == 'n' || s[start+1] == 'r') {
			start += 2
		} else {
			break
		}
	}
	for end > start {
		if c := s[end-1]; c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			end--
		} else if end-2 >= start && s[end-2] == '\\' && (c == 'n' || c == 'r') {
			end -= 2
		} else {
			break
		}
	}
	return start, end
}
