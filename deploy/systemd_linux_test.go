package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"claude-otel-gw/config"
)

// verifyCopy writes the unit under installed, its name once installed, in a scratch folder
// with ExecStart's program replaced by this test's own binary: systemd-analyze verify refuses
// a unit whose program does not exist, and the gateway is not installed here.
func verifyCopy(t *testing.T, file, installed string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	execStart := regexp.MustCompile(`(?m)^ExecStart=\S+`)
	text := readFile(t, file)
	if len(execStart.FindAllString(text, -1)) != 1 {
		t.Fatalf("%s: want exactly one ExecStart= line", file)
	}
	p := filepath.Join(t.TempDir(), installed)
	if err := os.WriteFile(p, []byte(execStart.ReplaceAllLiteralString(text, "ExecStart="+self)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// analyze runs systemd-analyze for the user manager (--user) or the system manager, in a
// scratch runtime dir and home so that it reads nothing of the real user's.
func analyze(t *testing.T, user bool, args ...string) (string, error) {
	t.Helper()
	bin := tool(t, "systemd-analyze")
	if user {
		args = append([]string{"--user"}, args...)
	}
	cmd := exec.Command(bin, args...)
	scratch := t.TempDir()
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+scratch, "HOME="+scratch, "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestUnitsPassSystemdAnalyzeVerify(t *testing.T) {
	for _, tc := range []struct {
		file, installed string
		user            bool
	}{
		{userUnit, "claude-otel-gw.service", true},
		{systemUnit, "claude-otel-gw.service", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out, err := analyze(t, tc.user, "verify", verifyCopy(t, tc.file, tc.installed))
			// verify prints a line for every unknown key, bad value or missing path, and
			// still exits 0 for some of them: any output is a failure.
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("systemd-analyze verify %s: %v\n%s", tc.file, err, out)
			}
		})
	}
}

// systemd-analyze security scores a unit's sandboxing from 0 (locked down) to 10. The limits
// leave room for the scoring to change between systemd versions while catching a unit that
// lost its hardening: the system unit scores 1.4 and the user unit 6.4 (it cannot use
// namespaces) with systemd 252.
func TestUnitsExposure(t *testing.T) {
	for _, tc := range []struct {
		file      string
		user      bool
		threshold string // tenths
	}{
		{userUnit, true, "70"},
		{systemUnit, false, "20"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out, err := analyze(t, tc.user, "security", "--offline=yes", "--threshold="+tc.threshold, verifyCopy(t, tc.file, "claude-otel-gw.service"))
			if err != nil {
				t.Errorf("exposure over %s/10: %v\n%s", tc.threshold, err, lastLine(out))
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// With the unit's Environment=XDG_STATE_HOME=%S, and %S being /var/lib for the system
// manager, the gateway's default state dir is the unit's StateDirectory.
func TestSystemUnitStateDirIsTheDefault(t *testing.T) {
	u := parseUnit(t, systemUnit)
	t.Setenv("XDG_STATE_HOME", "/var/lib")
	want := filepath.Join("/var/lib", u.get(t, "Service", "StateDirectory"))
	if got := config.DefaultStateDir(); got != want {
		t.Errorf("state dir under the system unit = %s, want %s (its StateDirectory)", got, want)
	}
}
