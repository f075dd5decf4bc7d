package cloudtrace

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"cloud.google.com/go/trace/apiv2/tracepb"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	otlptracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Cloud Trace's limits on attributes, from google/devtools/cloudtrace/v2/trace.proto and
// https://cloud.google.com/trace/docs/quotas.
const (
	maxAttributes           = 32 // per span, and per link
	maxAnnotationAttributes = 4  // per annotation
	maxKeyBytes             = 128
	maxValueBytes           = 256 // a string value
)

// agentKey is the attribute Cloud Trace shows as the agent that sent a span.
const agentKey = "g.co/agent"

// wellKnown maps OpenTelemetry's HTTP attributes (the semantic conventions before and after
// 1.21) to the labels Cloud Trace's console shows in places of their own. They are kept first.
var wellKnown = map[string]string{
	"http.method":                  "/http/method",
	"http.request.method":          "/http/method",
	"http.status_code":             "/http/status_code",
	"http.response.status_code":    "/http/status_code",
	"http.url":                     "/http/url",
	"url.full":                     "/http/url",
	"http.host":                    "/http/host",
	"http.route":                   "/http/route",
	"http.user_agent":              "/http/user_agent",
	"user_agent.original":          "/http/user_agent",
	"http.request_content_length":  "/http/request/size",
	"http.request.body.size":       "/http/request/size",
	"http.response_content_length": "/http/response/size",
	"http.response.body.size":      "/http/response/size",
	"http.scheme":                  "/http/client_protocol",
}

// claudeCode are the attributes of Claude Code's spans (claude_code.interaction, llm_request,
// tool, tool.execution, tool.blocked_on_user, hook) that say what happened, to whom and at what
// cost. A span that has more attributes than Cloud Trace takes keeps these next, after the
// well-known ones; then come its other attributes, in order, then the resource's.
var claudeCode = map[string]bool{
	"span.type": true, "model": true, "tool_name": true, "success": true, "error": true,
	"duration_ms": true, "status_code": true, "decision": true, "source": true,
	"input_tokens": true, "output_tokens": true, "cache_read_tokens": true,
	"cache_creation_tokens": true, "cost_usd": true, "ttft_ms": true, "attempt": true,
	"stop_reason": true, "full_command": true, "file_path": true, "user_prompt": true,
	"user_prompt_length": true, "interaction.duration_ms": true, "query_source": true,
	"session.id": true, "user.id": true, "user.email": true, "organization.id": true,
}

// attrSet collects at most limit attributes, counting those it cannot keep.
type attrSet struct {
	m       map[string]*tracepb.AttributeValue
	limit   int
	dropped int64
}

// add keeps key unless the set is full, the key is too long, or it is already there (an
// attribute given twice: the first wins). Each of those counts as dropped.
func (a *attrSet) add(key string, v *commonpb.AnyValue) {
	if _, dup := a.m[key]; dup || key == "" || len(key) > maxKeyBytes || len(a.m) >= a.limit {
		a.dropped++
		return
	}
	a.m[key] = attributeValue(v)
}

func (a *attrSet) proto(droppedBefore uint32) *tracepb.Span_Attributes {
	dropped := a.dropped + int64(droppedBefore)
	if len(a.m) == 0 && dropped == 0 {
		return nil
	}
	return &tracepb.Span_Attributes{AttributeMap: a.m, DroppedAttributesCount: clip32(dropped)}
}

// spanAttributes picks a span's attributes, most useful first: the well-known HTTP ones under
// Cloud Trace's names, Claude Code's own, the span's others in order, then the resource's
// (service.name and service.version first) and last g.co/agent. A resource attribute the span has too (Claude Code
// copies OTEL_RESOURCE_ATTRIBUTES onto every span) is the span's; g.co/agent is the gateway's
// own and is not counted when it does not fit.
func spanAttributes(sp *otlptracepb.Span, resource []*commonpb.KeyValue, agent string) *tracepb.Span_Attributes {
	attrs := sp.GetAttributes()
	a := attrSet{
		m:     make(map[string]*tracepb.AttributeValue, min(len(attrs)+len(resource)+1, maxAttributes)),
		limit: maxAttributes,
	}
	for _, kv := range attrs {
		if k, ok := wellKnown[kv.GetKey()]; ok {
			a.add(k, kv.GetValue())
		}
	}
	for _, kv := range attrs {
		if claudeCode[kv.GetKey()] {
			a.add(kv.GetKey(), kv.GetValue())
		}
	}
	for _, kv := range attrs {
		if _, ok := wellKnown[kv.GetKey()]; !ok && !claudeCode[kv.GetKey()] {
			a.add(kv.GetKey(), kv.GetValue())
		}
	}
	for _, first := range [...]bool{true, false} {
		for _, kv := range resource {
			if serviceKey(kv.GetKey()) != first || hasKey(attrs, kv.GetKey()) {
				continue
			}
			a.add(kv.GetKey(), kv.GetValue())
		}
	}
	if _, taken := a.m[agentKey]; !taken && len(a.m) < a.limit {
		a.m[agentKey] = stringValue(agent)
	}
	return a.proto(sp.GetDroppedAttributesCount())
}

