package gateway

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/config"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"

	"google.golang.org/protobuf/proto"
)

// loopbackConfig is a config with its listeners on free loopback ports, its state in dir, and
// body (routes and sinks) after that.
func loopbackConfig(t testing.TB, dir, body string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.toml", fmt.Appendf(nil, `
[ingest]
grpc_listen = "127.0.0.1:0"
http_listen = "127.0.0.1:0"
[admin]
listen = "127.0.0.1:0"
[state]
dir = %q
%s`, dir, body))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testConfig routes everything twice: "audit" unredacted to a file sink in dir/audit, "cloud"
// through the default profile to a file sink in dir/telemetry.
func testConfig(t *testing.T, dir string) *config.Config {
	t.Helper()
	return loopbackConfig(t, dir, fmt.Sprintf(`
[[route]]
name = "audit"
redaction = "none"
sinks = ["audit"]

[[route]]
name = "cloud"
sinks = ["redacted"]

[sink.audit]
type = "file"
path = %q

[sink.redacted]
type = "file"
`, filepath.Join(dir, "audit")))
}

func start(t *testing.T, cfg *config.Config) *Gateway {
	t.Helper()
	g, err := Build(cfg, slog.New(slog.DiscardHandler), Info{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Shutdown(context.Background()) })
	return g
}

// TestEndToEnd replays every captured Claude Code request over its own protocol and checks the
// unredacted file sink holds exactly what was sent and the redacted one holds the same records
// without the personal data and secrets.
func TestEndToEnd(t *testing.T) {
	payloads, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	g := start(t, testConfig(t, dir))
	c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sent := map[telemetry.Signal][]telemetry.Request{}
	for _, p := range payloads {
		if err := c.Send(ctx, p); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		sent[p.Signal] = append(sent[p.Signal], p.Request)
	}

	metrics := scrape(t, "http://"+g.AdminAddr().String()+"/metrics")
	if err := g.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	audit, err := capture.ReadFileSink(filepath.Join(dir, "audit"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range telemetry.Signals {
		// The sink merges queued requests into batches: the records, in order, must match.
		got, want := telemetry.Merge(audit.Requests[sig]), telemetry.Merge(sent[sig])
		if !proto.Equal(got.Message(), want.Message()) {
			t.Errorf("audit %s: what was written differs from what was sent", sig)
		}
	}
	for _, s := range capture.Secrets {
		if !bytes.Contains(audit.Raw, []byte(s)) && !bytes.Contains(audit.Raw, []byte(jsonEscape(s))) {
			t.Errorf("the unredacted audit trail lacks %q", s)
		}
	}

	redacted, err := capture.ReadFileSink(filepath.Join(dir, "telemetry"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range telemetry.Signals {
		if got, want := redacted.Records(sig), audit.Records(sig); got != want {
			t.Errorf("redacted %s: %d records, want %d", sig, got, want)
		}
	}
	for _, s := range capture.Secrets {
		if bytes.Contains(redacted.Raw, []byte(s)) || bytes.Contains(redacted.Raw, []byte(jsonEscape(s))) {
			t.Errorf("redacted output still contains %q", s)
		}
	}
	// Ids are not text: they pass through redaction untouched.
	if got, want := spanIDs(redacted.Requests[telemetry.Traces]), spanIDs(audit.Requests[telemetry.Traces]); got != want {
		t.Errorf("redacted span ids:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(string(redacted.Raw), "[REDACTED:email]") {
		t.Error("no email mask in the redacted output")
	}

	for _, sig := range telemetry.Signals {
		total := 0
		for _, r := range sent[sig] {
			total += r.Records()
		}
		var counted float64
		for _, tr := range []string{"grpc", "http"} {
			counted += metricValue(metrics, fmt.Sprintf(`claude_otel_gw_received_records_total{signal=%q,transport=%q}`, sig.String(), tr))
		}
		if int(counted) != total {
			t.Errorf("received_records_total for %s = %v, want %d", sig, counted, total)
		}
	}
}

func jsonEscape(s string) string {
	return strings.NewReplacer(`"`, `\"`, `\`, `\\`).Replace(s)
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func metricValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

func TestStartFailureLeavesNothingRunning(t *testing.T) {
	dir := t.TempDir()
	busy := start(t, testConfig(t, t.TempDir()))
	cfg := testConfig(t, dir)
	cfg.Ingest.HTTPListen = busy.HTTPAddr().String()
	g, err := Build(cfg, slog.New(slog.DiscardHandler), Info{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err == nil {
		t.Fatal("start succeeded on a busy port")
	}
	if g.AdminAddr() != nil {
		if _, err := http.Get("http://" + g.AdminAddr().String() + "/healthz"); err == nil {
			t.Error("admin still serving after a failed start")
		}
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

// spanIDs lists the trace and span ids of every span, in order.
func spanIDs(rs []telemetry.Request) string {
	var ids []string
	for _, r := range rs {
		for _, rs := range r.Traces.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					ids = append(ids, hex.EncodeToString(sp.TraceId)+"/"+hex.EncodeToString(sp.SpanId))
				}
			}
		}
	}
	return strings.Join(ids, " ")
}
