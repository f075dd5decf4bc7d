package otlp

import (
	"fmt"
	"strings"
)

// checkHeaders refuses, at startup, a header that every export would otherwise fail on and be
// retried for ever. HTTP takes names made of token characters and values without control
// characters; gRPC metadata takes names of [0-9a-z-_.] once lower-cased, and values of
// printable ASCII (anything under a name ending in -bin). Errors name the header, never its
// value.
func checkHeaders(headers map[string]string, grpc bool) error {
	for name, value := range headers {
		if name == "" || strings.ContainsFunc(name, func(r rune) bool { return !isTokenChar(r) }) {
			return fmt.Errorf("headers: %q is not a valid header name", name)
		}
		if !grpc {
			if strings.ContainsFunc(value, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }) {
				return fmt.Errorf("headers: the value of %q has control characters", name)
			}
			continue
		}
		if strings.ContainsFunc(name, func(r rune) bool { return !isMetadataChar(r) }) {
			return fmt.Errorf("headers: %q is not a valid gRPC metadata name (letters, digits, - _ .)", name)
		}
		if strings.HasSuffix(strings.ToLower(name), "-bin") {
			continue
		}
		if strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			return fmt.Errorf("headers: the value of %q has characters gRPC metadata cannot carry (only printable ASCII)", name)
		}
	}
	return nil
}

// isTokenChar reports whether r may appear in an HTTP header name (RFC 9110's tchar).
func isTokenChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// isMetadataChar reports whether r may appear in a gRPC metadata name; upper case is
// lower-cased before sending.
func isMetadataChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.'
}
