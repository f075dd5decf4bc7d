package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// The tree is the TOML document as values that remember where they were written. go-toml
// checks the document first (syntax, duplicate keys, tables defined twice), so building the
// tree can assume a well-formed document; it still refuses, rather than panics, if that
// assumption fails.

type nodeKind uint8

const (
	tableNode nodeKind = iota
	arrayNode
	scalarNode
)

// node is one TOML value.
type node struct {
	kind nodeKind
	key  Position // the key that names the value; zero for an array element
	val  Position // the value: the scalar, the '[' of an array, a table's [header] or '{'

	// tables
	keys     []string // in the order written
	fields   map[string]*node
	implicit bool // made by a dotted key or a deeper [header], not by its own

	// arrays
	elems  []*node
	tables bool // an array of tables, [[x]]

	// scalars
	scalar unstable.Kind
	text   string // the value: a string's contents, or a number, boolean or date as written
	raw    string // as written, quotes included
}

func newTable(key, val Position) *node {
	return &node{kind: tableNode, key: key, val: val, fields: map[string]*node{}}
}

func (n *node) set(key string, v *node) {
	n.keys = append(n.keys, key)
	n.fields[key] = v
}

// what names the node's TOML type for messages: "a string", "an array of tables".
func (n *node) what() string {
	switch n.kind {
	case tableNode:
		return "a table"
	case arrayNode:
		if n.tables {
			return "an array of tables"
		}
		return "an array"
	}
	switch n.scalar {
	case unstable.String:
		return "a string"
	case unstable.Integer:
		return "an integer"
	case unstable.Float:
		return "a float"
	case unstable.Bool:
		return "a boolean"
	case unstable.LocalDate:
		return "a date"
	case unstable.LocalTime:
		return "a time"
	default:
		return "a date-time"
	}
}

// treeError is a document go-toml accepted but the tree cannot hold; it should not happen.
type treeError struct {
	at  Position
	msg string
}

func (e *treeError) Error() string { return e.msg }

func treeErrorf(at Position, format string, args ...any) error {
	return &treeError{at: at, msg: fmt.Sprintf(format, args...)}
}

// keyPart is one part of a dotted key.
type keyPart struct {
	name string
	pos  Position
}

// builder turns go-toml's AST into a tree of nodes.
type builder struct {
	p     unstable.Parser
	data  []byte
	lines []int // byte offset at which each line starts
}

// parseTree checks data as TOML and builds its tree. A problem with the TOML itself comes
// back as the single *Error it is: nothing after it can be trusted.
func parseTree(file string, data []byte) (*node, *Error) {
	b := &builder{data: data, lines: lineStarts(data)}
	var probe map[string]any
	if err := toml.Unmarshal(data, &probe); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, newError(file, b.byteColumn(line, col), "", strings.TrimPrefix(de.Error(), "toml: "))
		}
		return nil, newError(file, Position{}, "", err.Error())
	}
	root, err := b.build()
	if err != nil {
		var pe *unstable.ParserError
		var te *treeError
		switch {
		case errors.As(err, &pe) && len(pe.Highlight) > 0:
			return nil, newError(file, b.pos(b.offset(pe.Highlight)), "", pe.Message)
		case errors.As(err, &te):
			return nil, newError(file, te.at, "", te.msg)
		}
		return nil, newError(file, Position{}, "", err.Error())
	}
	return root, nil
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// pos turns a byte offset into a line and a column counted in characters.
func (b *builder) pos(off int) Position {
	line, found := slices.BinarySearch(b.lines, off)
	if !found {
		line--
	}
	start := b.lines[line]
	return Position{Line: line + 1, Col: utf8.RuneCount(b.data[start:off]) + 1}
}

// byteColumn converts go-toml's byte column into a character column.
func (b *builder) byteColumn(line, col int) Position {
	if line < 1 || line > len(b.lines) || col < 1 {
		return Position{Line: line, Col: col}
	}
	off := min(b.lines[line-1]+col-1, len(b.data))
	return b.pos(off)
}

// offset is where a slice of the document starts in it.
func (b *builder) offset(s []byte) int {
	return cap(b.data) - cap(s)
}

