package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
)

// SIGHUP while clients send: a broken config is refused with every problem logged and the
// reload metric at 0, the running config carrying on; a good one then takes effect (a new sink
// gets records) with the metric back at 1; systemd hears RELOADING=1 then READY=1 each time;
// and every record acknowledged throughout arrives.
func TestSIGHUPReloadsUnderLoad(t *testing.T) {
	env, home := emptyHome(t)
	sock := filepath.Join(t.TempDir(), "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	httpAddr, adminAddr := freeAddr(t), freeAddr(t)
	dest := capture.StartReceiver(t, "")
	dest.Down.Store(true)
	config := filepath.Join(home, "gw.toml")
	base := fmt.Sprintf(`
[ingest]
grpc_listen = ""
http_listen = %q
[admin]
listen = %q
[[route]]
name = "all"
redaction = "none"
sinks = ["dest"]
[sink.dest]
type = "otlp"
endpoint = %q
[sink.dest.retry]
initial_interval = "20ms"
max_interval = "200ms"
`, httpAddr, adminAddr, dest.URL)
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(base)
	gw := startGateway(t, append(env, "NOTIFY_SOCKET="+sock), config, adminAddr)
	readNotify := func() string {
		t.Helper()
		buf := make([]byte, 512)
		notify.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := notify.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v\n%s", err, gw.logs.String())
		}
		return string(buf[:n])
	}
	if got := readNotify(); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}

	var (
		next  atomic.Int64
		mu    sync.Mutex
		acked []int64
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for range 3 {
		wg.Go(func() {
			for !stop.Load() {
				first := next.Add(20) - 20
				resp, err := client.Post("http://"+httpAddr+"/v1/logs", "application/x-protobuf", bytes.NewReader(logsBatch(first, 20)))
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					continue
				}
				mu.Lock()
				for i := range int64(20) {
					acked = append(acked, first+i)
				}
				mu.Unlock()
			}
		})
	}
	reloadMetric := func() string {
		t.Helper()
		resp, err := http.Get("http://" + adminAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for line := range strings.SplitSeq(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, "claude_otel_gw_config_last_reload_successful "); ok {
				return v
			}
		}
		t.Fatalf("no claude_otel_gw_config_last_reload_successful in /metrics")
		return ""
	}
	hup := func() {
		t.Helper()
		if err := gw.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if got := readNotify(); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") && got != "RELOADING=1" {
			t.Errorf("notification at SIGHUP %q, want RELOADING=1", got)
		}
		if got := readNotify(); got != "READY=1" {
			t.Errorf("notification after the reload %q, want READY=1", got)
		}
	}
	time.Sleep(200 * time.Millisecond)

	// A config with two problems: both are logged, and the gateway carries on.
	write(base + "\n[sink.dest.queue]\nwhen_full = \"block\"\n[sink.extra]\ntype = \"file\"\npathh = \"x\"\n")
	hup()
	// The log reaches the test through a pipe, a moment after the notification.
	for _, want := range []string{`when_full: want refuse or drop_oldest`, `sink.extra.pathh: not a key of a \"file\" sink`, "reload failed; the running config stays"} {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(gw.logs.String(), want) {
			if time.Now().After(deadline) {
				t.Errorf("the log after a broken reload does not say %q\n%s", want, gw.logs.String())
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got := reloadMetric(); got != "0" {
		t.Errorf("config_last_reload_successful = %s after a broken config, want 0", got)
	}
	time.Sleep(200 * time.Millisecond)

	// A good config: a second route to a file sink, and dest changed (so its successor takes
	// over the spool).
	localDir := filepath.Join(home, "local")
	write(strings.Replace(base, `max_interval = "200ms"`, `max_interval = "300ms"`, 1) + fmt.Sprintf(`
[[route]]
name = "local"
redaction = "none"
sinks = ["local"]
[sink.local]
type = "file"
path = %q
`, localDir))
	hup()
	if got := reloadMetric(); got != "1" {
		t.Errorf("config_last_reload_successful = %s after a good config, want 1\n%s", got, gw.logs.String())
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	ids := append([]int64(nil), acked...)
	mu.Unlock()
	if len(ids) == 0 {
		t.Fatal("nothing acknowledged")
	}
	out, err := capture.ReadFileSink(localDir)
	if err != nil || out.Records(telemetry.Logs) == 0 {
		t.Errorf("the sink added by the reload got nothing (%v)\n%s", err, gw.logs.String())
	}
	dest.Down.Store(false)
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing, _ := dest.Missing("test.id", ids)
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged records never arrived\n%s", missing, len(ids), gw.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d records acknowledged across a broken and a good reload; all arrived", len(ids))
	gw.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-gw.exited; err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}
