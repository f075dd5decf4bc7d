package deploy_test

import (
	"testing"

	"claude-otel-gw/config"
)

// The daemon sets HOME=/ so that the gateway's macOS defaults, under
// $HOME/Library/Application Support/claude-otel-gw, are the machine-wide folder its
// --config names.
func TestDaemonHomeMakesTheDefaultsMachineWide(t *testing.T) {
	p := loadPlist(t, daemonPlist)
	home := field(t, field(t, p, "EnvironmentVariables", "dict"), "HOME", "string").text
	t.Setenv("HOME", home)
	args := field(t, p, "ProgramArguments", "array").items
	if got := config.DefaultPath(); got != args[2].text {
		t.Errorf("with HOME=%s the default config is %s, but the daemon says --config %s", home, got, args[2].text)
	}
	if got, want := config.DefaultStateDir(), "/Library/Application Support/claude-otel-gw/state"; got != want {
		t.Errorf("with HOME=%s the state dir is %s, want %s", home, got, want)
	}
}