func (b *builder) build() (*node, error) {
	root := newTable(Position{}, Position{})
	current := root
	b.p.Reset(b.data)
	for b.p.NextExpression() {
		expr := b.p.Expression()
		var err error
		switch expr.Kind {
		case unstable.KeyValue:
			err = b.keyValue(current, expr)
		case unstable.Table, unstable.ArrayTable:
			current, err = b.header(root, expr)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := b.p.Error(); err != nil {
		return nil, err
	}
	return root, nil
}

func (b *builder) keyParts(it unstable.Iterator) []keyPart {
	var parts []keyPart
	for it.Next() {
		k := it.Node()
		parts = append(parts, keyPart{name: string(k.Data), pos: b.pos(int(k.Raw.Offset))})
	}
	return parts
}

// header handles [a.b] and [[a.b]], returning the table that the following keys go into.
func (b *builder) header(root *node, expr *unstable.Node) (*node, error) {
	first := expr.Key()
	first.Next()
	at := b.headerStart(int(first.Node().Raw.Offset))
	parts := b.keyParts(expr.Key())
	t, err := b.walk(root, parts[:len(parts)-1], at)
	if err != nil {
		return nil, err
	}
	last := parts[len(parts)-1]
	existing := t.fields[last.name]
	if expr.Kind == unstable.ArrayTable {
		if existing == nil {
			existing = &node{kind: arrayNode, key: last.pos, val: at, tables: true}
			t.set(last.name, existing)
		} else if existing.kind != arrayNode || !existing.tables {
			return nil, treeErrorf(last.pos, "%s is not an array of tables", last.name)
		}
		elem := newTable(last.pos, at)
		existing.elems = append(existing.elems, elem)
		return elem, nil
	}
	switch {
	case existing == nil:
		existing = newTable(last.pos, at)
		t.set(last.name, existing)
	case existing.kind == tableNode && existing.implicit:
		existing.key, existing.val, existing.implicit = last.pos, at, false
	default:
		return nil, treeErrorf(last.pos, "table %s is defined twice", last.name)
	}
	return existing, nil
}

// headerStart finds the '[' that opens a header whose first key starts at off.
func (b *builder) headerStart(off int) Position {
	i := off - 1
	for i >= 0 && (b.data[i] == ' ' || b.data[i] == '\t') {
		i--
	}
	for i >= 0 && b.data[i] == '[' {
		off = i
		i--
	}
	return b.pos(off)
}

// walk follows the leading parts of a dotted key from t, making the tables that do not exist
// yet; through an array of tables it goes into the last one, as TOML says.
func (b *builder) walk(t *node, parts []keyPart, at Position) (*node, error) {
	for _, p := range parts {
		next := t.fields[p.name]
		switch {
		case next == nil:
			next = newTable(p.pos, at)
			next.implicit = true
			t.set(p.name, next)
		case next.kind == arrayNode && next.tables && len(next.elems) > 0:
			next = next.elems[len(next.elems)-1]
		case next.kind != tableNode:
			return nil, treeErrorf(p.pos, "%s is not a table", p.name)
		}
		t = next
	}
	return t, nil
}

// keyValue handles key = value (the key possibly dotted) inside table t.
func (b *builder) keyValue(t *node, expr *unstable.Node) error {
	parts := b.keyParts(expr.Key())
	last := parts[len(parts)-1]
	// Tables made by a dotted key are placed at their own part of the key.
	for _, p := range parts[:len(parts)-1] {
		var err error
		if t, err = b.walk(t, []keyPart{p}, p.pos); err != nil {
			return err
		}
	}
	if _, dup := t.fields[last.name]; dup {
		return treeErrorf(last.pos, "key %s is already defined", last.name)
	}
	v, err := b.value(expr.Value(), b.valueStart(expr))
	if err != nil {
		return err
	}
	v.key = last.pos
	t.set(last.name, v)
	return nil
}

// valueStart finds where the value of key = value starts: after the '=' that follows the key.
func (b *builder) valueStart(expr *unstable.Node) int {
	var end int
	it := expr.Key()
	for it.Next() {
		end = int(it.Node().Raw.Offset + it.Node().Raw.Length)
	}
	i := end
	for i < len(b.data) && (b.data[i] == ' ' || b.data[i] == '\t') {
		i++
	}
	if i < len(b.data) && b.data[i] == '=' {
		i++
	}
	for i < len(b.data) && (b.data[i] == ' ' || b.data[i] == '\t') {
		i++
	}
	return i
}

// value converts one TOML value starting at byte off.
func (b *builder) value(v *unstable.Node, off int) (*node, error) {
	at := b.pos(off)
	switch v.Kind {
	case unstable.Array:
		arr := &node{kind: arrayNode, val: at}
		it := v.Children()
		for it.Next() {
			e := it.Node()
			if e.Kind == unstable.Comment {
				continue
			}
			en, err := b.value(e, b.start(e, off))
			if err != nil {
				return nil, err
			}
			arr.elems = append(arr.elems, en)
		}
		return arr, nil
	case unstable.InlineTable:
		t := newTable(Position{}, at)
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind != unstable.KeyValue {
				continue
			}
			if err := b.keyValue(t, kv); err != nil {
				return nil, err
			}
		}
		return t, nil
	case unstable.Comment, unstable.Invalid, unstable.Key, unstable.Table, unstable.ArrayTable, unstable.KeyValue:
		return nil, treeErrorf(at, "unexpected %s in a value", v.Kind)
	}
	return &node{
		kind:   scalarNode,
		val:    at,
		scalar: v.Kind,
		text:   string(v.Data),
		raw:    string(b.p.Raw(v.Raw)),
	}, nil
}

// start finds where an array element starts. go-toml gives arrays no range, so a nested array
// is placed at the '[' before its first element, or at its parent when it is empty.
func (b *builder) start(v *unstable.Node, parent int) int {
	if v.Kind != unstable.Array {
		return int(v.Raw.Offset)
	}
	it := v.Children()
	for it.Next() {
		if it.Node().Kind == unstable.Comment {
			continue
		}
		first := b.start(it.Node(), parent)
		i := first - 1
		for i >= 0 && strings.IndexByte(" \t\r\n", b.data[i]) >= 0 {
			i--
		}
		if i >= 0 && b.data[i] == '[' {
			return i
		}
		return first
	}
	return parent
}
