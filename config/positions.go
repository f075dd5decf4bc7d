package config

import "fmt"

// Position is a place in a config file: a 1-based line and a 1-based column counted in
// characters. The zero Position means "no place".
type Position struct {
	Line, Col int
}

// place is where one key was written: the key itself, and its value (for a table, its
// [header] or the '{' of an inline table).
type place struct {
	key, val Position
}

// positions maps every key path that was written (route[0].sinks, route[0].sinks[1],
// sink.local) to its place. A key path that is absent was not written.
type positions map[string]place

// Errorf returns an *Error positioned at the value of key, a key path as printed in errors
// (sink.local.path, route[0].sinks[1]). A key that was not written takes the place of the
// nearest enclosing key that was, so a problem with a defaulted value points at its table.
// The assembly uses it for problems it finds after loading, such as a folder it cannot create.
func (c *Config) Errorf(key string, format string, args ...any) *Error {
	return newError(c.Source, c.pos.at(key), key, fmt.Sprintf(format, args...))
}

// at returns the place of key's value, or of its nearest written ancestor.
func (p positions) at(key string) Position {
	for k := key; k != ""; k = parentPath(k) {
		if pl, ok := p[k]; ok {
			return pl.val
		}
	}
	return Position{}
}

// keyAt returns the place of the key itself.
func (p positions) keyAt(key string) Position {
	if pl, ok := p[key]; ok {
		return pl.key
	}
	return p.at(key)
}

// written reports whether key was written in the file.
func (p positions) written(key string) bool {
	_, ok := p[key]
	return ok
}

// newError builds an *Error; a problem in the embedded default has no place a user could open.
func newError(file string, pos Position, key, msg string) *Error {
	if file == EmbeddedName {
		pos = Position{}
	}
	return &Error{File: file, Line: pos.Line, Col: pos.Col, Key: key, Msg: msg}
}
