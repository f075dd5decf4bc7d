package claudesettings

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claude-otel-gw/config"
)

func load(t *testing.T, ingest string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("gw.toml", []byte(ingest+`
[[route]]
name = "all"
sinks = ["local"]
[sink.local]
type = "file"
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSettingsPointAtTheListener(t *testing.T) {
	for _, tc := range []struct {
		name, ingest, protocol string
		wantProtocol, wantURL  string
	}{
		{"default grpc", "", "", "grpc", "http://127.0.0.1:4317"},
		{"http", "", "http/protobuf", "http/protobuf", "http://127.0.0.1:4318"},
		{"json", "", "http/json", "http/json", "http://127.0.0.1:4318"},
		{"grpc off picks http", "[ingest]\ngrpc_listen = \"\"\nhttp_listen = \"127.0.0.1:14318\"", "", "http/protobuf", "http://127.0.0.1:14318"},
		{"ipv6 loopback", "[ingest]\ngrpc_listen = \"[::1]:4317\"", "", "grpc", "http://[::1]:4317"},
		{"wildcard reached on loopback", "[ingest]\nallow_insecure_remote = true\ngrpc_listen = \"0.0.0.0:4317\"", "", "grpc", "http://127.0.0.1:4317"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, notes, err := Build(load(t, tc.ingest), Options{Protocol: tc.protocol})
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) != 0 {
				t.Errorf("notes for a plain loopback gateway: %v", notes)
			}
			want := map[string]string{
				"CLAUDE_CODE_ENABLE_TELEMETRY":        "1",
				"OTEL_METRICS_EXPORTER":               "otlp",
				"OTEL_LOGS_EXPORTER":                  "otlp",
				"OTEL_TRACES_EXPORTER":                "otlp",
				"CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
				"OTEL_EXPORTER_OTLP_PROTOCOL":         tc.wantProtocol,
				"OTEL_EXPORTER_OTLP_ENDPOINT":         tc.wantURL,
				"OTEL_METRIC_EXPORT_INTERVAL":         "10000",
				"OTEL_LOGS_EXPORT_INTERVAL":           "5000",
			}
			if len(s.Env) != len(want) {
				t.Errorf("env has %d keys, want %d: %v", len(s.Env), len(want), s.Env)
			}
			for k, v := range want {
				if s.Env[k] != v {
					t.Errorf("%s = %q, want %q", k, s.Env[k], v)
				}
			}
			data, err := s.JSON()
			if err != nil {
				t.Fatal(err)
			}
			var back struct{ Env map[string]string }
			if err := json.Unmarshal(data, &back); err != nil || back.Env["OTEL_EXPORTER_OTLP_ENDPOINT"] != tc.wantURL {
				t.Errorf("JSON %s does not read back: %v", data, err)
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWithToken(t *testing.T) {
	token := writeFile(t, "token", "s3cret-token\n")
	cfg := load(t, "[ingest]\nbearer_token_file = \""+token+"\"")
	s, notes, err := Build(cfg, Options{WithToken: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Env["OTEL_EXPORTER_OTLP_HEADERS"]; got != "Authorization=Bearer s3cret-token" {
		t.Errorf("headers = %q", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "token") {
		t.Errorf("notes = %v, want a word on protecting the token", notes)
	}
	// Without --with-token the settings lack the header, and say so.
	s, notes, err = Build(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Env["OTEL_EXPORTER_OTLP_HEADERS"]; ok || len(notes) != 1 || !strings.Contains(notes[0], "--with-token") {
		t.Errorf("without --with-token: env %v, notes %v", s.Env, notes)
	}
	if _, _, err := Build(load(t, ""), Options{WithToken: true}); err == nil || !strings.Contains(err.Error(), "bearer_token_file is not set") {
		t.Errorf("--with-token without a token file: %v", err)
	}
}

func TestTLSAndErrors(t *testing.T) {
	cert, key, ca := writeFile(t, "c.pem", "x"), writeFile(t, "k.pem", "x"), writeFile(t, "ca.pem", "x")
	cfg := load(t, "[ingest]\ngrpc_listen = \"0.0.0.0:4317\"\ntls_cert_file = \""+cert+"\"\ntls_key_file = \""+key+"\"\nclient_ca_file = \""+ca+"\"")
	s, notes, err := Build(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Env["OTEL_EXPORTER_OTLP_ENDPOINT"]; got != "https://localhost:4317" {
		t.Errorf("endpoint under TLS = %q", got)
	}
	if joined := strings.Join(notes, "\n"); !strings.Contains(joined, "OTEL_EXPORTER_OTLP_CERTIFICATE") || !strings.Contains(joined, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE") {
		t.Errorf("notes under mTLS over gRPC = %v", notes)
	}
	_, notes, _ = Build(cfg, Options{Protocol: "http/protobuf"})
	if joined := strings.Join(notes, "\n"); !strings.Contains(joined, "NODE_EXTRA_CA_CERTS") || !strings.Contains(joined, "CLAUDE_CODE_CLIENT_CERT") {
		t.Errorf("notes under mTLS over HTTP = %v", notes)
	}
	for _, tc := range []struct{ ingest, protocol, want string }{
		{"", "thrift", "unknown protocol"},
		{"[ingest]\ngrpc_listen = \"\"", "grpc", "ingest.grpc_listen is off"},
		{"[ingest]\nhttp_listen = \"127.0.0.1:0\"", "http/json", "port 0"},
	} {
		if _, _, err := Build(load(t, tc.ingest), Options{Protocol: tc.protocol}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q over %s: %v, want %q", tc.ingest, tc.protocol, err, tc.want)
		}
	}
}
