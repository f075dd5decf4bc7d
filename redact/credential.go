package redact

import (
	"encoding/base64"
	"strings"
)

// findBearer finds the credential after "Bearer " (or "Basic ", with basic set). After an
// Authorization header or attribute name any credential counts; in other text it must look like
// one (a Basic credential that decodes to user:password; a Bearer token with letters and
// digits), so prose about bearer tokens and basic auth stays.
func findBearer(s string, at, prefix int, basic bool) (start, end int, ok bool) {
	i := at + prefix
	if i >= len(s) || (s[i] != ' ' && s[i] != '\t') {
		return 0, 0, false
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') && i-at-prefix < 4 {
		i++
	}
	start = i
	end = i
	for end < len(s) && end-start < 4096 && isCredentialChar(s[end]) {
		end++
	}
	if end == start || isReference(s[start:end]) {
		return 0, 0, false
	}
	cred := s[start:end]
	if afterAuthorization(s, at) {
		return start, end, true
	}
	if basic {
		return start, end, basicCredential(cred)
	}
	return start, end, bearerToken(cred)
}

// isCredentialChar reports whether c may appear in an HTTP credential (RFC 6750 b64token).
func isCredentialChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

// afterAuthorization reports whether the scheme word at at is the value of an Authorization
// header or attribute: Authorization: Bearer, authorization=Bearer, "Authorization": "Bearer.
func afterAuthorization(s string, at int) bool {
	i := at
	for i > 0 && at-i < 8 && (s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == '"' || s[i-1] == '\'' || s[i-1] == '\\') {
		i--
	}
	if i == 0 || (s[i-1] != ':' && s[i-1] != '=') {
		return false
	}
	i--
	for i > 0 && at-i < 16 && (s[i-1] == ' ' || s[i-1] == '"' || s[i-1] == '\'' || s[i-1] == '\\') {
		i--
	}
	const key = "authorization"
	return i >= len(key) && hasPrefixFold(s, i-len(key), key)
}

// bearerToken reports whether a Bearer credential seen outside a header looks like a token:
// eight or more characters mixing letters and digits.
func bearerToken(c string) bool {
	if len(c) < 8 {
		return false
	}
	letter, digit := false, false
	for i := 0; i < len(c); i++ {
		letter = letter || isAlpha(c[i])
		digit = digit || isDigit(c[i])
	}
	return letter && digit
}

// basicCredential reports whether c is base64 of user:password.
func basicCredential(c string) bool {
	if len(c) < 4 || len(c) > 1024 {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(c); err != nil {
			return false
		}
	}
	colon := false
	for _, x := range b {
		if x < 0x20 || x == 0x7f {
			return false
		}
		colon = colon || x == ':'
	}
	return colon
}

// findCurlUser finds the password in curl's -u user:password / --user user:password. The
// option is common to many commands (sort -u, git add -u, docker run -u 1000:1000), so it
// counts only on a curl command line.
func findCurlUser(s string, at, prefix int) (start, end int, ok bool) {
	if at > 0 && s[at-1] != ' ' && s[at-1] != '\t' {
		return 0, 0, false
	}
	i := at + prefix
	if prefix == len("--user") {
		if i >= len(s) || (s[i] != ' ' && s[i] != '=') {
			return 0, 0, false
		}
		i++
	}
	if !curlBefore(s, at) {
		return 0, 0, false
	}
	quote := byte(0)
	if i < len(s) && (s[i] == '\'' || s[i] == '"') {
		quote = s[i]
		i++
	}
	end = i
	if quote != 0 {
		for end < len(s) && end-i < 512 && s[end] != quote && s[end] != '\n' {
			end++
		}
	}
	if quote == 0 || end == len(s) || s[end] != quote {
		// Unquoted, or a quote that never closes (which quotes nothing): the value ends at a
		// blank or a quote. Running on would take in whatever follows, masks included, and a
		// second pass would find more than the first.
		end = i
		for end < len(s) && end-i < 512 && !isShellBreak(s[end]) {
			end++
		}
	}
	if end-i >= 512 {
		// Longer than any user:password: not one (and cutting it at the bound would leave a
		// tail a second pass would take, with the mask, for the password).
		return 0, 0, false
	}
	c := indexColon(s[i:end])
	if c < 0 || i+c+1 == end || isReference(s[i+c+1:end]) {
		return 0, 0, false
	}
	return i + c + 1, end, true
}

// isShellBreak reports whether c ends an unquoted shell word for curl -u: a blank, a line
// end or a quote.
func isShellBreak(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\''
}

// curlBefore reports whether the line holding at starts a curl command before it.
func curlBefore(s string, at int) bool {
	from := max(0, at-512)
	line := s[from:at]
	if nl := strings.LastIndexByte(line, '\n'); nl >= 0 {
		line = line[nl+1:]
	}
	for i := strings.Index(line, "curl"); i >= 0; {
		if (i == 0 || !isWord(line[i-1])) && (i+4 == len(line) || line[i+4] == ' ') {
			return true
		}
		next := strings.Index(line[i+4:], "curl")
		if next < 0 {
			break
		}
		i += 4 + next
	}
	return false
}

// findURLPassword finds the password in scheme://user:password@host. Only the password goes:
// the user, host, port and path stay useful.
func findURLPassword(s string, colon int) (start, end int, ok bool) {
	if colon == 0 || !isAlpha(s[colon-1]) || colon+3 > len(s) || s[colon+1] != '/' || s[colon+2] != '/' {
		return 0, 0, false
	}
	i := colon + 3
	at := -1
	j := i
	for ; j < len(s) && j-i < 512; j++ {
		c := s[j]
		if c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\' {
			break
		}
		if c == '@' {
			at = j
		}
	}
	if at < 0 || at+1 >= j {
		return 0, 0, false
	}
	c := indexColon(s[i:at])
	if c < 0 {
		return 0, 0, false
	}
	start, end = i+c+1, at
	if start == end || isReference(s[start:end]) {
		return 0, 0, false
	}
	return start, end, true
}

// isReference reports whether a value names a secret instead of being one: $VAR, ${VAR},
// $(command), %VAR%, {{ template }}, <placeholder>.
func isReference(v string) bool {
	if len(v) < 2 {
		return false
	}
	switch {
	case v[0] == '$':
		return v[1] == '{' || v[1] == '(' || v[1] == '_' || isAlpha(v[1])
	case v[0] == '%' && v[len(v)-1] == '%',
		v[0] == '<' && v[len(v)-1] == '>',
		strings.HasPrefix(v, "{{"):
		return true
	}
	return false
}
