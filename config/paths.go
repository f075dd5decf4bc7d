package config

import (
	"os"
	"path/filepath"
	"runtime"
)

// The platform's places for the config file and the state dir: XDG on Linux and the other
// Unixes, Application Support on macOS.

const appName = "claude-otel-gw"

// DefaultPath is where the gateway looks for its config when --config is not given:
// $XDG_CONFIG_HOME/claude-otel-gw/config.toml (else ~/.config/claude-otel-gw/config.toml),
// or ~/Library/Application Support/claude-otel-gw/config.toml on macOS. It is "" when neither
// the variable nor the home folder is known.
func DefaultPath() string {
	return defaultPath(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

// DefaultStateDir is where the gateway keeps what it writes unless state.dir says otherwise:
// $XDG_STATE_HOME/claude-otel-gw (else ~/.local/state/claude-otel-gw), or
// ~/Library/Application Support/claude-otel-gw/state on macOS. It is "" when neither the
// variable nor the home folder is known.
func DefaultStateDir() string {
	return defaultStateDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

func defaultPath(goos string, getenv func(string) string, home func() (string, error)) string {
	if goos == "darwin" {
		return underHome(home, "Library", "Application Support", appName, "config.toml")
	}
	if dir := xdg(getenv, "XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, appName, "config.toml")
	}
	return underHome(home, ".config", appName, "config.toml")
}

func defaultStateDir(goos string, getenv func(string) string, home func() (string, error)) string {
	if goos == "darwin" {
		return underHome(home, "Library", "Application Support", appName, "state")
	}
	if dir := xdg(getenv, "XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, appName)
	}
	return underHome(home, ".local", "state", appName)
}

// xdg reads an XDG base directory variable; the spec says a relative one is to be ignored.
func xdg(getenv func(string) string, name string) string {
	if dir := getenv(name); filepath.IsAbs(dir) {
		return dir
	}
	return ""
}

func underHome(home func() (string, error), elem ...string) string {
	h, err := home()
	if err != nil || h == "" {
		return ""
	}
	return filepath.Join(append([]string{h}, elem...)...)
}
