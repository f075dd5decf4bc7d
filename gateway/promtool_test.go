package gateway

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/internal/capture"
)

// promtool finds promtool. Without it the test is skipped, except where
// CLAUDE_OTEL_GW_REQUIRE_TOOLS is set (CI sets it, and installs promtool): there it fails.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CLAUDE_OTEL_GW_REQUIRE_TOOLS") != "" {
			t.Fatal("promtool is required (CLAUDE_OTEL_GW_REQUIRE_TOOLS is set) and not on PATH; Debian's prometheus package has it")
		}
		t.Skip("promtool not on PATH (Debian's prometheus package has it); .ci/run installs it")
	}
	return p
}

// Every /metrics the gateway serves (its own, and a prometheus sink's) passes
// `promtool check metrics` with every kind of series present: after a replay of the captured
// requests through file, otlp and prometheus sinks, with a destination that fails once.
func TestMetricsPassPromtool(t *testing.T) {
	tool := promtool(t)
	dest := capture.StartReceiver(t, "")
	dest.Down.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	promAddr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := loopbackConfig(t, dir, fmt.Sprintf(`
[[route]]
name = "all"
sinks = ["local", "dest", "usage"]
[[route.drop]]
name = "claude_code.tool.blocked_on_user"
[sink.local]
type = "file"
[sink.dest]
type = "otlp"
endpoint = %q
[sink.dest.retry]
initial_interval = "10ms"
[sink.usage]
type = "prometheus"
listen = %q
`, dest.URL, promAddr))
	g := start(t, cfg)
	c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	payloads, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range payloads {
		if err := c.Send(ctx, p); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
	}
	// The destination is down (503) at first: retries and errors show in the metrics.
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(scrape(t, "http://"+g.AdminAddr().String()+"/metrics"), `claude_otel_gw_send_errors_total{sink="dest"}`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no failed attempt counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	dest.Down.Store(false)

	for _, url := range []string{"http://" + g.AdminAddr().String() + "/metrics", "http://" + promAddr + "/metrics"} {
		text := scrape(t, url)
		cmd := exec.Command(tool, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics on %s: %v\n%s", url, err, out)
		}
		if !strings.Contains(text, "# TYPE") {
			t.Errorf("%s served no metrics:\n%s", url, text)
		}
	}
}
