package redact

import "strings"

// Secret assignments: the value after a key that names a secret, in the shapes people write
// them: KEY=value (env, shell, URL queries), key: value (YAML, headers), "key": "value" (JSON),
// key = "value" and key := "value" (code), --key value and --key=value (command lines).
//
// The key decides. Keys are compared by their ending, without case and without the
// separators _ - . so DB_PASSWORD, dbPassword, db.password and PGPASSWORD all count, while
// max_tokens and token_count do not. The word "password" in prose has no = or : after it, or
// has more prose after the value, and is left alone.

// keyClass says what a key's value is.
type keyClass uint8

const (
	keyPlain     keyClass = iota // not a secret
	keySecret                    // a secret of any shape
	keyToken                     // a token: a bare count (max_token: 4096) is not one
	keyPath                      // pwd: the working directory (PWD=/home/dev) is not a secret
	keyAWSSecret                 // an AWS secret access key
)

// secretWords are the key endings that name secrets, lower case and without separators.
// segment words must also start a segment of the key (db_pass, dbPass; not bypass, compass).
var secretWords = [...]struct {
	word    string
	segment bool
	class   keyClass
}{
	{"password", false, keySecret},
	{"passwd", false, keySecret},
	{"passphrase", false, keySecret},
	{"pass", true, keySecret},
	{"pwd", true, keyPath},
	{"secret", false, keySecret},
	{"token", false, keyToken},
	{"apikey", false, keySecret},
	{"secretkey", false, keySecret},
	{"privatekey", false, keySecret},
	{"accesskey", false, keySecret},
	{"authkey", false, keySecret},
	{"signingkey", false, keySecret},
	{"encryptionkey", false, keySecret},
	{"masterkey", false, keySecret},
}

// endsSecretWord reports whether a key ending in c may name a secret: every word in
// secretWords ends in one of these letters. Most keys fail this first test.
func endsSecretWord(c byte) bool {
	switch lower(c) {
	case 'd', 's', 'e', 't', 'n', 'y':
		return true
	}
	return false
}

// classifyKey says whether key names a secret.
func classifyKey(key string) keyClass {
	if !endsSecretWord(key[len(key)-1]) {
		return keyPlain
	}
	var buf [24]byte
	n := len(buf)
	for i := len(key) - 1; i >= 0 && n > 0; i-- {
		if c := key[i]; c != '_' && c != '-' && c != '.' {
			n--
			buf[n] = lower(c)
		}
	}
	tail := buf[n:]
	if hasSuffixFold(tail, "secretaccesskey") || hasSuffixFold(tail, "awssecretkey") {
		return keyAWSSecret
	}
	for _, w := range secretWords {
		if !hasSuffixFold(tail, w.word) {
			continue
		}
		if w.segment && !segmentStart(key, len(key)-len(w.word)) {
			continue
		}
		return w.class
	}
	return keyPlain
}

// segmentStart reports whether a segment of key starts at i: at the start, after a separator,
// or at a lower-to-upper case change (dbPass).
func segmentStart(key string, i int) bool {
	if i <= 0 {
		return i == 0
	}
	p := key[i-1]
	return p == '_' || p == '-' || p == '.' || (isLower(p) && isUpper(key[i]))
}

func isKeyChar(c byte) bool { return isWord(c) || c == '-' || c == '.' }

