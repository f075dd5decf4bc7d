// Package sdnotify tells systemd how the gateway's service is doing, over the sd_notify
// protocol: READY=1 once the listeners are open (for Type=notify units), RELOADING=1 while a
// SIGHUP reload runs, STOPPING=1 when a graceful stop begins.
//
// It is a few lines of our own rather than github.com/coreos/go-systemd/daemon: the protocol is
// one datagram to the socket named by $NOTIFY_SOCKET, and a dependency (with its D-Bus and
// journal packages) is more to audit than the datagram is to write.
//
// It is not a general systemd client: no watchdog, no file descriptor store, no socket
// activation, no journal. Outside systemd ($NOTIFY_SOCKET unset, as under launchd or in a
// terminal) every call does nothing and returns nil, so callers need no platform checks.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// sendTimeout bounds a send: the socket is a datagram socket that blocks only when the
// manager's queue is full, and a stuck manager must not hold up a start or a stop.
const sendTimeout = 5 * time.Second

// Ready says the service is up: for Type=notify, systemd considers the start complete (and
// for Type=notify-reload, a reload finished).
func Ready() error { return Notify("READY=1") }

// Reloading says a configuration reload has begun; send Ready when it is done. The timestamp
// (CLOCK_MONOTONIC in microseconds) is what systemd 253 and later require for
// Type=notify-reload; earlier versions and plain Type=notify ignore it.
func Reloading() error {
	state := "RELOADING=1"
	if usec, ok := monotonicUsec(); ok {
		state += "\nMONOTONIC_USEC=" + strconv.FormatUint(usec, 10)
	}
	return Notify(state)
}

// Stopping says a graceful stop has begun, so systemd shows the unit as deactivating rather
// than as a service that stopped answering.
func Stopping() error { return Notify("STOPPING=1") }

// Notify sends state, newline-separated VARIABLE=value assignments, to the socket named by
// $NOTIFY_SOCKET: a path, or an abstract socket name starting with '@'. It does nothing and
// returns nil when the variable is unset or empty.
func Notify(state string) error {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil
	}
	if name[0] != '/' && name[0] != '@' {
		return fmt.Errorf("notify systemd: NOTIFY_SOCKET %q is neither an absolute path nor an abstract socket name", name)
	}
	// Go's net package turns a leading '@' into the NUL byte that starts an abstract name on
	// Linux, so the name is used as it is.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(sendTimeout)); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	n, err := conn.Write([]byte(state))
	if err == nil && n != len(state) {
		err = errors.New("short write")
	}
	if err != nil {
		return fmt.Errorf("notify systemd: sending %q: %w", state, err)
	}
	return nil
}
