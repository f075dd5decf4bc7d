package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestEmbedded(t *testing.T) {
	testEnv(t)
	c, err := Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	check(t, "Source", c.Source, EmbeddedName)
	check(t, "grpc_listen", c.Ingest.GRPCListen, "127.0.0.1:4317")
	check(t, "http_listen", c.Ingest.HTTPListen, "127.0.0.1:4318")
	check(t, "admin.listen", c.Admin.Listen, "127.0.0.1:9317")
	check(t, "profiles", len(c.Redaction), 1)
	check(t, "default profile", c.Redaction[DefaultProfile], defaultProfile())
	check(t, "routes", c.Routes, []*Route{{
		Name:      "local",
		Signals:   []string{"logs", "metrics", "traces"},
		Redaction: DefaultProfile,
		Sinks:     []string{"local"},
	}})
	check(t, "sinks", len(c.Sinks), 1)
	check(t, "sink", c.Sinks["local"], defaultSink("file", testState))
}

// The embedded default's problems have no place a user could open, so they carry none.
func TestEmbeddedErrorsHaveNoPosition(t *testing.T) {
	testEnv(t)
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	check(t, "Errorf", c.Errorf("sink.local.path", "cannot create: %s", "read-only file system").Error(),
		"<embedded default>: sink.local.path: cannot create: read-only file system")
	_, err = Parse(EmbeddedName, []byte("[log]\nlevel = \"loud\"\n[[route]]\nname = \"x\"\nsinks = [\"local\"]\n[sink.local]\ntype = \"file\"\n"))
	check(t, "error", errorText(err), `<embedded default>: log.level: want debug, info, warn or error ("loud")`)
}

func errorText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

const exampleFile = "../config.toml.example"

// The example shows every key at its default, so it must run exactly like the embedded
// default.
func TestExampleIsTheEmbeddedDefault(t *testing.T) {
	testEnv(t)
	c, err := Load(exampleFile)
	if err != nil {
		t.Fatalf("Load(%s):\n%v", exampleFile, err)
	}
	embedded, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, c, embedded)
}

