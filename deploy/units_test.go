package deploy_test

import (
	"bufio"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/config"
)

const (
	userUnit   = "claude-otel-gw.service"
	systemUnit = "claude-otel-gw-system.service"
)

// unit is a parsed systemd unit file: section -> key -> every value given, in order (a key
// such as SystemCallFilter= may be given more than once).
type unit map[string]map[string][]string

// parseUnit reads the unit file syntax this folder uses: [Section] headers, Key=Value lines,
// and comments starting with # or ;.
func parseUnit(t *testing.T, name string) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(readFile(t, name)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: not a Key=Value line in a section: %q", name, n, line)
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	return u
}

// get is the one value of a key; a missing or repeated key fails the test.
func (u unit) get(t *testing.T, section, key string) string {
	t.Helper()
	values := u[section][key]
	if len(values) != 1 {
		t.Fatalf("[%s] %s= is given %d times, want once: %q", section, key, len(values), values)
	}
	return values[0]
}

// timeSpan reads a systemd time span of the forms used here: "15s", "2min", "500ms" or a
// bare number of seconds.
func timeSpan(t *testing.T, s string) time.Duration {
	t.Helper()
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(strings.Replace(s, "min", "m", 1))
	if err != nil {
		t.Fatalf("time span %q: %v", s, err)
	}
	return d
}

func TestUnitsRunTheGatewayAsANotifyService(t *testing.T) {
	shutdown := config.Default().ShutdownTimeout.D()
	for _, tc := range []struct {
		file      string
		execStart string
		wantedBy  string
	}{
		// The user unit finds the config at the default path; the binary is where
		// make install-user puts it.
		{userUnit, "%h/.local/bin/claude-otel-gw", "default.target"},
		{systemUnit, "/usr/local/bin/claude-otel-gw --config /etc/claude-otel-gw/config.toml", "multi-user.target"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			u := parseUnit(t, tc.file)
			for key, want := range map[string]string{
				"Type":       "notify",
				"ExecStart":  tc.execStart,
				"ExecReload": "/bin/kill -HUP $MAINPID",
				"Restart":    "on-failure",
				"UMask":      "0077",
			} {
				if got := u.get(t, "Service", key); got != want {
					t.Errorf("%s=%s, want %s", key, got, want)
				}
			}
			if got := u.get(t, "Install", "WantedBy"); got != tc.wantedBy {
				t.Errorf("WantedBy=%s, want %s", got, tc.wantedBy)
			}
			// systemd kills the gateway when TimeoutStopSec runs out: it must outlast the
			// graceful stop, or the queues are cut off mid-drain.
			if stop := timeSpan(t, u.get(t, "Service", "TimeoutStopSec")); stop <= shutdown {
				t.Errorf("TimeoutStopSec=%s does not exceed the default shutdown_timeout %s", stop, shutdown)
			}
			if rs := timeSpan(t, u.get(t, "Service", "RestartSec")); rs <= 0 || rs > 5*time.Second {
				t.Errorf("RestartSec=%s: a restart should come within seconds, Claude Code does not wait", rs)
			}
			if got := u.get(t, "Unit", "StartLimitIntervalSec"); got != "0" {
				t.Errorf("StartLimitIntervalSec=%s, want 0: a failing start is retried without end", got)
			}
		})
	}
}

// hardening is what each unit must say; a key missing or changed fails the test.
var hardening = map[string]map[string]string{
	userUnit: {
		"NoNewPrivileges":         "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"RestrictRealtime":        "yes",
		"RestrictSUIDSGID":        "yes",
		"RestrictNamespaces":      "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
		"SystemCallArchitectures": "native",
		"SystemCallErrorNumber":   "EPERM",
	},
	systemUnit: {
		"DynamicUser":             "yes",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "",
		"AmbientCapabilities":     "",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"ProtectControlGroups":    "yes",
		"ProtectClock":            "yes",
		"ProtectHostname":         "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"RestrictRealtime":        "yes",
		"RestrictSUIDSGID":        "yes",
		"RestrictNamespaces":      "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
		"SystemCallArchitectures": "native",
		"SystemCallErrorNumber":   "EPERM",
	},
}

func TestUnitsAreHardened(t *testing.T) {
	for file, want := range hardening {
		t.Run(file, func(t *testing.T) {
			u := parseUnit(t, file)
			for key, value := range want {
				if got := u.get(t, "Service", key); got != value {
					t.Errorf("%s=%s, want %s", key, got, value)
				}
			}
			filters := u["Service"]["SystemCallFilter"]
			if strings.Join(filters, " | ") != "@system-service | ~@privileged" {
				t.Errorf("SystemCallFilter= lines %q, want @system-service then ~@privileged", filters)
			}
		})
	}
}

// In a user unit, mount-namespace options make systemd 254+ set up a user namespace, and the
// service fails to start where unprivileged user namespaces are unavailable. A gateway that
// does not start loses telemetry, so the user unit keeps to options that need no privileges.
func TestUserUnitNeedsNoNamespaces(t *testing.T) {
	u := parseUnit(t, userUnit)
	for _, key := range []string{
		"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateUsers",
		"PrivateMounts", "PrivateNetwork", "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths",
		"ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
		"ProtectClock", "ProtectHostname", "ProtectProc", "ProcSubset", "DynamicUser",
		"CapabilityBoundingSet", "StateDirectory", "BindPaths", "TemporaryFileSystem",
	} {
		if values, ok := u["Service"][key]; ok {
			t.Errorf("%s=%s in the user unit: it needs a user namespace there", key, values[0])
		}
	}
}

// The system unit's ExecStart reads the config from its ConfigurationDirectory, and the state
// dir the gateway picks by default is its StateDirectory.
func TestSystemUnitDirectoriesAgree(t *testing.T) {
	u := parseUnit(t, systemUnit)
	args := strings.Fields(u.get(t, "Service", "ExecStart"))
	if len(args) != 3 || args[1] != "--config" {
		t.Fatalf("ExecStart=%s, want the binary and --config FILE", strings.Join(args, " "))
	}
	confDir := u.get(t, "Service", "ConfigurationDirectory")
	if want := path.Join("/etc", confDir, "config.toml"); args[2] != want {
		t.Errorf("--config %s, but ConfigurationDirectory=%s makes it %s", args[2], confDir, want)
	}
	if got := u.get(t, "Service", "StateDirectory"); got != "claude-otel-gw" {
		t.Errorf("StateDirectory=%s, want claude-otel-gw", got)
	}
	if got := u.get(t, "Service", "StateDirectoryMode"); got != "0700" {
		t.Errorf("StateDirectoryMode=%s, want 0700", got)
	}
	if got := u.get(t, "Service", "Environment"); got != "XDG_STATE_HOME=%S" {
		t.Errorf("Environment=%s, want XDG_STATE_HOME=%%S", got)
	}
}
