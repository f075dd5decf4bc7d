package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Under systemd (Type=notify) the gateway says READY=1 once its listeners are up, and
// STOPPING=1 when a SIGTERM begins its stop.
func TestNotifiesSystemd(t *testing.T) {
	env, home := emptyHome(t)
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	httpAddr, adminAddr := freeAddr(t), freeAddr(t)
	config := filepath.Join(home, "gw.toml")
	os.WriteFile(config, fmt.Appendf(nil, `
[ingest]
grpc_listen = ""
http_listen = %q
[admin]
listen = %q
[[route]]
name = "all"
sinks = ["local"]
[sink.local]
type = "file"
`, httpAddr, adminAddr), 0o600)
	gw := startGateway(t, append(env, "NOTIFY_SOCKET="+sock), config, adminAddr)

	read := func() string {
		buf := make([]byte, 512)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v\n%s", err, gw.logs.String())
		}
		return string(buf[:n])
	}
	if got := read(); got != "READY=1" {
		t.Errorf("first notification %q, want READY=1", got)
	}
	// Ready means ready: the listener answers.
	if c, err := net.Dial("tcp", httpAddr); err != nil {
		t.Errorf("READY=1 sent but the OTLP listener refuses connections: %v", err)
	} else {
		c.Close()
	}
	gw.cmd.Process.Signal(syscall.SIGTERM)
	if got := read(); !strings.HasPrefix(got, "STOPPING=1") {
		t.Errorf("notification at SIGTERM %q, want STOPPING=1", got)
	}
	if err := <-gw.exited; err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}
