package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the .err golden files of testdata/config/bad")

const testdataDir = "../testdata/config"

// testEnv gives the file tests a fixed environment: a home folder of their own, a state dir
// that does not depend on the machine, and the variables the env.toml files use.
func testEnv(t *testing.T) (home string) {
	home = t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "/var/lib/gw-test-state")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg-config"))
	t.Setenv("GW_TEST_STATE", "/srv/gw-state")
	t.Setenv("GW_TEST_KEY", "prompt")
	t.Setenv("GW_TEST_EMPTY", "")
	t.Setenv("GW_TEST_TEAM", "platform")
	t.Setenv("GW_TEST_SIZE", "2MiB")
	unsetenv(t, "GW_TEST_UNSET")
	unsetenv(t, "GW_TEST_UNSET_TOO")
	return home
}

// unsetenv removes a variable for the length of the test; t.Setenv restores it afterwards.
func unsetenv(t *testing.T, name string) {
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

const testState = "/var/lib/gw-test-state/claude-otel-gw"

// goodFiles says, for each file in testdata/config/good, what its effective config must hold.
var goodFiles = map[string]func(t *testing.T, c *Config, dir, home string){
	"minimal.toml": func(t *testing.T, c *Config, dir, home string) {
		want := &Config{
			ShutdownTimeout: Duration(10 * time.Second),
			Ingest: Ingest{
				GRPCListen:        "127.0.0.1:4317",
				HTTPListen:        "127.0.0.1:4318",
				MaxRequestBytes:   16 << 20,
				MaxNestingDepth:   32,
				ReadHeaderTimeout: Duration(10 * time.Second),
				ReadTimeout:       Duration(30 * time.Second),
				IdleTimeout:       Duration(2 * time.Minute),
			},
			Admin: Admin{Listen: "127.0.0.1:9317"},
			State: State{Dir: testState},
			Log:   Log{Level: "info", Format: "text"},
			Redaction: map[string]*Redaction{
				"default": {Detectors: Detectors, Action: "mask"},
			},
			Routes: []*Route{{
				Name:      "all",
				Signals:   []string{"logs", "metrics", "traces"},
				Redaction: "default",
				Sinks:     []string{"local"},
			}},
			Sinks: map[string]*Sink{
				"local": {
					Type:         "file",
					Path:         testState + "/telemetry",
					MaxFileBytes: 64 << 20,
					MaxFileAge:   Duration(time.Hour),
					Compress:     new(true),
					MaxAge:       Duration(7 * 24 * time.Hour),
					Queue:        Queue{MaxBytes: 64 << 20, WhenFull: "refuse", Workers: 1},
					Batch:        Batch{MaxRecords: 1000, MaxBytes: 4 << 20},
					Retry: Retry{InitialInterval: Duration(time.Second), MaxInterval: Duration(30 * time.Second),
						AttemptTimeout: Duration(30 * time.Second)},
				},
			},
		}
		assertEqual(t, c, want)
	},
	"full.toml": func(t *testing.T, c *Config, dir, home string) {
		check(t, "shutdown_timeout", c.ShutdownTimeout, Duration(45*time.Second))
		check(t, "grpc_listen", c.Ingest.GRPCListen, "")
		check(t, "http_listen", c.Ingest.HTTPListen, "localhost:14318")
		check(t, "max_request_bytes", c.Ingest.MaxRequestBytes, ByteSize(1<<20))
		check(t, "max_nesting_depth", c.Ingest.MaxNestingDepth, 8)
		check(t, "read_timeout", c.Ingest.ReadTimeout, Duration(90*time.Second))
		check(t, "idle_timeout", c.Ingest.IdleTimeout, Duration(500*time.Millisecond))
		check(t, "admin.listen", c.Admin.Listen, "[::1]:19317")
		check(t, "state.dir", c.State.Dir, filepath.Join(home, "gw-state"))
		check(t, "log", c.Log, Log{Level: "debug", Format: "json"})
		strict := c.Redaction["strict"]
		check(t, "strict.detectors", strict.Detectors, []string{"email", "ip", "jwt"})
		check(t, "strict.hash_key_file", strict.HashKeyFile, filepath.Join(dir, "keys/hash.key"))
		check(t, "strict.patterns", strict.Patterns, []*Pattern{
			{Name: "employee_id", Regex: `EMP-[0-9]{6}`},
			{Name: "ticket", Regex: `\bJIRA-\d+\b`},
		})
		check(t, "default profile", c.Redaction["default"], defaultProfile())
		gcp := c.Routes[0]
		check(t, "gcp.match", gcp.Match, map[string]Value{
			"event.name": {Text: "user_prompt", Kind: StringValue},
			"team":       {Text: "platform", Kind: StringValue},
		})
		check(t, "gcp.drop", gcp.Drop, []*DropRule{
			{Name: "claude_code.tool.blocked_on_user"},
			{Attribute: "full_command", Contains: "vault read"},
			{Name: "tool_result", Attribute: "success", Equals: &Value{Text: "false", Kind: BoolValue}},
		})
		check(t, "audit", c.Routes[1], &Route{Name: "audit", Signals: []string{"logs"}, Redaction: "none", Sinks: []string{"archive"}})
		local := c.Sinks["local"]
		check(t, "local.path", local.Path, "/var/tmp/gw/local")
		check(t, "local.max_file_age written as 0", local.MaxFileAge, Duration(0))
		check(t, "local.max_age written as 0", local.MaxAge, Duration(0))
		check(t, "local.compress", *local.Compress, false)
		check(t, "local.queue", local.Queue, Queue{MaxBytes: 512_000, WhenFull: "drop_oldest", Workers: 1})
		check(t, "local.retry", local.Retry, Retry{
			InitialInterval: Duration(250 * time.Millisecond),
			MaxInterval:     Duration(time.Minute),
			MaxElapsed:      Duration(10 * time.Minute),
			AttemptTimeout:  Duration(30 * time.Second),
		})
		check(t, "archive.path", c.Sinks["archive"].Path, filepath.Join(dir, "archive"))
		check(t, "archive.max_age", c.Sinks["archive"].MaxAge, Duration(7*24*time.Hour))
	},
	"otlp.toml": func(t *testing.T, c *Config, dir, home string) {
		dx, prom := c.Sinks["dx"], c.Sinks["prom"]
		check(t, "dx.protocol", dx.Protocol, "http/protobuf")
		check(t, "dx.compression", dx.Compression, "none")
		check(t, "dx.queue", dx.Queue, Queue{Durable: true, MaxBytes: 1 << 30, WhenFull: "refuse",
			Workers: 4})
		check(t, "dx.batch", dx.Batch, Batch{MaxRecords: 1000, MaxBytes: 4 << 20, MaxWait: Duration(200 * time.Millisecond)})
		check(t, "prom.listen", prom.Listen, "127.0.0.1:9464")
		check(t, "prom.labels", prom.Labels, []string{"user.id", "model", "type", "decision", "tool_name"})
		check(t, "prom.queue", prom.Queue, Queue{MaxBytes: 64 << 20, WhenFull: "refuse",
			Workers: 1})
	},
	"google.toml": func(t *testing.T, c *Config, dir, home string) {
		audit, logs, metrics, traces := c.Sinks["audit"], c.Sinks["gcp_logs"], c.Sinks["gcp_metrics"], c.Sinks["gcp_traces"]
		check(t, "audit.prefix", audit.Prefix, "claude-code")
		check(t, "audit.retention_days", audit.RetentionDays, 30)
		check(t, "audit.batch", audit.Batch, Batch{MaxRecords: 1_000_000, MaxBytes: 16 << 20, MaxWait: Duration(5 * time.Minute)})
		check(t, "audit.queue", audit.Queue, Queue{Durable: true, MaxBytes: 1 << 30, WhenFull: "refuse", Workers: 4})
		check(t, "logs.log_name", logs.LogName, "claude_code")
		check(t, "logs.labels", logs.Labels, []string{"event.name", "session.id"})
		check(t, "logs.resource", []string{logs.Resource, logs.Location, logs.Namespace, logs.NodeID}, []string{"generic_node", "global", "claude-code", ""})
		check(t, "logs.queue.durable", logs.Queue.Durable, true)
		check(t, "metrics.metric_prefix", metrics.MetricPrefix, "workload.googleapis.com/")
		check(t, "metrics.drop_labels", metrics.DropLabels, []string{"session.id", "user.account_uuid"})
		check(t, "metrics.write_interval", metrics.WriteInterval, Duration(10*time.Second))
		check(t, "metrics.queue.workers", metrics.Queue.Workers, 1)
		check(t, "traces.endpoint", traces.Endpoint, "127.0.0.1:8085")
		check(t, "traces.insecure", traces.Insecure, true)
		check(t, "traces.project", traces.Project, "test-project")
	},
	"inline.toml": func(t *testing.T, c *Config, dir, home string) {
		check(t, "routes", len(c.Routes), 2)
		check(t, "events.drop", c.Routes[1].Drop, []*DropRule{{Name: "api_*"}})
		check(t, "events.signals", c.Routes[1].Signals, []string{"logs"})
		check(t, "local.queue", c.Sinks["local"].Queue, Queue{MaxBytes: 1 << 20, WhenFull: "refuse", Workers: 1})
		check(t, "local.retry", c.Sinks["local"].Retry, Retry{InitialInterval: Duration(2 * time.Second), MaxInterval: Duration(4 * time.Second),
			AttemptTimeout: Duration(30 * time.Second)})
		check(t, "local.max_file_bytes", c.Sinks["local"].MaxFileBytes, ByteSize(64<<20))
		check(t, "grpc_listen", c.Ingest.GRPCListen, "127.0.0.2:4317")
		check(t, "pii-only", c.Redaction["pii-only"], &Redaction{
			Detectors: []string{"email", "phone"},
			Action:    "mask",
			Patterns:  []*Pattern{{Name: "badge", Regex: "B-[0-9]+"}},
		})
	},
	"subtable.toml": func(t *testing.T, c *Config, dir, home string) {
		check(t, "first.match", c.Routes[0].Match, map[string]Value(nil))
		check(t, "second.match", c.Routes[1].Match, map[string]Value{
			"service.name":   {Text: "claude-code", Kind: StringValue},
			"event.sequence": {Text: "3", Kind: IntValue},
			"ratio":          {Text: "0.5", Kind: FloatValue},
			"whole":          {Text: "2", Kind: FloatValue},
			"enabled":        {Text: "true", Kind: BoolValue},
		})
		check(t, "second.drop", c.Routes[1].Drop, []*DropRule{{Attribute: "model", Equals: &Value{Text: "claude-haiku"}}})
		check(t, "first.drop", c.Routes[0].Drop, []*DropRule(nil))
		check(t, "local.queue.max_bytes", c.Sinks["local"].Queue.MaxBytes, ByteSize(1<<30))
		check(t, "local.type", c.Sinks["local"].Type, "file")
	},
	"env.toml": func(t *testing.T, c *Config, dir, home string) {
		check(t, "state.dir", c.State.Dir, "/srv/gw-state")
		check(t, "drop_keys", c.Redaction["default"].DropKeys, []string{"prompt", "user.email"})
		check(t, "pattern", c.Redaction["default"].Patterns[0].Regex, `^cost: \$[0-9]+$`)
		check(t, "route name", c.Routes[0].Name, "fallback")
		check(t, "match", c.Routes[0].Match, map[string]Value{
			"team":    {Text: "platform"},
			"literal": {Text: "${NOT_EXPANDED}"},
			"price":   {Text: "$5"},
		})
		check(t, "sink path", c.Sinks["local"].Path, filepath.Join(home, "telemetry"))
		check(t, "max_age", c.Sinks["local"].MaxAge, Duration(3*24*time.Hour))
		check(t, "queue", c.Sinks["local"].Queue.MaxBytes, ByteSize(2<<20))
	},
	"off.toml": func(t *testing.T, c *Config, dir, home string) {
		check(t, "grpc_listen", c.Ingest.GRPCListen, "")
		check(t, "http_listen", c.Ingest.HTTPListen, "127.0.0.1:4318")
		check(t, "admin.listen", c.Admin.Listen, "")
		check(t, "sink path", c.Sinks["local"].Path, testState+"/telemetry")
	},
	"remote.toml": func(t *testing.T, c *Config, dir, home string) {
		check(t, "grpc_listen", c.Ingest.GRPCListen, "0.0.0.0:4317")
		check(t, "allow_insecure_remote", c.Ingest.AllowInsecureRemote, true)
		check(t, "admin.listen", c.Admin.Listen, "127.0.0.1:0")
	},
	"default_profile.toml": func(t *testing.T, c *Config, dir, home string) {
		check(t, "default", c.Redaction["default"], &Redaction{
			Detectors:   Detectors,
			Action:      "hash",
			HashKeyFile: filepath.Join(dir, "keys/hash.key"),
		})
		check(t, "keys-only", c.Redaction["keys-only"], &Redaction{Action: "mask", DropKeys: []string{"user.email"}})
	},
}

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %s, want %s", what, show(got), show(want))
	}
}

