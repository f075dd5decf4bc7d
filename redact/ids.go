package redact

import commonpb "go.opentelemetry.io/proto/otlp/common/v1"

// idKeys are the attributes whose values are identifiers, not text: Claude Code's session,
// prompt, user and message ids, event times and sequence numbers, and versions. Their values
// are not scanned when they look like an id, which saves the scan and keeps an id that happens
// to look like a number (a card, a phone) intact. A value under one of these keys that does
// not look like an id (an email address as user.id, free text) is scanned like any other.
var idKeys = map[string]bool{
	"session.id":             true,
	"prompt.id":              true,
	"user.id":                true,
	"user.account_uuid":      true,
	"user.account_id":        true,
	"organization.id":        true,
	"message.uuid":           true,
	"tool_use_id":            true,
	"event.timestamp":        true,
	"event.sequence":         true,
	"service.version":        true,
	"service.instance.id":    true,
	"app.version":            true,
	"gen_ai.conversation.id": true,
	"gen_ai.tool.call.id":    true,
	"gen_ai.response.id":     true,
	"plugin_id_hash":         true,
	"trace_id":               true,
	"span_id":                true,
}

// maxIDLen bounds what counts as an id; anything longer is scanned as text.
const maxIDLen = 128

// idLike reports whether v is a string that looks like an id or a version: no whitespace,
// only [A-Za-z0-9._:+-], and not too long. An '@' or a '/' makes it text.
func idLike(v *commonpb.AnyValue) bool {
	sv, ok := v.GetValue().(*commonpb.AnyValue_StringValue)
	if !ok {
		return false
	}
	s := sv.StringValue
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != ':' && c != '+' && c != '-' {
			return false
		}
	}
	return true
}
