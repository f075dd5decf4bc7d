package config

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Key paths name a value the way errors print it: dotted TOML keys, quoted when they need to
// be, with array indexes in brackets: route[0].match."event.name".

// joinKey appends one key to a path.
func joinKey(path, key string) string {
	if path == "" {
		return quoteKey(key)
	}
	return path + "." + quoteKey(key)
}

// indexKey appends an array index to a path.
func indexKey(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// quoteKey writes key bare when TOML allows it, else as a basic string.
func quoteKey(key string) string {
	if key != "" && strings.IndexFunc(key, func(r rune) bool { return !isBareKeyRune(r) }) < 0 {
		return key
	}
	return quoteString(key)
}

func isBareKeyRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}

// quoteString writes s as a TOML basic string.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f || r == utf8.RuneError {
				b.WriteString(`\u`)
				b.WriteString(strconv.FormatInt(int64(r)|0x10000, 16)[1:])
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// parentPath drops the last key or index from a path: route[0].sinks[1] -> route[0].sinks ->
// route[0] -> route -> "". Dots and brackets inside quoted keys do not count.
func parentPath(path string) string {
	last := -1
	quoted, escaped := false, false
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '.' || c == '['):
			last = i
		}
	}
	if last < 0 {
		return ""
	}
	return path[:last]
}
