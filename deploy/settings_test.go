package deploy_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"claude-otel-gw/config"
	"claude-otel-gw/internal/claudesettings"
)

// The managed-settings file here is what "claude-otel-gw --claude-settings" prints for the
// embedded default config, byte for byte, so the README's copy and the command agree.
func TestManagedSettingsAreWhatTheGatewayPrints(t *testing.T) {
	file := []byte(readFile(t, "claude-code-managed-settings.json"))
	var parsed struct {
		Env map[string]string `json:"env"`
	}
	dec := json.NewDecoder(bytes.NewReader(file))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&parsed); err != nil {
		t.Fatalf("claude-code-managed-settings.json: %v", err)
	}

	cfg, err := config.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := claudesettings.Build(cfg, claudesettings.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, want) {
		t.Errorf("claude-code-managed-settings.json differs from --claude-settings:\n got %s\nwant %s", file, want)
	}
	// Traces too: the gateway routes spans like every other signal.
	for _, key := range []string{"OTEL_TRACES_EXPORTER", "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"} {
		if parsed.Env[key] == "" {
			t.Errorf("%s is not set", key)
		}
	}
}
