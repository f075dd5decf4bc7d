package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2/unstable"
)

// The decoder fills typed structs from the tree, driven by their `toml` tags. It keeps going
// after a problem so that one run reports them all, and it records where every key was
// written (for later checks and for Config.Errorf) and which keys it could not decode (so
// later checks do not pile a second complaint onto the same value).

type decoder struct {
	file   string
	lookup func(string) (string, bool) // the environment, for ${VAR}
	pos    positions
	failed map[string]bool
	// open holds, for a table decoded into a struct listed in openStructs, the keys written in
	// it, whether or not the struct has them: which keys apply is settled after decoding.
	open map[string][]string
	errs Errors
}

// openStructs are decoded without rejecting unknown keys, because which keys are allowed
// depends on a value in the same table (a sink's type). The check happens in validation.
var openStructs = map[reflect.Type]bool{
	reflect.TypeFor[Sink](): true,
}

var (
	durationType = reflect.TypeFor[Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
	valueType    = reflect.TypeFor[Value]()
)

func newDecoder(file string, lookup func(string) (string, bool)) *decoder {
	return &decoder{
		file:   file,
		lookup: lookup,
		pos:    positions{},
		failed: map[string]bool{},
		open:   map[string][]string{},
	}
}

// fail records a problem with the value at path.
func (d *decoder) fail(path string, at Position, format string, args ...any) {
	d.failed[path] = true
	d.errs = append(d.errs, newError(d.file, at, path, fmt.Sprintf(format, args...)))
}

// wrongType records a value of the wrong TOML type.
func (d *decoder) wrongType(path string, n *node, t reflect.Type) {
	d.fail(path, n.val, "want %s, got %s%s", want(t), n.what(), shown(n))
}

// shown is the bad value as a message ends with it: " (42)", ` ("lots")`; nothing for tables
// and arrays.
func shown(n *node) string {
	if n.kind != scalarNode {
		return ""
	}
	if n.scalar == unstable.String {
		return " (" + quoteString(n.text) + ")"
	}
	return " (" + n.raw + ")"
}

// want names what a Go type takes, in TOML terms.
func want(t reflect.Type) string {
	switch t {
	case durationType:
		return `a duration such as "30s"`
	case byteSizeType:
		return `a size (bytes as an integer, or e.g. "64MiB")`
	case valueType:
		return "a string, number or boolean"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return want(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		switch {
		case isTableType(t.Elem()):
			return "an array of tables"
		case t.Elem().Kind() == reflect.String:
			return "an array of strings"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "a table"
	}
	return t.String()
}

func isTableType(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != valueType
}

// decode fills v from n. v keeps whatever it held for keys n does not have: that is how
// defaults survive.
func (d *decoder) decode(path string, n *node, v reflect.Value) {
	d.pos[path] = place{key: n.key, val: n.val}
	t := v.Type()
	switch t {
	case durationType:
		d.duration(path, n, v)
		return
	case byteSizeType:
		d.byteSize(path, n, v)
		return
	case valueType:
		d.value(path, n, v)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := reflect.New(t.Elem())
		if !v.IsNil() {
			elem.Elem().Set(v.Elem())
		}
		before := len(d.errs)
		d.decode(path, n, elem.Elem())
		if len(d.errs) == before || isTableType(t) {
			v.Set(elem)
		}
	case reflect.String:
		if s, ok := d.str(path, n, t); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if n.kind != scalarNode || n.scalar != unstable.Bool {
			d.wrongType(path, n, t)
			return
		}
		v.SetBool(n.text == "true")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.kind != scalarNode || n.scalar != unstable.Integer {
			d.wrongType(path, n, t)
			return
		}
		i, err := strconv.ParseInt(n.text, 0, 64)
		if err != nil || v.OverflowInt(i) {
			d.fail(path, n.val, "integer out of range%s", shown(n))
			return
		}
		v.SetInt(i)
	case reflect.Slice:
		d.slice(path, n, v)
	case reflect.Map:
		d.mapping(path, n, v)
	case reflect.Struct:
		d.structure(path, n, v)
	default:
		d.fail(path, n.val, "cannot decode into %s", t)
	}
}

// str reads a string, ${VAR} references expanded.
func (d *decoder) str(path string, n *node, t reflect.Type) (string, bool) {
	if n.kind != scalarNode || n.scalar != unstable.String {
		d.wrongType(path, n, t)
		return "", false
	}
	s, err := expand(n.text, d.lookup)
	if err != nil {
		d.fail(path, n.val, "%v", err)
		return "", false
	}
	return s, true
}

func (d *decoder) duration(path string, n *node, v reflect.Value) {
	s, ok := d.str(path, n, durationType)
	if !ok {
		return
	}
	dur, err := ParseDuration(s)
	if err != nil {
		d.fail(path, n.val, "%v (%s)", err, quoteString(s))
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) byteSize(path string, n *node, v reflect.Value) {
	if n.kind == scalarNode && n.scalar == unstable.Integer {
		i, err := strconv.ParseInt(n.text, 0, 64)
		switch {
		case err != nil:
			d.fail(path, n.val, "integer out of range%s", shown(n))
		case i < 0:
			d.fail(path, n.val, "must not be negative%s", shown(n))
		default:
			v.SetInt(i)
		}
		return
	}
	s, ok := d.str(path, n, byteSizeType)
	if !ok {
		return
	}
	size, err := ParseByteSize(s)
	if err != nil {
		d.fail(path, n.val, "%v (%s)", err, quoteString(s))
		return
	}
	v.SetInt(int64(size))
}

// value reads a scalar compared with attribute values; numbers take the canonical text that
// attribute values are formatted with.
func (d *decoder) value(path string, n *node, v reflect.Value) {
	if n.kind != scalarNode {
		d.wrongType(path, n, valueType)
		return
	}
	var val Value
	switch n.scalar {
	case unstable.String:
		s, ok := d.str(path, n, valueType)
		if !ok {
			return
		}
		val = Value{Text: s, Kind: StringValue}
	case unstable.Integer:
		i, err := strconv.ParseInt(n.text, 0, 64)
		if err != nil {
			d.fail(path, n.val, "integer out of range%s", shown(n))
			return
		}
		val = Value{Text: strconv.FormatInt(i, 10), Kind: IntValue}
	case unstable.Float:
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.text, "_", ""), 64)
		if err != nil {
			d.fail(path, n.val, "float out of range%s", shown(n))
			return
		}
		val = Value{Text: strconv.FormatFloat(f, 'g', -1, 64), Kind: FloatValue}
	case unstable.Bool:
		val = Value{Text: n.text, Kind: BoolValue}
	default:
		d.wrongType(path, n, valueType)
		return
	}
	v.Set(reflect.ValueOf(val))
}

// slice reads an array; an empty one leaves the slice nil, so that a config printed and read
// back compares equal.
func (d *decoder) slice(path string, n *node, v reflect.Value) {
	t := v.Type()
	if n.kind != arrayNode {
		d.wrongType(path, n, t)
		return
	}
	out := reflect.MakeSlice(t, 0, len(n.elems))
	for i, e := range n.elems {
		elemPath := indexKey(path, i)
		if isTableType(t.Elem()) {
			if e.kind != tableNode {
				d.fail(elemPath, e.val, "want a table, got %s%s", e.what(), shown(e))
				continue
			}
			elem := reflect.New(t.Elem()).Elem()
			d.decode(elemPath, e, elem)
			out = reflect.Append(out, elem)
			continue
		}
		// A bad element of a list of scalars is reported on the list, placed where the element
		// was written.
		before := len(d.errs)
		elem := reflect.New(t.Elem()).Elem()
		d.decode(elemPath, e, elem)
		for _, err := range d.errs[before:] {
			err.Key = path
			d.failed[path] = true
		}
		out = reflect.Append(out, elem)
	}
	if out.Len() == 0 {
		v.SetZero()
		return
	}
	v.Set(out)
}

// mapping reads a table whose keys are names chosen by the user ([sink.<name>], match).
func (d *decoder) mapping(path string, n *node, v reflect.Value) {
	t := v.Type()
	if n.kind != tableNode {
		d.wrongType(path, n, t)
		return
	}
	if len(n.keys) > 0 && v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(n.keys)))
	}
	for _, k := range n.keys {
		elem := reflect.New(t.Elem()).Elem()
		d.decode(joinKey(path, k), n.fields[k], elem)
		v.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), elem)
	}
}

