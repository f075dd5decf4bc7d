package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"claude-otel-gw/config"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
)

// reloadConfig is two routes: everything unredacted to a durable otlp sink "dest", and to a
// file sink "local"; extra is appended.
func reloadConfig(t *testing.T, dir, url, extra string) *config.Config {
	t.Helper()
	return loopbackConfig(t, dir, fmt.Sprintf(`
[[route]]
name = "all"
redaction = "none"
sinks = ["dest", "local"]
[sink.dest]
type = "otlp"
endpoint = %q
[sink.dest.retry]
initial_interval = "20ms"
max_interval = "100ms"
[sink.local]
type = "file"
%s`, url, extra))
}

// A reload keeps an unchanged sink as it is, replaces a changed one, starts an added one and
// stops a removed one; requests then follow the new routes.
func TestReloadReplacesOnlyWhatChanged(t *testing.T) {
	dest := capture.StartReceiver(t, "")
	dir := t.TempDir()
	g := start(t, reloadConfig(t, dir, dest.URL, ""))
	before := g.pipe.Load()

	next := reloadConfig(t, dir, dest.URL, fmt.Sprintf(`
[sink.local.batch]
max_records = 10
[[route]]
name = "more"
redaction = "none"
sinks = ["more"]
[sink.more]
type = "file"
path = %q
`, dir+"/more"))
	if err := g.Reload(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	after := g.pipe.Load()
	if after.byName["dest"] != before.byName["dest"] {
		t.Error("the unchanged sink dest was replaced")
	}
	if after.byName["local"] == before.byName["local"] {
		t.Error("the changed sink local was kept")
	}
	if after.byName["more"] == nil {
		t.Fatal("the added sink more is missing")
	}
	if got := testutil.ToFloat64(g.metrics.ConfigReloadSuccess); got != 1 {
		t.Errorf("config_last_reload_successful = %v, want 1", got)
	}

	c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendGRPC(context.Background(), numbered(0, 5)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the record at dest", func() bool { m, _ := dest.Missing("n", []int64{0, 1, 2, 3, 4}); return m == 0 })
	waitFor(t, "the records in the added file sink", func() bool {
		out, err := capture.ReadFileSink(dir + "/more")
		return err == nil && out.Records(telemetry.Logs) == 5
	})

	// Removing the route and its sink stops the sink and forgets its gauges.
	if err := g.Reload(context.Background(), reloadConfig(t, dir, dest.URL, "")); err != nil {
		t.Fatal(err)
	}
	if g.pipe.Load().byName["more"] != nil {
		t.Error("the removed sink more is still there")
	}
	if n := testutil.CollectAndCount(g.metrics.QueueCapacityBytes); n != 2 {
		t.Errorf("queue capacity reported for %d sinks, want the 2 that are left", n)
	}
}

// A reload whose new sink cannot start leaves the running config in place, sinks it had
// stopped included, and says so in the reload metric; a good reload afterwards succeeds.
func TestFailedReloadKeepsTheRunningConfig(t *testing.T) {
	dest := capture.StartReceiver(t, "")
	dir := t.TempDir()
	g := start(t, reloadConfig(t, dir, dest.URL, ""))
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	// local changes (so it is stopped) and usage cannot bind its port.
	bad := reloadConfig(t, dir, dest.URL, fmt.Sprintf(`
[sink.local.batch]
max_records = 10
[[route]]
name = "usage"
sinks = ["usage"]
[sink.usage]
type = "prometheus"
listen = %q
`, taken.Addr().String()))
	err = g.Reload(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "sink usage") {
		t.Fatalf("Reload = %v, want the usage sink's start failure", err)
	}
	if got := testutil.ToFloat64(g.metrics.ConfigReloadSuccess); got != 0 {
		t.Errorf("config_last_reload_successful = %v after a failed reload, want 0", got)
	}
	p := g.pipe.Load()
	if p.byName["usage"] != nil || len(p.sinks) != 2 {
		t.Fatalf("after a failed reload the sinks are %v, want dest and local", sinkNames(p))
	}
	if err := p.byName["local"].Healthy(); err != nil {
		t.Errorf("the restored local sink: %v", err)
	}

	// The running config still delivers, to both sinks.
	c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendGRPC(context.Background(), numbered(100, 3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the records at dest", func() bool { m, _ := dest.Missing("n", []int64{100, 101, 102}); return m == 0 })
	waitFor(t, "the records in the file sink", func() bool {
		out, err := capture.ReadFileSink(dir + "/telemetry")
		return err == nil && out.Records(telemetry.Logs) == 3
	})

	if err := g.Reload(context.Background(), reloadConfig(t, dir, dest.URL, "")); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(g.metrics.ConfigReloadSuccess); got != 1 {
		t.Errorf("config_last_reload_successful = %v after a good reload, want 1", got)
	}
}

// Reloads while clients send, each changing the durable sink (so it is stopped and its
// successor takes over its spool) while its destination is down: every record the gateway
// acknowledged arrives once the destination is back.
func TestReloadUnderLoadLosesNothing(t *testing.T) {
	dest := capture.StartReceiver(t, "")
	dest.Down.Store(true)
	dir := t.TempDir()
	g := start(t, reloadConfig(t, dir, dest.URL, ""))

	var (
		mu    sync.Mutex
		acked []int64
		next  atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for range 4 {
		c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Go(func() {
			for !stop.Load() {
				first := next.Add(10) - 10
				if err := c.SendGRPC(context.Background(), numbered(first, 10)); err != nil {
					continue // refused: the client keeps the records and nothing is owed
				}
				mu.Lock()
				for i := range int64(10) {
					acked = append(acked, first+i)
				}
				mu.Unlock()
			}
		})
	}
	for i := range 6 {
		time.Sleep(50 * time.Millisecond)
		cfg := reloadConfig(t, dir, dest.URL, fmt.Sprintf("[sink.dest.batch]\nmax_records = %d\n", 100+i))
		began := time.Now()
		if err := g.Reload(context.Background(), cfg); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		t.Logf("reload %d took %v", i, time.Since(began))
	}
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no request was acknowledged during the reloads")
	}
	dest.Down.Store(false)
	waitFor(t, "every acknowledged record at dest", func() bool { m, _ := dest.Missing("n", acked); return m == 0 })
	missing, _ := dest.Missing("n", acked)
	t.Logf("%d records acknowledged across 6 reloads, %d missing", len(acked), missing)
}

// A reload that changes only the token file takes the new token without binding again.
func TestReloadRotatesTheToken(t *testing.T) {
	dest := capture.StartReceiver(t, "")
	dir := t.TempDir()
	token := func(name, value string) string {
		path := dir + "/" + name
		writeFile(t, path, value)
		return path
	}
	withToken := func(path string) *config.Config {
		cfg := reloadConfig(t, dir, dest.URL, "")
		cfg.Ingest.BearerTokenFile = path
		return cfg
	}
	g := start(t, withToken(token("old", "old-token")))
	addr := g.HTTPAddr().String()
	if got := postWithToken(t, addr, "old-token"); got != http.StatusOK {
		t.Fatalf("the first token: HTTP %d", got)
	}
	if err := g.Reload(context.Background(), withToken(token("new", "new-token"))); err != nil {
		t.Fatal(err)
	}
	if g.HTTPAddr().String() != addr {
		t.Errorf("the HTTP listener moved from %s to %s for a token change", addr, g.HTTPAddr())
	}
	for tok, want := range map[string]int{"old-token": http.StatusUnauthorized, "new-token": http.StatusOK} {
		if got := postWithToken(t, addr, tok); got != want {
			t.Errorf("token %s: HTTP %d, want %d", tok, got, want)
		}
	}
}

func postWithToken(t *testing.T, addr, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/logs", bytes.NewReader(mustMarshal(t, numbered(0, 1).Logs)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sinkNames(p *pipeline) []string {
	var names []string
	for _, s := range p.sinks {
		names = append(names, s.Name())
	}
	return names
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A reload that moves the listeners binds the new addresses before letting go of the old ones;
// one whose address is taken keeps the old listener, says so, and a later reload tries again.
func TestReloadMovesListeners(t *testing.T) {
	dest := capture.StartReceiver(t, "")
	dir := t.TempDir()
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	withAddrs := func(httpAddr, adminAddr string) *config.Config {
		cfg := reloadConfig(t, dir, dest.URL, "")
		cfg.Ingest.GRPCListen, cfg.Ingest.HTTPListen, cfg.Admin.Listen = "", httpAddr, adminAddr
		return cfg
	}
	g := start(t, withAddrs(free(), free()))
	oldHTTP := g.HTTPAddr().String()

	newHTTP, newAdmin := free(), free()
	if err := g.Reload(context.Background(), withAddrs(newHTTP, newAdmin)); err != nil {
		t.Fatal(err)
	}
	if got := postWithToken(t, newHTTP, ""); got != http.StatusOK {
		t.Errorf("the moved OTLP/HTTP listener answers %d", got)
	}
	if _, err := net.Dial("tcp", oldHTTP); err == nil {
		t.Errorf("the old OTLP/HTTP address %s still accepts connections", oldHTTP)
	}
	if resp, err := http.Get("http://" + newAdmin + "/healthz"); err != nil {
		t.Errorf("the moved admin listener: %v", err)
	} else {
		resp.Body.Close()
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = g.Reload(context.Background(), withAddrs(taken.Addr().String(), newAdmin))
	if !errors.Is(err, ErrPartlyApplied) {
		t.Fatalf("Reload to a taken address = %v, want it partly applied", err)
	}
	if got := postWithToken(t, newHTTP, ""); got != http.StatusOK {
		t.Errorf("after a failed move the listener answers %d", got)
	}
	taken.Close()
	if err := g.Reload(context.Background(), withAddrs(taken.Addr().String(), newAdmin)); err != nil {
		t.Fatalf("the same reload once the address is free: %v", err)
	}
	if got := postWithToken(t, taken.Addr().String(), ""); got != http.StatusOK {
		t.Errorf("the listener moved on the second try answers %d", got)
	}
}