// show prints a value with what its pointers point at.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// assertEqual compares two configs by what they hold, leaving out where they came from.
func assertEqual(t *testing.T, got, want *Config) {
	t.Helper()
	g, w := *got, *want
	g.Source, w.Source = "", ""
	g.pos, w.pos = nil, nil
	if !reflect.DeepEqual(&g, &w) {
		var gb, wb bytes.Buffer
		_ = g.Print(&gb)
		_ = w.Print(&wb)
		t.Errorf("configs differ:\n--- got\n%s\n--- want\n%s", gb.String(), wb.String())
	}
}

func TestGoodConfigs(t *testing.T) {
	home := testEnv(t)
	dir, err := filepath.Abs(filepath.Join(testdataDir, "good"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no good configs in %s: %v", dir, err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			assertions, ok := goodFiles[name]
			if !ok {
				t.Fatalf("%s has no entry in goodFiles: say what it must load as", name)
			}
			c, err := Load(file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			check(t, "Source", c.Source, file)
			assertions(t, c, dir, home)
		})
	}
}

func TestBadConfigs(t *testing.T) {
	testEnv(t)
	// Errors name the file as it was given to Load; loading from inside the folder keeps the
	// golden files free of the machine's paths.
	t.Chdir(filepath.Join(testdataDir, "bad"))
	files, err := filepath.Glob("*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			c, err := Load(name)
			if err == nil {
				t.Fatalf("Load succeeded, want errors; it loaded %+v", c)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load returned %T (%v), want Errors", err, err)
			}
			for _, e := range errs {
				if e.File != name {
					t.Errorf("error %q names file %q, want %q", e.Error(), e.File, name)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(name, ".toml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
	// A golden file whose config is gone would test nothing.
	goldens, _ := filepath.Glob("*.err")
	for _, g := range goldens {
		if !slices.Contains(files, strings.TrimSuffix(g, ".err")+".toml") {
			t.Errorf("%s has no config next to it", g)
		}
	}
}
