package route

import (
	"path"
	"strconv"
	"strings"

	"claude-otel-gw/config"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
)

// glob matches a metric, span or event name. Plain names and "prefix*" globs, the common
// cases, skip path.Match.
type glob struct {
	pattern string
	kind    uint8 // globExact, globPrefix, globFull
}

const (
	globExact = iota
	globPrefix
	globFull
)

func compileGlob(p string) glob {
	meta := strings.IndexAny(p, `*?[\`)
	switch {
	case meta < 0:
		return glob{p, globExact}
	case meta == len(p)-1 && p[meta] == '*':
		return glob{p[:meta], globPrefix}
	}
	return glob{p, globFull}
}

func (g glob) match(name string) bool {
	switch g.kind {
	case globExact:
		return name == g.pattern
	case globPrefix:
		return strings.HasPrefix(name, g.pattern)
	}
	ok, _ := path.Match(g.pattern, name) // the config loader has rejected bad patterns
	return ok
}

func matchAny(gs []glob, name string) bool {
	for _, g := range gs {
		if g.match(name) {
			return true
		}
	}
	return false
}

// attrs is where a record's attributes are looked up: the record's own first, then its scope's,
// then its resource's.
type attrs struct {
	record, scope, resource []*commonpb.KeyValue
}

func (a attrs) get(key string) *commonpb.AnyValue {
	for _, kvs := range [3][]*commonpb.KeyValue{a.record, a.scope, a.resource} {
		for _, kv := range kvs {
			if kv.Key == key {
				return kv.Value
			}
		}
	}
	return nil
}

// equals compares an attribute value with a configured value by canonical text, so that
// `status_code = 400` matches both the integer 400 and the string "400" that older Claude Code
// versions send.
func equals(v *commonpb.AnyValue, want string) bool {
	var buf [32]byte
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue == want
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue) == want
	case *commonpb.AnyValue_IntValue:
		return string(strconv.AppendInt(buf[:0], x.IntValue, 10)) == want
	case *commonpb.AnyValue_DoubleValue:
		return string(strconv.AppendFloat(buf[:0], x.DoubleValue, 'g', -1, 64)) == want
	}
	return false
}

// contains reports whether the attribute value, as text, contains sub. For maps and arrays any
// string or key inside counts.
func contains(v *commonpb.AnyValue, sub string) bool {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return strings.Contains(x.StringValue, sub)
	case *commonpb.AnyValue_ArrayValue:
		for _, e := range x.ArrayValue.GetValues() {
			if contains(e, sub) {
				return true
			}
		}
	case *commonpb.AnyValue_KvlistValue:
		for _, kv := range x.KvlistValue.GetValues() {
			if strings.Contains(kv.Key, sub) || contains(kv.Value, sub) {
				return true
			}
		}
	case nil:
		return false
	default:
		var buf [32]byte
		switch x := x.(type) {
		case *commonpb.AnyValue_BoolValue:
			return strings.Contains(strconv.FormatBool(x.BoolValue), sub)
		case *commonpb.AnyValue_IntValue:
			return strings.Contains(string(strconv.AppendInt(buf[:0], x.IntValue, 10)), sub)
		case *commonpb.AnyValue_DoubleValue:
			return strings.Contains(string(strconv.AppendFloat(buf[:0], x.DoubleValue, 'g', -1, 64)), sub)
		}
	}
	return false
}

// dropRule is a compiled [[route.drop]]: every condition given must hold.
type dropRule struct {
	name      *glob
	attribute string
	equals    *string
	contains  string
}

func compileDrop(d *config.DropRule) dropRule {
	r := dropRule{attribute: d.Attribute, contains: d.Contains}
	if d.Name != "" {
		g := compileGlob(d.Name)
		r.name = &g
	}
	if d.Equals != nil {
		t := d.Equals.Text
		r.equals = &t
	}
	return r
}

func (r *dropRule) match(names recordName, a attrs) bool {
	if r.name != nil && !names.matches([]glob{*r.name}) {
		return false
	}
	if r.attribute != "" {
		v := a.get(r.attribute)
		if v == nil {
			return false
		}
		if r.equals != nil && !equals(v, *r.equals) {
			return false
		}
		if r.contains != "" && !contains(v, r.contains) {
			return false
		}
	}
	return true
}

// recordName is what name globs see. Metrics and spans have one name. A log event has its event
// name (the record's event_name field, else its event.name attribute, e.g. "user_prompt") and,
// when its body is the qualified form Claude Code writes ("claude_code.user_prompt"), that too,
// so `names = ["claude_code.*"]` selects Claude Code's metrics, spans and events alike.
type recordName struct {
	name, qualified string
}

func (n recordName) matches(gs []glob) bool {
	return matchAny(gs, n.name) || (n.qualified != "" && matchAny(gs, n.qualified))
}

func logName(lr *logspb.LogRecord) recordName {
	name := lr.EventName
	if name == "" {
		for _, kv := range lr.Attributes {
			if kv.Key == "event.name" {
				name = kv.Value.GetStringValue()
				break
			}
		}
	}
	n := recordName{name: name}
	if body := lr.Body.GetStringValue(); name != "" && len(body) > len(name) &&
		strings.HasSuffix(body, name) && body[len(body)-len(name)-1] == '.' {
		n.qualified = body
	}
	return n
}