// Every key of the schema appears in the example, written or as a commented example.
func TestExampleHasEveryKey(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	text := uncomment(string(data))
	var missing []string
	var walk func(rt reflect.Type, path string)
	walk = func(rt reflect.Type, path string) {
		fs := fieldsOf(rt)
		for _, name := range fs.names {
			key := joinKey(path, name)
			n := regexp.QuoteMeta(name)
			// name = ..., or a [header] or [[header]] naming it.
			shown := regexp.MustCompile(`(?m)^\s*(` + n + `\s*=|\[+[^\]]*\b` + n + `\b[^\]]*\]+)`)
			if !shown.MatchString(text) {
				missing = append(missing, key)
			}
			ft := rt.Field(fs.index[name]).Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			if isTableType(ft) {
				walk(ft, key)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	if len(missing) > 0 {
		t.Errorf("%s does not show %s", exampleFile, strings.Join(missing, ", "))
	}
}

// The commented examples in the example file must be valid too: uncommented, the file still
// loads, with everything the examples add.
func TestExampleExamplesLoad(t *testing.T) {
	home := testEnv(t)
	keyDir := filepath.Join(home, ".config", "claude-otel-gw")
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keyDir, "hash.key"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	unsetenv(t, "CLAUDE_AUDIT_DIR")
	t.Setenv("DX_API_KEY", "dx-key")
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("uncommented.toml", []byte(uncomment(string(data))))
	if err != nil {
		t.Fatalf("the example, uncommented:\n%v", err)
	}
	check(t, "routes", len(c.Routes), 5)
	check(t, "local.drop", len(c.Routes[0].Drop), 2)
	check(t, "gcp.drop", c.Routes[1].Drop, []*DropRule{{Name: "claude_code.tool.blocked_on_user"}})
	check(t, "gcp.sinks", c.Routes[1].Sinks, []string{"gcp_logs", "gcp_metrics", "gcp_traces"})
	check(t, "audit.redaction", c.Routes[2].Redaction, "none")
	check(t, "dx.names", c.Routes[3].Names, []string{"claude_code.*"})
	check(t, "audit.type", c.Sinks["audit"].Type, "gcs")
	check(t, "audit.retention_days", c.Sinks["audit"].RetentionDays, 30)
	check(t, "audit.kms_key", c.Sinks["audit"].KMSKey, "projects/acme-prod/locations/us/keyRings/claude/cryptoKeys/audit")
	check(t, "gcp_logs.type", c.Sinks["gcp_logs"].Type, "cloud_logging")
	check(t, "gcp_metrics.type", c.Sinks["gcp_metrics"].Type, "cloud_monitoring")
	check(t, "gcp_traces.type", c.Sinks["gcp_traces"].Type, "cloud_trace")
	check(t, "dx.protocol", c.Sinks["dx"].Protocol, "http/protobuf")
	check(t, "dx.headers", c.Sinks["dx"].Headers, map[string]Secret{"x-api-key": "dx-key"})
	check(t, "dx.queue.durable", c.Sinks["dx"].Queue.Durable, true)
	check(t, "usage.listen", c.Sinks["usage"].Listen, "127.0.0.1:9464")
	check(t, "platform-prompts.match", c.Routes[4].Match, map[string]Value{"team": {Text: "platform"}})
	check(t, "strict.action", c.Redaction["strict"].Action, "hash")
	check(t, "default.patterns", c.Redaction["default"].Patterns, []*Pattern{{Name: "employee_id", Regex: `EMP-[0-9]{6}`}})
	check(t, "platform.path", c.Sinks["platform"].Path, filepath.Join(home, "claude-audit"))
}

// uncomment turns the example's "# " lines into TOML, leaving "##" prose as comments.
func uncomment(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "# "); ok {
			lines[i] = rest
		}
	}
	return strings.Join(lines, "\n")
}

// Print writes what parses back to the same config, for every good config, the embedded
// default and the example.
func TestPrintRoundTrip(t *testing.T) {
	testEnv(t)
	files, _ := filepath.Glob(filepath.Join(testdataDir, "good", "*.toml"))
	files = append(files, exampleFile, EmbeddedName)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var c *Config
			var err error
			if file == EmbeddedName {
				c, err = Embedded()
			} else {
				c, err = Load(file)
			}
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := c.Print(&out); err != nil {
				t.Fatal(err)
			}
			back, err := Parse("printed.toml", out.Bytes())
			if err != nil {
				t.Fatalf("printed config does not load:\n%v\n%s", err, out.String())
			}
			assertEqual(t, back, c)
			// Printing again gives the same text: nothing drifts.
			var again bytes.Buffer
			if err := back.Print(&again); err != nil {
				t.Fatal(err)
			}
			first := strings.SplitN(out.String(), "\n", 2)[1]
			second := strings.SplitN(again.String(), "\n", 2)[1]
			check(t, "printed twice", second, first)
		})
	}
}

func TestPrintShowsEffectiveValues(t *testing.T) {
	testEnv(t)
	c, err := Parse("c.toml", []byte(`
[ingest]
grpc_listen = ""
[[route]]
name = "r"
sinks = ["s"]
match = { "event.name" = "user_prompt", n = 1.0 }
[sink.s]
type = "file"
path = "/data/$${x}"
max_file_bytes = 5000
`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := c.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# claude-otel-gw effective config, from c.toml: defaults filled in, secrets masked.\n",
		"\n[ingest]\ngrpc_listen = \"\"\n",
		"\nmax_request_bytes = \"16MiB\"\n",
		"\nidle_timeout = \"2m\"\n",
		"\ndir = \"/var/lib/gw-test-state/claude-otel-gw\"\n",
		"\n[redaction.default]\ndetectors = [\"email\", ",
		"\nmatch = { \"event.name\" = \"user_prompt\", n = 1.0 }\n",
		"\n[sink.s]\ntype = \"file\"\npath = \"/data/$${x}\"\nmax_file_bytes = 5000\n",
		"\nmax_age = \"7d\"\n",
		"\n[sink.s.queue]\ndurable = false\nmax_bytes = \"64MiB\"\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed config lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLoadErrors(t *testing.T) {
	testEnv(t)
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: got %v, want fs.ErrNotExist", err)
	}

	_, err = Parse("config.toml", []byte("[ingest]\ngrpc_lisen = 1\nmax_nesting_depth = 0\n"))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %T, want Errors", err)
	}
	check(t, "errors", []*Error(errs), []*Error{
		{File: "config.toml", Line: 2, Col: 1, Key: "ingest.grpc_lisen", Msg: "unknown key (did you mean grpc_listen?)"},
		{File: "config.toml", Line: 3, Col: 21, Key: "ingest.max_nesting_depth", Msg: "must be between 1 and 256 (0)"},
		{File: "config.toml", Key: "route", Msg: "at least one [[route]] is required"},
	})
	var one *Error
	if !errors.As(err, &one) || one.Key != "ingest.grpc_lisen" {
		t.Errorf("errors.As(*Error) = %v, want the first problem", one)
	}
}

