package config

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Print writes the effective config as TOML: every default filled in, ${VAR} references
// already expanded, paths absolute, secrets masked. Apart from secrets, what it writes parses
// back to an equal Config.
func (c *Config) Print(w io.Writer) error {
	p := &printer{}
	fmt.Fprintf(&p.buf, "# claude-otel-gw effective config, from %s: defaults filled in, secrets masked.\n", c.Source)
	p.table("", reflect.ValueOf(c).Elem())
	_, err := w.Write(p.buf.Bytes())
	return err
}

type printer struct {
	buf bytes.Buffer
}

var secretType = reflect.TypeFor[Secret]()

// table writes the keys of a struct, then its sub-tables, then its arrays of tables, as TOML
// requires. header is the table's key path in header form; "" for the top level.
func (p *printer) table(header string, v reflect.Value) {
	fields := fieldsOf(v.Type())
	var inline, nested []string
	for _, name := range fields.names {
		f := v.Field(fields.index[name])
		if !keep(v, name, f) {
			continue
		}
		if isNested(f.Type()) {
			nested = append(nested, name)
		} else {
			inline = append(inline, name)
		}
	}
	for _, name := range inline {
		fmt.Fprintf(&p.buf, "%s = %s\n", quoteKey(name), formatValue(v.Field(fields.index[name])))
	}
	for _, name := range nested {
		f := v.Field(fields.index[name])
		key := joinKey(header, name)
		switch f.Kind() {
		case reflect.Struct:
			p.header("[" + key + "]")
			p.table(key, f)
		case reflect.Map:
			keys := f.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
			for _, k := range keys {
				elemKey := joinKey(key, k.String())
				p.header("[" + elemKey + "]")
				p.table(elemKey, f.MapIndex(k).Elem())
			}
		case reflect.Slice:
			for i := range f.Len() {
				p.header("[[" + key + "]]")
				p.table(key, f.Index(i).Elem())
			}
		}
	}
}

func (p *printer) header(h string) {
	if p.buf.Len() > 0 {
		p.buf.WriteByte('\n')
	}
	p.buf.WriteString(h)
	p.buf.WriteByte('\n')
}

// isNested reports whether a field is written as its own [table] or [[array of tables]]
// rather than as key = value.
func isNested(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		return isTableType(t)
	case reflect.Map, reflect.Slice:
		return isTableType(t.Elem()) && t.Elem().Kind() == reflect.Pointer
	}
	return false
}

// keep decides whether a key is printed: only the keys a sink's type takes, only the
// conditions a drop rule has, and no absent optional values.
func keep(parent reflect.Value, name string, f reflect.Value) bool {
	switch {
	case f.Kind() == reflect.Pointer && f.IsNil(), f.Kind() == reflect.Map && f.Len() == 0:
		return false
	case parent.Type() == reflect.TypeFor[Sink]():
		return sinkTakes(parent.Interface().(Sink).Type, name)
	case parent.Type() == reflect.TypeFor[DropRule]():
		return !f.IsZero()
	}
	return true
}

// formatValue writes a value as TOML.
func formatValue(v reflect.Value) string {
	switch v.Type() {
	case secretType:
		return quoteString(redacted)
	case durationType:
		return quoteString(Duration(v.Int()).String())
	case byteSizeType:
		s := ByteSize(v.Int()).String()
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return s
		}
		return quoteString(s)
	case valueType:
		val := v.Interface().(Value)
		if val.Kind == StringValue {
			return formatString(val.Text)
		}
		b, _ := val.MarshalTOML()
		return string(b)
	}
	switch v.Kind() {
	case reflect.Pointer:
		return formatValue(v.Elem())
	case reflect.String:
		return formatString(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = quoteKey(k.String()) + " = " + formatValue(v.MapIndex(k))
		}
		if len(parts) == 0 {
			return "{}"
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return quoteString(fmt.Sprint(v.Interface()))
}

// formatString writes a string so that reading it back, ${VAR} expansion included, gives the
// same string. A string with backslashes, such as a regex, is written as a literal string
// when it can be, so it reads as it was written.
func formatString(s string) string {
	s = escapeDollars(s)
	if strings.Contains(s, `\`) && !strings.ContainsFunc(s, func(r rune) bool {
		return r == '\'' || r < 0x20 && r != '\t' || r == 0x7f
	}) {
		return "'" + s + "'"
	}
	return quoteString(s)
}
