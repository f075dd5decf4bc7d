package sdnotify_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"claude-otel-gw/internal/sdnotify"
)

// manager stands in for systemd: a unixgram socket that records what arrives.
type manager struct {
	t    *testing.T
	conn *net.UnixConn
	addr string
}

// listen opens a manager socket at name (a path, or '@' and an abstract name) and points
// NOTIFY_SOCKET at it.
func listen(t *testing.T, name string) *manager {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listening on %q: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", name)
	return &manager{t: t, conn: conn, addr: name}
}

// receive returns the next datagram.
func (m *manager) receive() string {
	m.t.Helper()
	buf := make([]byte, 4096)
	if err := m.conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		m.t.Fatal(err)
	}
	n, err := m.conn.Read(buf)
	if err != nil {
		m.t.Fatalf("no datagram arrived: %v", err)
	}
	return string(buf[:n])
}

// expectNothingMore sends a marker of its own and checks that it is the next datagram: whatever
// the code under test sent is already queued ahead of it, so nothing extra can hide.
func (m *manager) expectNothingMore() {
	m.t.Helper()
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: m.addr, Net: "unixgram"})
	if err != nil {
		m.t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("MARKER")); err != nil {
		m.t.Fatal(err)
	}
	if got := m.receive(); got != "MARKER" {
		m.t.Errorf("an extra datagram arrived: %q", got)
	}
}

// socketPath is a socket in t.TempDir(), or in a shorter temporary folder when that path would
// pass the 104 bytes a socket address holds on every platform.
func socketPath(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "notify.sock")
	if len(p) < 104 {
		return p
	}
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "n.sock")
}

func TestEachCallSendsOneDatagram(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"ready", sdnotify.Ready, "READY=1"},
		{"stopping", sdnotify.Stopping, "STOPPING=1"},
		{"notify", func() error { return sdnotify.Notify("STATUS=draining queues\nERRNO=0") }, "STATUS=draining queues\nERRNO=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := listen(t, socketPath(t))
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			if got := m.receive(); got != tc.want {
				t.Errorf("datagram = %q, want %q", got, tc.want)
			}
			m.expectNothingMore()
		})
	}
}

func TestReloadingStartsWithReloading(t *testing.T) {
	m := listen(t, socketPath(t))
	if err := sdnotify.Reloading(); err != nil {
		t.Fatal(err)
	}
	got := m.receive()
	if lines := strings.Split(got, "\n"); lines[0] != "RELOADING=1" {
		t.Errorf("datagram = %q, want RELOADING=1 first", got)
	}
	m.expectNothingMore()
}

func TestUnsetSocketDoesNothing(t *testing.T) {
	// A manager socket exists, but the variable does not name it: nothing may arrive.
	m := listen(t, socketPath(t))
	for _, value := range []string{"unset", ""} {
		if value == "unset" {
			os.Unsetenv("NOTIFY_SOCKET") // t.Setenv in listen restores it
		} else {
			t.Setenv("NOTIFY_SOCKET", value)
		}
		for name, call := range map[string]func() error{
			"Ready":     sdnotify.Ready,
			"Reloading": sdnotify.Reloading,
			"Stopping":  sdnotify.Stopping,
			"Notify":    func() error { return sdnotify.Notify("STATUS=x") },
		} {
			if err := call(); err != nil {
				t.Errorf("NOTIFY_SOCKET %s: %s() = %v, want nil", value, name, err)
			}
		}
	}
	m.expectNothingMore()
}

func TestUnusableSocketIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name, socket string
		want         error
	}{
		{"relative path", "run/notify.sock", nil},
		{"nothing listening", filepath.Join(t.TempDir(), "gone.sock"), syscall.ENOENT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", tc.socket)
			err := sdnotify.Ready()
			if err == nil {
				t.Fatalf("Ready() with NOTIFY_SOCKET=%q succeeded", tc.socket)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Ready() = %v, want an error wrapping %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "notify systemd") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}