func TestErrorf(t *testing.T) {
	testEnv(t)
	c, err := Parse("config.toml", []byte(`[[route]]
name = "r"
sinks = ["local", "extra"]

[sink.local]
type = "file"

[sink.extra]
type = "file"
path = "/var/gw"
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, want string }{
		{"sink.extra.path", "config.toml:10:8: sink.extra.path: boom"},
		{"sink.extra", "config.toml:8:1: sink.extra: boom"},
		// Not written: the place of the table it belongs to.
		{"sink.local.path", "config.toml:5:1: sink.local.path: boom"},
		{"sink.local.queue.max_bytes", "config.toml:5:1: sink.local.queue.max_bytes: boom"},
		{"route[0].sinks[1]", "config.toml:3:19: route[0].sinks[1]: boom"},
		{"route[0]", "config.toml:1:1: route[0]: boom"},
		{"admin.listen", "config.toml: admin.listen: boom"},
	} {
		check(t, tc.key, c.Errorf(tc.key, "%s", "boom").Error(), tc.want)
	}
}

// Relative paths are relative to the config file, whatever the working folder.
func TestRelativePathsFollowTheConfigFile(t *testing.T) {
	testEnv(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "gw.toml")
	if err := os.WriteFile(filepath.Join(dir, "k.key"), []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := "[state]\ndir = \"state\"\n[redaction.h]\naction = \"hash\"\nhash_key_file = \"k.key\"\n" +
		"[[route]]\nname = \"r\"\nsinks = [\"a\", \"b\"]\n[sink.a]\ntype = \"file\"\n[sink.b]\ntype = \"file\"\npath = \"../b\"\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "state.dir", c.State.Dir, filepath.Join(dir, "state"))
	check(t, "sink a (default under state.dir)", c.Sinks["a"].Path, filepath.Join(dir, "state", "telemetry"))
	check(t, "sink b", c.Sinks["b"].Path, filepath.Join(filepath.Dir(dir), "b"))
	check(t, "hash_key_file", c.Redaction["h"].HashKeyFile, filepath.Join(dir, "k.key"))
}

func TestHomeUnknown(t *testing.T) {
	testEnv(t)
	t.Setenv("HOME", "")
	_, err := Parse("c.toml", []byte("[state]\ndir = \"~/gw\"\n[[route]]\nname = \"r\"\nsinks = [\"s\"]\n[sink.s]\ntype = \"file\"\n"))
	check(t, "error", errorText(err), `c.toml:2:7: state.dir: home folder is not known (set HOME) ("~/gw")`)
}

func TestNoStateDir(t *testing.T) {
	testEnv(t)
	t.Setenv("HOME", "")
	t.Setenv("XDG_STATE_HOME", "")
	_, err := Parse("c.toml", []byte("[[route]]\nname = \"r\"\nsinks = [\"s\"]\n[sink.s]\ntype = \"file\"\n"))
	check(t, "error", errorText(err), "c.toml: state.dir: not set, and there is no platform default (set HOME or XDG_STATE_HOME)")
}

// A token or private key that others can read is refused with the mode and the fix; the same
// file made owner-only loads. A certificate or CA, which is public, may be readable by all.
func TestPrivateFilesMustBeOwnerOnly(t *testing.T) {
	testEnv(t)
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("content\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	token := write("token", 0o644)
	key := write("server.key", 0o640)
	cert := write("server.pem", 0o644)
	cfg := fmt.Sprintf(`
[ingest]
tls_cert_file = %q
tls_key_file = %q
bearer_token_file = %q
[[route]]
name = "all"
sinks = ["local"]
[sink.local]
type = "file"
`, cert, key, token)
	_, err := Parse("c.toml", []byte(cfg))
	if err == nil {
		t.Fatal("config with group- and world-readable secrets loaded")
	}
	want := []string{
		"c.toml:4:16: ingest.tls_key_file: readable by others (mode 0640): a secret must be readable by its owner only; run chmod 600 on it",
		"c.toml:5:21: ingest.bearer_token_file: readable by others (mode 0644): a secret must be readable by its owner only; run chmod 600 on it",
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
	for _, p := range []string{token, key} {
		if err := os.Chmod(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Parse("c.toml", []byte(cfg)); err != nil {
		t.Fatalf("owner-only secrets refused: %v", err)
	}
}
