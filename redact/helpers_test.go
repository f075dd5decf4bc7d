package redact

import (
	"testing"

	"claude-otel-gw/config"
)

func mustCompile(t testing.TB, name string, cfg *config.Redaction) *Profile {
	t.Helper()
	p, err := Compile(name, cfg, nil)
	if err != nil {
		t.Fatalf("Compile(%q): %v", name, err)
	}
	return p
}
