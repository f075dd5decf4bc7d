package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
)

// binary is the gateway built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "claude-otel-gw-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "claude-otel-gw")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gobin, "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// emptyHome returns an environment whose HOME and XDG folders are fresh and empty.
func emptyHome(t *testing.T) (env []string, home string) {
	home = t.TempDir()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "HOME" || strings.HasPrefix(k, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"),
	), home
}

func runBinary(t *testing.T, env []string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := runBinary(t, os.Environ(), "", "--version")
	if code != 0 || !strings.HasPrefix(out, "claude-otel-gw ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestCheck(t *testing.T) {
	env, home := emptyHome(t)
	if code, out, errs := runBinary(t, env, "", "--check", "--config", "config.toml.example"); code != 0 {
		t.Errorf("--check config.toml.example: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runBinary(t, env, "", "--check"); code != 0 || !strings.Contains(out, "<embedded default>") {
		t.Errorf("--check with no config: exit %d\n%s%s", code, out, errs)
	}
	// Checking touches nothing: not even the state dir the file sink would write in.
	if _, err := os.Stat(filepath.Join(home, ".local", "state")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("--check created the state dir (%v)", err)
	}
	bad := filepath.Join(home, "bad.toml")
	os.WriteFile(bad, []byte("[ingest]\ngrpc_listen = \"127.0.0.1:4317\"\nhttp_lisen = \"127.0.0.1:4318\"\n\n[[route]]\nname = \"r\"\nsinks = [\"nowhere\"]\n"), 0o600)
	code, _, errs := runBinary(t, env, "", "--check", "--config", bad)
	if code != 1 {
		t.Errorf("--check on a bad config: exit %d, want 1", code)
	}
	for _, want := range []string{bad + ":3:1: ingest.http_lisen: unknown key", `sink "nowhere" is not defined`} {
		if !strings.Contains(errs, want) {
			t.Errorf("--check output lacks %q:\n%s", want, errs)
		}
	}
}

func TestPrintConfigRoundTrip(t *testing.T) {
	env, home := emptyHome(t)
	code, out, errs := runBinary(t, env, "", "--print-config")
	if code != 0 {
		t.Fatalf("--print-config: exit %d: %s", code, errs)
	}
	for _, want := range []string{`grpc_listen = "127.0.0.1:4317"`, "[sink.local]", filepath.Join(home, ".local", "state", "claude-otel-gw")} {
		if !strings.Contains(out, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, out)
		}
	}
	printed := filepath.Join(home, "printed.toml")
	os.WriteFile(printed, []byte(out), 0o600)
	if code, _, errs := runBinary(t, env, "", "--check", "--config", printed); code != 0 {
		t.Errorf("the printed config does not pass --check: %s", errs)
	}
}

func TestRedactDryRun(t *testing.T) {
	env, _ := emptyHome(t)
	code, out, errs := runBinary(t, env, "mail jane.doe@example.com the key AKIAIOSFODNN7EXAMPLE\n", "--redact")
	if code != 0 {
		t.Fatalf("--redact: exit %d: %s", code, errs)
	}
	if want := "mail [REDACTED:email] the key [REDACTED:cloud_key]\n"; out != want {
		t.Errorf("--redact wrote %q, want %q", out, want)
	}
}

func TestClaudeSettings(t *testing.T) {
	env, home := emptyHome(t)
	token := filepath.Join(home, "token")
	os.WriteFile(token, []byte("tok-123\n"), 0o600)
	cfg := filepath.Join(home, "gw.toml")
	os.WriteFile(cfg, []byte(`[ingest]
grpc_listen = ""
http_listen = "127.0.0.1:14318"
bearer_token_file = "token"
[[route]]
name = "all"
sinks = ["local"]
[sink.local]
type = "file"
`), 0o600)
	code, out, errs := runBinary(t, env, "", "--claude-settings", "--config", cfg, "--with-token")
	if code != 0 {
		t.Fatalf("--claude-settings: exit %d: %s", code, errs)
	}
	var settings struct{ Env map[string]string }
	if err := json.Unmarshal([]byte(out), &settings); err != nil {
		t.Fatalf("--claude-settings printed something other than JSON: %v\n%s", err, out)
	}
	for k, v := range map[string]string{
		"CLAUDE_CODE_ENABLE_TELEMETRY": "1",
		"OTEL_EXPORTER_OTLP_PROTOCOL":  "http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT":  "http://127.0.0.1:14318",
		"OTEL_EXPORTER_OTLP_HEADERS":   "Authorization=Bearer tok-123",
		"OTEL_TRACES_EXPORTER":         "otlp",
	} {
		if settings.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, settings.Env[k], v)
		}
	}
	if !strings.Contains(errs, "note:") {
		t.Errorf("no note on protecting the token: %q", errs)
	}
	if code, _, errs := runBinary(t, env, "", "--claude-settings", "--config", cfg, "--protocol", "grpc"); code != 1 || !strings.Contains(errs, "grpc_listen is off") {
		t.Errorf("--protocol grpc with gRPC off: exit %d: %s", code, errs)
	}
	if code, _, _ := runBinary(t, env, "", "--with-token"); code != 2 {
		t.Errorf("--with-token alone: exit %d, want 2", code)
	}
}

