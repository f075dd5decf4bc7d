package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// expand replaces ${VAR} with the variable's value, ${VAR:-fallback} with the fallback when
// VAR is unset or empty, and $$ with a single $. A $ followed by anything else stays as it is,
// so regexes such as 'end$' need no escaping.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	i := strings.IndexByte(s, '$')
	if i < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$$"):
			b.WriteByte('$')
			s = s[2:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ (want ${VAR} or ${VAR:-fallback}; $$ for a literal $) (%s)", quoteString(s))
			}
			ref := s[2:end]
			name, fallback, hasFallback := strings.Cut(ref, ":-")
			if !isEnvName(name) {
				return "", fmt.Errorf("not a variable name in ${...} (%s)", quoteString(s[:end+1]))
			}
			val, set := lookup(name)
			switch {
			case hasFallback && val == "":
				val = fallback
			case !set:
				return "", fmt.Errorf("environment variable %s is not set", name)
			}
			b.WriteString(val)
			s = s[end+1:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
		i = strings.IndexByte(s, '$')
	}
	b.WriteString(s)
	return b.String(), nil
}

func isEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// escapeDollars undoes expand for a value that is printed back: a $ that expand would read as
// the start of a reference is doubled.
func escapeDollars(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '$' && i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '$') {
			b.WriteByte('$')
		}
	}
	return b.String()
}

// errNoHome is returned when a path starts with ~ and the home folder is not known.
var errNoHome = errors.New("home folder is not known (set HOME)")

// expandPath turns a leading ~ into the home folder and makes a relative path absolute,
// relative to base, the folder of the config file, so that a path means the same whatever
// folder the gateway is started from ("" for the working folder).
func expandPath(p, base string, home func() (string, error)) (string, error) {
	if p == "" {
		return "", nil
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		h, err := home()
		if err != nil || h == "" {
			return "", errNoHome
		}
		p = filepath.Join(h, p[1:])
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Abs(p)
}
