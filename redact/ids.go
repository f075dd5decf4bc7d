package redact

import commonpb "go.opentelemetry.io/proto/otlp/common/v1"

// isIDKey reports whether key is one of the attributes whose values are identifiers, not text:
// Claude Code's session, prompt, user and message ids, event times and sequence numbers, and
// versions. Their values
// are not scanned when they look like an id, which saves the scan and keeps an id that happens
// to look like a number (a card, a phone) intact. A value under one of these keys that does
// not look like an id (an email address as user.id, free text) is scanned like any other.
func isIDKey(key string) bool {
	// A switch rather than a map: it is looked up for every attribute, and a switch on
	// strings compiles to a few length and byte comparisons instead of a hash.
	switch key {
	case "session.id", "prompt.id", "user.id", "user.account_uuid", "user.account_id",
		"organization.id", "message.uuid", "tool_use_id", "event.timestamp", "event.sequence",
		"service.version", "service.instance.id", "app.version", "gen_ai.conversation.id",
		"gen_ai.tool.call.id", "gen_ai.response.id", "plugin_id_hash", "trace_id", "span_id":
		return true
	}
	return false
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