// findAssignment finds the secret value assigned at the operator at op ('=' or ':').
func findAssignment(s string, op int) (start, end int, id detID, ok bool) {
	n := len(s)
	v := op + 1
	k := op
	switch s[op] {
	case '=':
		if v < n && (s[v] == '=' || s[v] == '~') {
			return 0, 0, 0, false // == and =~ compare
		}
		if v < n && s[v] == '>' {
			v++ // key => value
		}
		if op > 0 {
			switch s[op-1] {
			case '!', '<', '>', '=', '+', '-', '*', '/', '%', '&', '|', '^':
				return 0, 0, 0, false
			case ':':
				k-- // key := value
			}
		}
	case ':':
		if v < n && (s[v] == ':' || s[v] == '/') || op > 0 && s[op-1] == ':' {
			return 0, 0, 0, false // scope::name, scheme://
		}
		if v < n && s[v] == '=' {
			return 0, 0, 0, false // the '=' of := is looked at by itself
		}
	}
	keyEnd, spaced := keyBefore(s, k)
	if keyEnd == 0 || !endsSecretWord(s[keyEnd-1]) {
		return 0, 0, 0, false
	}
	keyStart := keyEnd
	for keyStart > 0 && keyEnd-keyStart < 64 && isKeyChar(s[keyStart-1]) {
		keyStart--
	}
	if keyStart > 0 && isKeyChar(s[keyStart-1]) {
		return 0, 0, 0, false
	}
	if s[op] == ':' && keyStart >= 2 && s[keyStart-2:keyStart] == "//" {
		return 0, 0, 0, false // scheme://user:password@host is url_credentials'
	}
	lineStart := keyStart == 0 || startsLine(s, keyStart)
	for keyStart < keyEnd && s[keyStart] == '-' {
		keyStart++ // --password=...
	}
	if keyStart == keyEnd {
		return 0, 0, 0, false
	}
	key := s[keyStart:keyEnd]
	class := classifyKey(key)
	if class == keyPlain {
		return 0, 0, 0, false
	}
	for v < n && v-op < 16 && (s[v] == ' ' || s[v] == '\t') {
		v++
		spaced = true
	}
	start, end, quoted, ok := valueAt(s, v)
	if !ok {
		return 0, 0, 0, false
	}
	val := s[start:end]
	if !quoted {
		if end < n && (s[end] == '(' || s[end] == '[') {
			return 0, 0, 0, false // a call or an index: code, not a value
		}
		if spaced {
			if dottedName(val) {
				return 0, 0, 0, false // cfg.Password, os.environ
			}
			if !restOfField(s, end) {
				// More words follow. After " = ", or a YAML key at the start of its line,
				// they are the rest of the value (passphrase = correct horse); elsewhere
				// this is prose ("the password: it must be long").
				if s[op] != '=' && !lineStart {
					return 0, 0, 0, false
				}
				end = lineValueEnd(s, end)
				val = s[start:end]
			}
		}
	}
	if !plausibleSecret(val, key, class) {
		return 0, 0, 0, false
	}
	if class == keyAWSSecret && awsSecret(val) {
		return start, end, detCloudKey, true
	}
	return start, end, detSecretAssignment, true
}

// keyBefore walks back from an operator at op past spaces and a closing quote to the end of
// the key. spaced says there was space before the operator.
func keyBefore(s string, op int) (keyEnd int, spaced bool) {
	i := op
	for i > 0 && op-i < 8 && (s[i-1] == ' ' || s[i-1] == '\t') {
		i--
		spaced = true
	}
	if i > 0 && (s[i-1] == '"' || s[i-1] == '\'') {
		i--
		if i > 0 && s[i-1] == '\\' {
			i-- // an escaped quote, inside a JSON string
		}
	}
	return i, spaced
}

// valueAt reads the value starting at v: quoted (', ", `, or an escaped \" inside a JSON
// string) up to its closing quote on the same line, or unquoted up to the next delimiter.
func valueAt(s string, v int) (start, end int, quoted, ok bool) {
	const maxValue = 1024
	n := len(s)
	if v >= n {
		return 0, 0, false, false
	}
	q, escaped := s[v], false
	if q == '\\' && v+1 < n && (s[v+1] == '"' || s[v+1] == '\'') {
		q, escaped = s[v+1], true
		v++
	}
	if q == '"' || q == '\'' || q == '`' {
		start = v + 1
		end = start
		for end < n && end-start < maxValue && s[end] != '\n' {
			c := s[end]
			if escaped && c == '\\' && end+1 < n && s[end+1] == q {
				break
			}
			if !escaped && c == q {
				break
			}
			if !escaped && c == '\\' && end+1 < n {
				end++
			}
			end++
		}
		if end-start >= maxValue {
			// Longer than any secret value: cut at the bound, its tail would stay, and a
			// second pass would take it, with the mask, for a value. (A key or token that
			// long is found by its own detector.)
			return 0, 0, false, false
		}
		end = runeStart(s, min(end, n))
		return start, end, true, end > start
	}
	start, end = v, v
	for end < n && end-start < maxValue && !valueEnds(s[end]) {
		end++
	}
	if end-start >= maxValue {
		return 0, 0, false, false
	}
	end = runeStart(s, end)
	return start, end, false, end > start
}

// valueEnds reports whether c ends an unquoted value.
func valueEnds(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', ',', ';', '&', '|', '(', ')', '[', ']', '{', '}', '<', '>', '\\':
		return true
	}
	return false
}

// restOfField reports whether an unquoted value ending at end is the whole rest of its field:
// only spaces, then the end of the line or a delimiter or comment.
func restOfField(s string, end int) bool {
	i := end
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i == len(s) {
		return true
	}
	switch s[i] {
	case '\n', '\r', ',', ';', '}', ']', ')', '#', '&', '"', '\'', '\\', '|':
		return true
	}
	return false
}

// lineValueEnd extends a value that runs on past a space to the end of its line, stopping
// before a comment, a delimiter, or the end of an enclosing JSON string.
func lineValueEnd(s string, end int) int {
	const maxValue = 1024
	last := end
	for i := end; i < len(s) && i-end < maxValue; i++ {
		switch c := s[i]; c {
		case '\n', '\r', ',', ';', '"', '\\':
			return last
		case '#':
			if s[i-1] == ' ' {
				return last
			}
		case ' ', '\t':
			continue
		}
		last = i + 1
	}
	return runeStart(s, last)
}

