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

func testConfig(t *testing.T, dir string) *config.Config {
	t.Helper()
	src := fmt.Sprintf(`
shutdown_timeout = "10s"
[ingest]
grpc_listen = "127.0.0.1:0"
http_listen = "127.0.0.1:0"
[admin]
listen = "127.0.0.1:0"
[state]
dir = %q

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
`, dir, filepath.Join(dir, "audit"))
	cfg, err := config.Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
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
		got, want := audit.Requests[sig], sent[sig]
		if len(got) != len(want) {
			t.Fatalf("audit %s: %d requests written, %d sent", sig, len(got), len(want))
		}
		for i := range want {
			if !proto.Equal(got[i].Message(), want[i].Message()) {
				t.Errorf("audit %s request %d differs from what was sent", sig, i)
			}
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
	for i, r := range redacted.Requests[telemetry.Traces] {
		want := audit.Requests[telemetry.Traces][i].Traces.ResourceSpans[0].ScopeSpans[0].Spans[0]
		got := r.Traces.ResourceSpans[0].ScopeSpans[0].Spans[0]
		if !bytes.Equal(got.TraceId, want.TraceId) || !bytes.Equal(got.SpanId, want.SpanId) {
			t.Errorf("trace request %d: ids %s/%s, want %s/%s", i,
				hex.EncodeToString(got.TraceId), hex.EncodeToString(got.SpanId),
				hex.EncodeToString(want.TraceId), hex.EncodeToString(want.SpanId))
		}
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
