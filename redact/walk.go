package redact

import (
	"errors"
	"fmt"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
)

// The walk over a request is copy-on-write: each function returns its argument itself when
// nothing under it changed, and otherwise a new message with every field carried over, the
// changed ones replaced and the unchanged ones shared. Protobuf structs are never copied by
// value (they hold internal state that must not be copied); new ones are built field by field.

// maxDepth bounds how deeply maps and arrays may nest in a value. Ingest bounds it too; this
// bound holds for requests from anywhere, and keeps the walk's recursion finite.
const maxDepth = 64

// errTooDeep is the cause when a value nests deeper than maxDepth.
var errTooDeep = errors.New("a value nests maps and arrays more than 64 deep")

// walker carries one Redact call's state through the walk.
type walker struct {
	p   *Profile
	t   tally
	err error // set once the walk cannot finish; the rest of the walk then changes nothing
}

// cow maps f over in, copying the slice only when an element changes.
func cow[T comparable](in []T, f func(T) T) ([]T, bool) {
	var out []T
	for i, e := range in {
		n := f(e)
		if out == nil {
			if n == e {
				continue
			}
			out = make([]T, len(in))
			copy(out, in[:i])
		}
		out[i] = n
	}
	if out == nil {
		return in, false
	}
	return out, true
}

// carry gives a rebuilt message the unknown fields of the one it replaces, so that nothing the
// sender sent is lost because this build does not know it.
func carry[M proto.Message](dst, src M) M {
	if u := src.ProtoReflect().GetUnknown(); len(u) > 0 {
		dst.ProtoReflect().SetUnknown(u)
	}
	return dst
}

func (w *walker) str(s string) string {
	if w.err != nil {
		return s
	}
	out, _ := w.p.text(s, &w.t)
	return out
}

func (w *walker) resource(r *resourcepb.Resource) *resourcepb.Resource {
	if r == nil {
		return nil
	}
	attrs, changed := w.attrs(r.Attributes, 0)
	if !changed {
		return r
	}
	return carry(&resourcepb.Resource{
		Attributes:             attrs,
		DroppedAttributesCount: r.DroppedAttributesCount,
		EntityRefs:             r.EntityRefs,
	}, r)
}

func (w *walker) scope(s *commonpb.InstrumentationScope) *commonpb.InstrumentationScope {
	if s == nil {
		return nil
	}
	attrs, changed := w.attrs(s.Attributes, 0)
	if !changed {
		return s
	}
	return carry(&commonpb.InstrumentationScope{
		Name:                   s.Name,
		Version:                s.Version,
		Attributes:             attrs,
		DroppedAttributesCount: s.DroppedAttributesCount,
	}, s)
}

// attrs redacts a list of attributes: drop_keys leave it, mask_keys have their whole value
// replaced, id attributes that look like ids stay, and every other value is scanned.
func (w *walker) attrs(kvs []*commonpb.KeyValue, depth int) ([]*commonpb.KeyValue, bool) {
	var out []*commonpb.KeyValue
	for i, kv := range kvs {
		n, drop := w.keyValue(kv, depth)
		if out == nil {
			if n == kv && !drop {
				continue
			}
			out = make([]*commonpb.KeyValue, i, len(kvs))
			copy(out, kvs[:i])
		}
		if !drop {
			out = append(out, n)
		}
	}
	if out == nil {
		return kvs, false
	}
	return out, true
}

func (w *walker) keyValue(kv *commonpb.KeyValue, depth int) (_ *commonpb.KeyValue, drop bool) {
	if kv == nil || w.err != nil {
		return kv, false
	}
	p := w.p
	var v *commonpb.AnyValue
	switch {
	case p.dropKeys[kv.Key]:
		w.t.add(p, p.dropID)
		return nil, true
	case p.maskKeys[kv.Key]:
		var err error
		if v, err = p.maskValue(kv.Value, &w.t); err != nil {
			w.err = err
			return kv, false
		}
		if v == kv.Value {
			return kv, false
		}
	case isIDKey(kv.Key) && idLike(kv.Value):
		return kv, false
	default:
		if v = w.value(kv.Value, depth); v == kv.Value {
			return kv, false
		}
	}
	return carry(&commonpb.KeyValue{Key: kv.Key, Value: v, KeyStrindex: kv.KeyStrindex}, kv), false
}

// value redacts a value. depth is how many maps and arrays enclose it.
func (w *walker) value(v *commonpb.AnyValue, depth int) *commonpb.AnyValue {
	if v == nil || w.err != nil {
		return v
	}
	switch x := v.Value.(type) {
	case *commonpb.AnyValue_StringValue:
		s, changed := w.p.text(x.StringValue, &w.t)
		if !changed {
			return v
		}
		return carry(&commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}, v)
	case *commonpb.AnyValue_ArrayValue:
		if x.ArrayValue == nil {
			return v
		}
		if depth >= maxDepth {
			w.err = errTooDeep
			return v
		}
		vals, changed := cow(x.ArrayValue.Values, func(e *commonpb.AnyValue) *commonpb.AnyValue { return w.value(e, depth+1) })
		if !changed {
			return v
		}
		arr := carry(&commonpb.ArrayValue{Values: vals}, x.ArrayValue)
		return carry(&commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}, v)
	case *commonpb.AnyValue_KvlistValue:
		if x.KvlistValue == nil {
			return v
		}
		if depth >= maxDepth {
			w.err = errTooDeep
			return v
		}
		kvs, changed := w.attrs(x.KvlistValue.Values, depth+1)
		if !changed {
			return v
		}
		list := carry(&commonpb.KeyValueList{Values: kvs}, x.KvlistValue)
		return carry(&commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: list}}, v)
	}
	// Booleans and numbers say nothing by themselves; bytes are not text.
	return v
}

// maskValue replaces the whole value of a mask_keys attribute: "[REDACTED:key]", or with
// hash, "[key:<hmac>]" of the value (its text for a string, its protobuf encoding otherwise).
// A value that already is a mask or tag stays, so redacting twice changes nothing.
func (p *Profile) maskValue(v *commonpb.AnyValue, t *tally) (*commonpb.AnyValue, error) {
	sv, isString := v.GetValue().(*commonpb.AnyValue_StringValue)
	if isString && len(sv.StringValue) > 0 && sv.StringValue[0] == '[' {
		if end, ok := p.maskAt(sv.StringValue, 0); ok && end == len(sv.StringValue) {
			return v, nil
		}
	}
	t.add(p, p.keyID)
	if p.hash == nil {
		return p.keyMask, nil
	}
	var raw []byte
	switch {
	case isString:
		raw = []byte(sv.StringValue)
	case v != nil:
		var err error
		if raw, err = (proto.MarshalOptions{Deterministic: true}).Marshal(v); err != nil {
			return nil, fmt.Errorf("encoding a value to hash: %w", err)
		}
	}
	var b strings.Builder
	p.hash.tag(&b, keyRuleName, raw)
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: b.String()}}, nil
}