// startsLine reports whether only indentation (or a YAML list marker) comes before i on its line.
func startsLine(s string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch s[j] {
		case '\n':
			return true
		case ' ', '\t', '-':
		default:
			return false
		}
	}
	return true
}

// dottedName reports whether v is a qualified name such as cfg.Password or os.environ.
func dottedName(v string) bool {
	dots := 0
	for i, seg := 0, 0; i <= len(v); i++ {
		if i == len(v) || v[i] == '.' {
			if seg == 0 {
				return false
			}
			if i < len(v) {
				dots++
			}
			seg = 0
			continue
		}
		c := v[i]
		if seg == 0 && !isAlpha(c) && c != '_' {
			return false
		}
		if !isWord(c) {
			return false
		}
		seg++
	}
	return dots > 0
}

// notSecrets are values that stand for no secret: empty markers, types, booleans.
var notSecrets = [...]string{
	"null", "nil", "none", "undefined", "true", "false", "yes", "no", "on", "off",
	"string", "str", "bool", "boolean", "int", "number", "any", "object", "bytes",
	"required", "optional", "redacted", "hidden", "secret", "password", "token", "...",
}

// plausibleSecret reports whether val, assigned to key, could be a secret rather than a
// placeholder, a reference or a type.
func plausibleSecret(val, key string, class keyClass) bool {
	if val == "" || isReference(val) || strings.HasPrefix(val, "-----BEGIN") || strings.EqualFold(val, key) {
		return false
	}
	for _, w := range notSecrets {
		if strings.EqualFold(val, w) {
			return false
		}
	}
	same := true
	for i := 1; i < len(val); i++ {
		same = same && val[i] == val[0]
	}
	if same && strings.IndexByte("*xX.#-_", val[0]) >= 0 {
		return false // ****, xxxx: already masked
	}
	switch class {
	case keyPath:
		return val[0] != '/' && val[0] != '~' && val[0] != '.'
	case keyToken:
		for i := 0; i < len(val); i++ {
			if !isDigit(val[i]) {
				return true
			}
		}
		return false // max_token: 4096 is a count
	}
	return true
}

// awsSecret reports whether v has the shape of an AWS secret access key: 40 characters of
// base64.
func awsSecret(v string) bool {
	if len(v) != 40 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && c != '/' && c != '+' && c != '=' {
			return false
		}
	}
	return true
}

// findFlag finds the secret in --key value, where key names a secret (--password hunter2,
// --token abc). --key=value is the '=' spot's business.
func findFlag(s string, at int) (start, end int, id detID, ok bool) {
	if at > 0 && s[at-1] != ' ' && s[at-1] != '\t' && s[at-1] != '"' && s[at-1] != '\'' {
		return 0, 0, 0, false
	}
	i := at + 2
	for i < len(s) && i-at < 64 && (isWord(s[i]) || s[i] == '-') {
		i++
	}
	if i == at+2 || !isAlpha(s[at+2]) || i >= len(s) || s[i] != ' ' {
		return 0, 0, 0, false
	}
	class := classifyKey(s[at+2 : i])
	if class == keyPlain {
		return 0, 0, 0, false
	}
	v := i + 1
	if v >= len(s) || s[v] == '-' {
		return 0, 0, 0, false
	}
	start, end, _, ok = valueAt(s, v)
	if !ok || !plausibleSecret(s[start:end], s[at+2:i], class) {
		return 0, 0, 0, false
	}
	if class == keyAWSSecret && awsSecret(s[start:end]) {
		return start, end, detCloudKey, true
	}
	return start, end, detSecretAssignment, true
}

// findAWSSecretNearName finds an AWS secret access key written after its name with only
// spaces, quotes or an operator between (aws configure set aws_secret_access_key wJalr...).
// The other shapes of key and value are findAssignment's.
func findAWSSecretNearName(s string, at, prefix int) (start, end int, ok bool) {
	i := at + prefix
	if i < len(s) && isKeyChar(s[i]) {
		return 0, 0, false // secret_access_key_id and the like
	}
	j := i
	for j < len(s) && j-i < 6 && strings.IndexByte(" \t\"':=", s[j]) >= 0 {
		j++
	}
	if j == i || j+40 > len(s) || !awsSecret(s[j:j+40]) {
		return 0, 0, false
	}
	if j+40 < len(s) && (isAlnum(s[j+40]) || s[j+40] == '/' || s[j+40] == '+') {
		return 0, 0, false
	}
	return j, j + 40, true
}
