package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem with a config, found where it was written.
type Error struct {
	// File is the config's name: a path, or EmbeddedName.
	File string
	// Line and Col (1-based, Col in characters) locate the problem; 0 when it has no place in
	// the file, such as a key that is missing altogether or a problem in the embedded default.
	Line, Col int
	// Key is the key path, as in route[0].match."event.name"; "" for a problem with the TOML
	// itself.
	Key string
	// Msg says what is wrong, ending with the bad value in parentheses when there is one.
	Msg string
}

// Error formats the problem as file:line:col: key: msg, leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one config, in the order they appear in the file. Load and
// Parse return it (as an error) so that one run of --check shows them all.
type Errors []*Error

// Error gives one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As reach each *Error.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// sort orders the problems by place; those with no place come last, in the order found.
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}