// serviceKey reports whether a resource attribute names the service: those come first of the
// resource's, since they say which program a span is from.
func serviceKey(k string) bool { return k == "service.name" || k == "service.version" }

func hasKey(kvs []*commonpb.KeyValue, key string) bool {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return true
		}
	}
	return false
}

// plainAttributes keeps the first limit attributes of an event or a link, in order.
func plainAttributes(kvs []*commonpb.KeyValue, limit int, droppedBefore uint32) *tracepb.Span_Attributes {
	a := attrSet{m: make(map[string]*tracepb.AttributeValue, min(len(kvs), limit)), limit: limit}
	for _, kv := range kvs {
		a.add(kv.GetKey(), kv.GetValue())
	}
	return a.proto(droppedBefore)
}

// attributeValue converts an OTLP value to one Cloud Trace takes: a bool, an int, or a string
// of at most maxValueBytes. A double becomes its decimal string (Cloud Trace has no doubles),
// bytes their base64, arrays and maps their JSON.
func attributeValue(v *commonpb.AnyValue) *tracepb.AttributeValue {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return stringValue(x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		return &tracepb.AttributeValue{Value: &tracepb.AttributeValue_BoolValue{BoolValue: x.BoolValue}}
	case *commonpb.AnyValue_IntValue:
		return &tracepb.AttributeValue{Value: &tracepb.AttributeValue_IntValue{IntValue: x.IntValue}}
	case *commonpb.AnyValue_DoubleValue:
		return stringValue(string(appendFloat(nil, x.DoubleValue)))
	case *commonpb.AnyValue_BytesValue:
		return stringValue(base64.StdEncoding.EncodeToString(x.BytesValue))
	case *commonpb.AnyValue_ArrayValue, *commonpb.AnyValue_KvlistValue:
		return stringValue(string(appendJSON(nil, v, 0)))
	}
	return stringValue("")
}

func stringValue(s string) *tracepb.AttributeValue {
	return &tracepb.AttributeValue{Value: &tracepb.AttributeValue_StringValue{StringValue: truncatable(s, maxValueBytes)}}
}

// truncatable is s cut to at most limit bytes on a UTF-8 boundary, saying how much was cut.
func truncatable(s string, limit int) *tracepb.TruncatableString {
	v := cut(s, limit)
	return &tracepb.TruncatableString{Value: v, TruncatedByteCount: clip32(int64(len(s) - len(v)))}
}

// cut returns the longest prefix of s of at most limit bytes that does not split a character.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

func clip32(n int64) int32 {
	return int32(min(max(n, 0), math.MaxInt32))
}

// appendFloat writes f as JSON would (and as Claude Code's own exporters print costs):
// decimal notation unless the number is very small or very large. NaN and the infinities,
// which JSON has no numbers for, are written as words.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	if abs == 0 || (abs >= 1e-6 && abs < 1e21) || math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	b = strconv.AppendFloat(b, f, 'e', -1, 64)
	// JSON writes 1e-07 as 1e-7.
	if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

// maxJSONDepth bounds how deep appendJSON follows nested values; ingest refuses deeper ones
// already, so this only guards the recursion.
const maxJSONDepth = 64

// appendJSON writes an OTLP value as JSON: strings, numbers, booleans, arrays, and maps as
// objects; bytes as base64 strings, and NaN and the infinities as strings.
func appendJSON(b []byte, v *commonpb.AnyValue, depth int) []byte {
	if depth > maxJSONDepth {
		return append(b, "null"...)
	}
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return appendJSONString(b, x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		return strconv.AppendBool(b, x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return strconv.AppendInt(b, x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		if math.IsNaN(x.DoubleValue) || math.IsInf(x.DoubleValue, 0) {
			return appendJSONString(b, string(appendFloat(nil, x.DoubleValue)))
		}
		return appendFloat(b, x.DoubleValue)
	case *commonpb.AnyValue_BytesValue:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x.BytesValue)
		return append(b, '"')
	case *commonpb.AnyValue_ArrayValue:
		b = append(b, '[')
		for i, e := range x.ArrayValue.GetValues() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e, depth+1)
		}
		return append(b, ']')
	case *commonpb.AnyValue_KvlistValue:
		b = append(b, '{')
		for i, kv := range x.KvlistValue.GetValues() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, kv.GetKey())
			b = append(b, ':')
			b = appendJSON(b, kv.GetValue(), depth+1)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendJSONString writes s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
