package cloudlogging

import (
	"sort"
	"unicode/utf8"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// ellipsis ends every string fit cut short.
const ellipsis = "…"

// fallbackMessageBytes is how much of the message an entry keeps when cutting its longest
// values was not enough.
const fallbackMessageBytes = 16 << 10

// fit cuts an entry too large for Cloud Logging down until it fits and marks its payload
// "truncated": true. It returns the entry's size and whether it cut anything.
//
// Cutting is chosen over dropping the entry, and over sending it whole: Cloud Logging would
// refuse it whole forever, and a dropped entry leaves nothing but a counter, while a cut one
// still has the record's time, severity, trace, labels, every short value and the start of
// every long one. Claude Code's large values are free text (a file written by a tool, a long
// prompt), so the longest strings are cut first, all to the same length (the longest that makes
// the entry fit): short values (ids, names, event.name) arrive whole, and the one huge value
// pays for the excess. Only an entry of very many values, or of huge keys, is cut further, to
// its message alone.
func fit(e *loggingpb.LogEntry, envelope int) (int, bool) {
	size := proto.Size(e)
	if size+envelope <= maxEntryBytes {
		return size, false
	}
	message := e.GetJsonPayload().GetFields()[fieldMessage].GetStringValue()
	// The payload shares the resource and scope with other entries: cut a copy.
	p := proto.CloneOf(e.GetJsonPayload())
	p.Fields[fieldTruncated] = &structpb.Value{Kind: &structpb.Value_BoolValue{BoolValue: true}}
	e.Payload = &loggingpb.LogEntry_JsonPayload{JsonPayload: p}
	for range 3 {
		size = proto.Size(e)
		excess := size + envelope - maxEntryBytes
		if excess <= 0 {
			return size, true
		}
		var l leaves
		l.collect(structValue(p))
		l.cut(e.Labels, excess)
	}
	if size = proto.Size(e); size+envelope <= maxEntryBytes {
		return size, true
	}
	short := &structpb.Struct{Fields: map[string]*structpb.Value{fieldTruncated: p.Fields[fieldTruncated]}}
	if message != "" {
		short.Fields[fieldMessage] = stringValue(cutString(message, fallbackMessageBytes))
	}
	e.Payload = &loggingpb.LogEntry_JsonPayload{JsonPayload: short}
	e.Labels = nil
	return proto.Size(e), true
}

// leaves are the string values of a payload.
type leaves []*structpb.Value

func (l *leaves) collect(v *structpb.Value) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		*l = append(*l, v)
	case *structpb.Value_StructValue:
		for _, f := range k.StructValue.GetFields() {
			l.collect(f)
		}
	case *structpb.Value_ListValue:
		for _, e := range k.ListValue.GetValues() {
			l.collect(e)
		}
	}
}

// cut shortens the longest strings of the payload and the labels, all to one length, the
// longest that saves at least need bytes (or to nothing, if even that would not).
func (l leaves) cut(labels map[string]string, need int) {
	lens := make([]int, 0, len(l)+len(labels))
	longest := 0
	for _, v := range l {
		lens = append(lens, len(v.GetStringValue()))
	}
	for _, v := range labels {
		lens = append(lens, len(v))
	}
	for _, n := range lens {
		longest = max(longest, n)
	}
	saved := func(keep int) int {
		s := 0
		for _, n := range lens {
			if n > keep+len(ellipsis) {
				s += n - keep - len(ellipsis)
			}
		}
		return s
	}
	// saved only falls as keep grows; find the last keep that still saves enough. Cutting at
	// a rune boundary and the shorter length prefixes only save more than counted.
	keep := sort.Search(longest+1, func(keep int) bool { return saved(keep) < need }) - 1
	keep = max(keep, 0)
	for _, v := range l {
		v.Kind = &structpb.Value_StringValue{StringValue: cutString(v.GetStringValue(), keep)}
	}
	for k, v := range labels {
		labels[k] = cutString(v, keep)
	}
}

// cutString keeps at most n bytes of s, at a rune boundary, and ends it with the ellipsis; a
// string no longer than that is left as it is.
func cutString(s string, n int) string {
	if len(s) <= n+len(ellipsis) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}