// structure reads a table into a struct, field by field, by `toml` tag.
func (d *decoder) structure(path string, n *node, v reflect.Value) {
	t := v.Type()
	if n.kind != tableNode {
		d.wrongType(path, n, t)
		return
	}
	fields := fieldsOf(t)
	if openStructs[t] {
		d.open[path] = n.keys
	}
	for _, k := range n.keys {
		child := n.fields[k]
		keyPath := joinKey(path, k)
		f, ok := fields.index[k]
		if !ok {
			if openStructs[t] {
				d.pos[keyPath] = place{key: child.key, val: child.val}
				continue
			}
			hint := suggest(k, fields.names)
			d.fail(keyPath, child.key, "unknown key%s", hint)
			if meant := suggested(hint); meant != "" {
				// The key meant is not missing, only misspelt: one error is enough.
				d.failed[joinKey(path, meant)] = true
			}
			continue
		}
		d.decode(keyPath, child, v.Field(f))
	}
}

// structFields is a struct's keys, in declaration order, and their field indexes.
type structFields struct {
	names []string
	index map[string]int
}

var fieldCache sync.Map // reflect.Type -> structFields

func fieldsOf(t reflect.Type) structFields {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(structFields)
	}
	fs := structFields{index: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fs.names = append(fs.names, name)
		fs.index[name] = i
	}
	fieldCache.Store(t, fs)
	return fs
}
