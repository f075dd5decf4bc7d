package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDefaultPaths(t *testing.T) {
	home := func() (string, error) { return "/home/dev", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	for _, tc := range []struct {
		name     string
		goos     string
		env      map[string]string
		home     func() (string, error)
		config   string
		stateDir string
	}{
		{
			name:     "linux, no XDG variables",
			goos:     "linux",
			home:     home,
			config:   "/home/dev/.config/claude-otel-gw/config.toml",
			stateDir: "/home/dev/.local/state/claude-otel-gw",
		},
		{
			name:     "linux, XDG variables set",
			goos:     "linux",
			env:      map[string]string{"XDG_CONFIG_HOME": "/cfg", "XDG_STATE_HOME": "/st"},
			home:     home,
			config:   "/cfg/claude-otel-gw/config.toml",
			stateDir: "/st/claude-otel-gw",
		},
		{
			name:     "linux, relative XDG variables are ignored",
			goos:     "linux",
			env:      map[string]string{"XDG_CONFIG_HOME": "cfg", "XDG_STATE_HOME": "./st"},
			home:     home,
			config:   "/home/dev/.config/claude-otel-gw/config.toml",
			stateDir: "/home/dev/.local/state/claude-otel-gw",
		},
		{
			name:     "linux, XDG variables and no home",
			goos:     "linux",
			env:      map[string]string{"XDG_CONFIG_HOME": "/cfg", "XDG_STATE_HOME": "/st"},
			home:     noHome,
			config:   "/cfg/claude-otel-gw/config.toml",
			stateDir: "/st/claude-otel-gw",
		},
		{
			name: "linux, nothing known",
			goos: "linux",
			home: noHome,
		},
		{
			name:     "macOS ignores XDG",
			goos:     "darwin",
			env:      map[string]string{"XDG_CONFIG_HOME": "/cfg", "XDG_STATE_HOME": "/st"},
			home:     func() (string, error) { return "/Users/dev", nil },
			config:   "/Users/dev/Library/Application Support/claude-otel-gw/config.toml",
			stateDir: "/Users/dev/Library/Application Support/claude-otel-gw/state",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			check(t, "config path", defaultPath(tc.goos, getenv, tc.home), tc.config)
			check(t, "state dir", defaultStateDir(tc.goos, getenv, tc.home), tc.stateDir)
		})
	}
}

// The exported functions read this process's environment.
func TestDefaultPathsFromEnvironment(t *testing.T) {
	t.Setenv("HOME", "/home/someone")
	t.Setenv("XDG_CONFIG_HOME", "/etc/xdg-test")
	t.Setenv("XDG_STATE_HOME", "/var/xdg-test")
	wantConfig, wantState := "/etc/xdg-test/claude-otel-gw/config.toml", "/var/xdg-test/claude-otel-gw"
	if runtime.GOOS == "darwin" {
		wantConfig = "/home/someone/Library/Application Support/claude-otel-gw/config.toml"
		wantState = "/home/someone/Library/Application Support/claude-otel-gw/state"
	}
	check(t, "DefaultPath", DefaultPath(), wantConfig)
	check(t, "DefaultStateDir", DefaultStateDir(), wantState)

	unsetenv(t, "XDG_CONFIG_HOME")
	unsetenv(t, "XDG_STATE_HOME")
	if runtime.GOOS != "darwin" {
		wantConfig, wantState = "/home/someone/.config/claude-otel-gw/config.toml", "/home/someone/.local/state/claude-otel-gw"
	}
	check(t, "DefaultPath", DefaultPath(), wantConfig)
	check(t, "DefaultStateDir", DefaultStateDir(), wantState)
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	defaultFile := filepath.Join(dir, "claude-otel-gw", "config.toml")
	explicit := filepath.Join(dir, "explicit.toml")
	if err := os.WriteFile(explicit, []byte(""), 0o600); err != nil {
		t.Fatal(err)
	}

	// No default file: the embedded default.
	got, err := locate("", defaultFile)
	check(t, "no default file", got, "")
	check(t, "no default file: error", err, nil)
	got, err = locate("", "")
	check(t, "no default path", got, "")
	check(t, "no default path: error", err, nil)

	// An explicit path wins, and must exist.
	got, err = locate(explicit, defaultFile)
	check(t, "explicit", got, explicit)
	check(t, "explicit: error", err, nil)
	_, err = locate(explicit+".missing", defaultFile)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing explicit file: got %v, want fs.ErrNotExist", err)
	}
	if _, err = locate(dir, defaultFile); err == nil {
		t.Errorf("a folder as the explicit file: no error")
	}

	// The default file, once it exists.
	if err := os.MkdirAll(filepath.Dir(defaultFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(defaultFile, []byte(""), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = locate("", defaultFile)
	check(t, "default file", got, defaultFile)
	check(t, "default file: error", err, nil)
	got, _ = locate(explicit, defaultFile)
	check(t, "explicit over default", got, explicit)
	if _, err = locate("", filepath.Dir(defaultFile)); err == nil {
		t.Errorf("a folder at the default path: no error")
	}
}

// Locate looks at the platform default path.
func TestLocateUsesDefaultPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
	got, err := Locate("")
	check(t, "nothing there", got, "")
	check(t, "nothing there: error", err, nil)
	if err := os.MkdirAll(filepath.Dir(DefaultPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(DefaultPath(), []byte(""), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = Locate("")
	check(t, "default file", got, DefaultPath())
	check(t, "default file: error", err, nil)
}
