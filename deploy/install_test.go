package deploy_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeBinary is what the stand-in for the Go toolchain writes where the gateway would go.
const fakeBinary = "#!/bin/sh\necho claude-otel-gw stand-in\n"

// installRun runs the Makefile's install targets against a scratch home and DESTDIR, with
// stand-ins for the Go toolchain, systemctl and launchctl that record how they were called:
// nothing outside the test's folders is touched.
type installRun struct {
	t       *testing.T
	root    string // the repository, where the Makefile is
	home    string // HOME for make
	destdir string // a DESTDIR for the staging runs
	bin     string // BIN: where the build target writes the binary
	logs    string // one file per stand-in, a line per call
	tools   string // the stand-ins
}

func newInstallRun(t *testing.T) *installRun {
	t.Helper()
	tool(t, "make")
	scratch := t.TempDir()
	r := &installRun{
		t:       t,
		root:    repoRoot(t),
		home:    filepath.Join(scratch, "home", "dev"),
		destdir: filepath.Join(scratch, "stage"),
		bin:     filepath.Join(scratch, "build", "claude-otel-gw"),
		logs:    filepath.Join(scratch, "logs"),
		tools:   filepath.Join(scratch, "tools"),
	}
	for _, dir := range []string{r.home, r.logs, r.tools} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	record := func(name, extra string) {
		script := "#!/bin/sh\necho \"$*\" >> '" + filepath.Join(r.logs, name) + "'\n" + extra
		if err := os.WriteFile(filepath.Join(r.tools, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The Go stand-in writes an executable at -o, as go build would.
	record("go", `out=
while [ $# -gt 0 ]; do
	if [ "$1" = -o ]; then out=$2; fi
	shift
done
[ -n "$out" ] || { echo "go stand-in: no -o" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
printf '`+strings.ReplaceAll(fakeBinary, "\n", `\n`)+`' > "$out"
chmod 0755 "$out"
`)
	record("systemctl", "")
	record("launchctl", "")
	return r
}

// make runs a target with the stand-ins and returns what it printed.
func (r *installRun) make(target string, vars ...string) string {
	r.t.Helper()
	args := append([]string{
		"-C", r.root, "--no-print-directory", target,
		"GO=" + filepath.Join(r.tools, "go"),
		"SYSTEMCTL=" + filepath.Join(r.tools, "systemctl"),
		"LAUNCHCTL=" + filepath.Join(r.tools, "launchctl"),
		"BIN=" + r.bin,
	}, vars...)
	cmd := exec.Command("make", args...)
	// Only PATH and the scratch HOME: make reads the environment as variables (PREFIX,
	// DESTDIR, XDG_CONFIG_HOME), and the developer's must not leak in.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.home}
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("make %s: %v\n%s", strings.Join(args[3:], " "), err, out)
	}
	return string(out)
}

// calls is what a stand-in was asked to do, one call per element, and forgets it.
func (r *installRun) calls(name string) []string {
	r.t.Helper()
	p := filepath.Join(r.logs, name)
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		r.t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func (r *installRun) wantCalls(name string, want ...string) {
	r.t.Helper()
	if got := r.calls(name); strings.Join(got, "\n") != strings.Join(want, "\n") {
		r.t.Errorf("%s was called as\n  %s\nwant\n  %s", name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// wantFile checks that a file exists with this mode and content.
func wantFile(t *testing.T, path string, mode fs.FileMode, content string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Errorf("not installed: %v", err)
		return
	}
	if info.Mode() != mode {
		t.Errorf("%s: mode %v, want %v", path, info.Mode(), mode)
	}
	if got := readFile(t, path); got != content {
		t.Errorf("%s holds\n%s\nwant\n%s", path, got, content)
	}
}

func wantGone(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
}

// keep writes a file the uninstall targets must leave alone.
func keep(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestInstallUserSystemd(t *testing.T) {
	r := newInstallRun(t)
	r.make("install-user", "UNAME_S=Linux")

	binary := filepath.Join(r.home, ".local/bin/claude-otel-gw")
	unitFile := filepath.Join(r.home, ".config/systemd/user/claude-otel-gw.service")
	wantFile(t, binary, 0o755, fakeBinary)
	wantFile(t, unitFile, 0o644, readFile(t, userUnit))
	if calls := r.calls("go"); len(calls) != 1 || !strings.HasPrefix(calls[0], "build ") || !strings.HasSuffix(calls[0], "-o "+r.bin+" .") {
		t.Errorf("go was called as %q, want one build -o %s", calls, r.bin)
	}
	r.wantCalls("systemctl",
		"--user daemon-reload",
		"--user enable claude-otel-gw.service",
		"--user restart claude-otel-gw.service")

	// Installing again with the binary newer than every source does not build: this is
	// what lets "sudo make install-system" follow "make build" without a toolchain.
	future := time.Now().Add(24 * time.Hour)
	if err := os.Chtimes(r.bin, future, future); err != nil {
		t.Fatal(err)
	}
	r.make("install-user", "UNAME_S=Linux")
	r.wantCalls("go")
	r.calls("systemctl")
	// And a source newer than the binary does.
	if err := os.Chtimes(r.bin, time.Unix(0, 0), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	r.make("install-user", "UNAME_S=Linux")
	if calls := r.calls("go"); len(calls) != 1 {
		t.Errorf("a stale binary was not rebuilt: go called %d times", len(calls))
	}
	r.calls("systemctl")

	config := filepath.Join(r.home, ".config/claude-otel-gw/config.toml")
	state := filepath.Join(r.home, ".local/state/claude-otel-gw/telemetry/logs.jsonl")
	keep(t, config)
	keep(t, state)
	r.make("uninstall-user", "UNAME_S=Linux")
	wantGone(t, binary, unitFile)
	wantFile(t, config, 0o600, "mine\n")
	wantFile(t, state, 0o600, "mine\n")
	r.wantCalls("systemctl",
		"--user disable --now claude-otel-gw.service",
		"--user daemon-reload")
}

func TestInstallUserHonoursXDGConfigHome(t *testing.T) {
	r := newInstallRun(t)
	configHome := filepath.Join(r.home, "cfg")
	r.make("install-user", "UNAME_S=Linux", "XDG_CONFIG_HOME="+configHome)
	wantFile(t, filepath.Join(configHome, "systemd/user/claude-otel-gw.service"), 0o644, readFile(t, userUnit))
}

func TestInstallUserLaunchd(t *testing.T) {
	r := newInstallRun(t)
	r.make("install-user", "UNAME_S=Darwin")

	binary := filepath.Join(r.home, ".local/bin/claude-otel-gw")
	plistFile := filepath.Join(r.home, "Library/LaunchAgents/dev.claude-otel-gw.agent.plist")
	logDir := filepath.Join(r.home, "Library/Logs/claude-otel-gw")
	wantFile(t, binary, 0o755, fakeBinary)
	if info, err := os.Stat(logDir); err != nil || !info.IsDir() {
		t.Errorf("log folder %s not made (launchd does not make it): %v", logDir, err)
	}
	p := loadPlist(t, plistFile)
	if info, err := os.Stat(plistFile); err != nil || info.Mode() != 0o644 {
		t.Errorf("%s: %v, want mode 0644", plistFile, err)
	}
	if args := field(t, p, "ProgramArguments", "array").items; len(args) != 1 || args[0].text != binary {
		t.Errorf("ProgramArguments %+v, want just %s", args, binary)
	}
	for _, key := range []string{"StandardOutPath", "StandardErrorPath"} {
		if got, want := field(t, p, key, "string").text, filepath.Join(logDir, "claude-otel-gw.log"); got != want {
			t.Errorf("%s %q, want %q", key, got, want)
		}
	}
	if strings.Contains(readFile(t, plistFile), "__HOME__") {
		t.Error("__HOME__ left in the installed agent")
	}

	domain := "gui/" + strconv.Itoa(os.Getuid())
	r.wantCalls("launchctl",
		"bootout "+domain+"/dev.claude-otel-gw.agent",
		"enable "+domain+"/dev.claude-otel-gw.agent",
		"bootstrap "+domain+" "+plistFile)
	r.wantCalls("systemctl")

	r.make("uninstall-user", "UNAME_S=Darwin")
	wantGone(t, binary, plistFile)
	r.wantCalls("launchctl", "bootout "+domain+"/dev.claude-otel-gw.agent")
}

// With DESTDIR the files are staged and no service manager is asked to do anything.
func TestInstallUserStagedStartsNothing(t *testing.T) {
	for _, system := range []string{"Linux", "Darwin"} {
		t.Run(system, func(t *testing.T) {
			r := newInstallRun(t)
			r.make("install-user", "UNAME_S="+system, "DESTDIR="+r.destdir)
			wantFile(t, filepath.Join(r.destdir, r.home, ".local/bin/claude-otel-gw"), 0o755, fakeBinary)
			r.wantCalls("systemctl")
			r.wantCalls("launchctl")
		})
	}
}

func TestInstallSystemSystemd(t *testing.T) {
	r := newInstallRun(t)
	out := r.make("install-system", "UNAME_S=Linux", "DESTDIR="+r.destdir, "PREFIX=/usr")

	binary := filepath.Join(r.destdir, "usr/bin/claude-otel-gw")
	unitFile := filepath.Join(r.destdir, "etc/systemd/system/claude-otel-gw.service")
	config := filepath.Join(r.destdir, "etc/claude-otel-gw/config.toml")
	wantFile(t, binary, 0o755, fakeBinary)
	// The unit runs the binary where PREFIX put it.
	wantFile(t, unitFile, 0o644, strings.Replace(readFile(t, systemUnit),
		"ExecStart=/usr/local/bin/claude-otel-gw ", "ExecStart=/usr/bin/claude-otel-gw ", 1))
	// The config must be readable by the unit's transient user.
	wantFile(t, config, 0o644, readFile(t, filepath.Join(r.root, "config.toml.example")))
	for _, want := range []string{"systemctl daemon-reload", "systemctl enable --now claude-otel-gw.service"} {
		if !strings.Contains(out, want) {
			t.Errorf("install-system does not say to run %q:\n%s", want, out)
		}
	}
	r.wantCalls("systemctl")

	// An existing config is the operator's: installing again leaves it as it is.
	if err := os.WriteFile(config, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.make("install-system", "UNAME_S=Linux", "DESTDIR="+r.destdir, "PREFIX=/usr")
	wantFile(t, config, 0o644, "# edited\n")

	r.make("uninstall-system", "UNAME_S=Linux", "DESTDIR="+r.destdir, "PREFIX=/usr")
	wantGone(t, binary, unitFile)
	wantFile(t, config, 0o644, "# edited\n")
	r.wantCalls("systemctl")
}

// Without DESTDIR, uninstalling stops the service before removing its files.
func TestUninstallSystemStopsTheService(t *testing.T) {
	r := newInstallRun(t)
	// BINDIR and the unit folder are fixed paths; point BINDIR at scratch and check only the
	// calls, as the unit file under /etc is not this test's to remove.
	r.make("uninstall-system", "UNAME_S=Linux", "BINDIR="+filepath.Join(r.home, "bin"), "SYSTEM_UNITDIR="+filepath.Join(r.home, "units"))
	r.wantCalls("systemctl", "disable --now claude-otel-gw.service", "daemon-reload")
	r.make("uninstall-system", "UNAME_S=Darwin", "BINDIR="+filepath.Join(r.home, "bin"), "DAEMON_DIR="+filepath.Join(r.home, "daemons"))
	r.wantCalls("launchctl", "bootout system/dev.claude-otel-gw.daemon")
}

func TestInstallSystemLaunchd(t *testing.T) {
	r := newInstallRun(t)
	out := r.make("install-system", "UNAME_S=Darwin", "DESTDIR="+r.destdir)

	binary := filepath.Join(r.destdir, "usr/local/bin/claude-otel-gw")
	plistFile := filepath.Join(r.destdir, "Library/LaunchDaemons/dev.claude-otel-gw.daemon.plist")
	config := filepath.Join(r.destdir, "Library/Application Support/claude-otel-gw/config.toml")
	wantFile(t, binary, 0o755, fakeBinary)
	wantFile(t, plistFile, 0o644, readFile(t, daemonPlist))
	// Read by root alone, which the daemon runs as.
	wantFile(t, config, 0o600, readFile(t, filepath.Join(r.root, "config.toml.example")))
	if want := "launchctl bootstrap system /Library/LaunchDaemons/dev.claude-otel-gw.daemon.plist"; !strings.Contains(out, want) {
		t.Errorf("install-system does not say to run %q:\n%s", want, out)
	}
	r.wantCalls("launchctl")

	r.make("uninstall-system", "UNAME_S=Darwin", "DESTDIR="+r.destdir)
	wantGone(t, binary, plistFile)
	wantFile(t, config, 0o600, readFile(t, filepath.Join(r.root, "config.toml.example")))
	r.wantCalls("launchctl")
}
