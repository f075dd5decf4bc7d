package config

import "log/slog"

// Secret is a string that must not be shown: a token, a password, a header value. It prints
// as [REDACTED] through fmt, logs and --print-config; string(s) gives the value to the code
// that uses it.
type Secret string

const redacted = "[REDACTED]"

// String hides the value.
func (Secret) String() string { return redacted }

// GoString hides the value from %#v too.
func (Secret) GoString() string { return redacted }

// MarshalText hides the value from encoders (JSON, TOML, slog's text and JSON handlers).
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue hides the value from slog, whatever the handler.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