// TestEmbeddedDefault runs the binary as a newcomer would, with no config in an empty HOME, on
// the default ports, replays every captured request, stops it with SIGTERM and checks the state
// dir.
func TestEmbeddedDefault(t *testing.T) {
	env, home := emptyHome(t)
	for _, addr := range []string{"127.0.0.1:4317", "127.0.0.1:4318", "127.0.0.1:9317"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("the default address %s is taken (is a gateway already running?): %v", addr, err)
		}
		ln.Close()
	}
	cmd := exec.Command(binary)
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	waitReady(t, "http://127.0.0.1:9317/readyz", exited, &logs)

	payloads, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	c, err := capture.NewClient("127.0.0.1:4317", "http://127.0.0.1:4318")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := map[telemetry.Signal]int{}
	var spanIDs []string
	for _, p := range payloads {
		if err := c.Send(ctx, p); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		want[p.Signal] += p.Request.Records()
		if p.Request.Traces != nil {
			for _, rs := range p.Request.Traces.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					for _, sp := range ss.Spans {
						spanIDs = append(spanIDs, hex.EncodeToString(sp.TraceId)+"/"+hex.EncodeToString(sp.SpanId))
					}
				}
			}
		}
	}

	stopped := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15s after SIGTERM\n%s", logs.String())
	}
	t.Logf("stopped %v after SIGTERM", time.Since(stopped).Round(time.Millisecond))

	state := filepath.Join(home, ".local", "state", "claude-otel-gw")
	out, err := capture.ReadFileSink(filepath.Join(state, "telemetry"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range telemetry.Signals {
		if got := out.Records(sig); got != want[sig] {
			t.Errorf("%s: %d records under the state dir, %d sent", sig, got, want[sig])
		}
	}
	var gotIDs []string
	for _, r := range out.Requests[telemetry.Traces] {
		for _, rs := range r.Traces.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					gotIDs = append(gotIDs, hex.EncodeToString(sp.TraceId)+"/"+hex.EncodeToString(sp.SpanId))
				}
			}
		}
	}
	if strings.Join(gotIDs, " ") != strings.Join(spanIDs, " ") {
		t.Errorf("span ids written:\n%v\nsent:\n%v", gotIDs, spanIDs)
	}

	// Nothing anywhere under the state dir may hold the captured personal data and secrets.
	err = filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if perm := info.Mode().Perm(); perm != 0o700 {
				t.Errorf("%s: mode %v, want 0700", path, perm)
			}
			return nil
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path, perm)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return err
			}
			if data, err = io.ReadAll(zr); err != nil {
				return err
			}
		}
		for _, s := range capture.Secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func waitReady(t *testing.T, url string, exited <-chan error, logs *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("gateway exited at start: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not ready after 20s\n%s", logs.String())
}

// --check validates the Google sinks offline: no credentials, no network, yet a config of all
// four passes; a credentials file that is not one is named, without its content.
func TestCheckGoogleSinksOffline(t *testing.T) {
	env, home := emptyHome(t)
	key := filepath.Join(home, "gcp-key.json")
	config := filepath.Join(home, "gcp.toml")
	body := fmt.Sprintf(`
[[route]]
name = "gcp"
sinks = ["logs", "metrics", "traces"]
[[route]]
name = "audit"
redaction = "none"
sinks = ["audit"]
[sink.audit]
type = "gcs"
bucket = "acme-claude-audit"
retention_days = 30
credentials_file = %q
[sink.logs]
type = "cloud_logging"
project = "acme-prod"
credentials_file = %q
[sink.metrics]
type = "cloud_monitoring"
project = "acme-prod"
[sink.traces]
type = "cloud_trace"
project = "acme-prod"
`, key, key)
	os.WriteFile(config, []byte(body), 0o600)
	os.WriteFile(key, []byte(`{"type": "service_account", "project_id": "acme-prod", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n"}`), 0o600)
	if code, out, errs := runBinary(t, env, "", "--check", "--config", config); code != 0 || !strings.Contains(out, ": ok") {
		t.Errorf("--check on the Google sinks: exit %d\n%s%s", code, out, errs)
	}
	os.WriteFile(key, []byte(`{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEv"}`), 0o600)
	code, _, errs := runBinary(t, env, "", "--check", "--config", config)
	if code != 1 || !strings.Contains(errs, `no "type" field`) || !strings.Contains(errs, "sink.audit") {
		t.Errorf("--check with a credentials file that is not one: exit %d\n%s", code, errs)
	}
	if strings.Contains(errs, "MIIEv") {
		t.Errorf("--check quoted the credentials file:\n%s", errs)
	}
	os.Chmod(key, 0o644)
	if code, _, errs := runBinary(t, env, "", "--check", "--config", config); code != 1 || !strings.Contains(errs, "readable by others") {
		t.Errorf("--check with a credentials file others can read: exit %d\n%s", code, errs)
	}
}
