package sdnotify_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"claude-otel-gw/internal/sdnotify"
)

func TestAbstractSocket(t *testing.T) {
	m := listen(t, fmt.Sprintf("@claude-otel-gw-sdnotify-test-%d-%s", os.Getpid(), t.Name()))
	if err := sdnotify.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := m.receive(); got != "READY=1" {
		t.Errorf("datagram = %q, want READY=1", got)
	}
	m.expectNothingMore()
}

func monotonicUsec(t *testing.T) uint64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return uint64(ts.Sec)*1_000_000 + uint64(ts.Nsec)/1_000
}

func TestReloadingCarriesTheMonotonicClock(t *testing.T) {
	m := listen(t, socketPath(t))
	before := monotonicUsec(t)
	if err := sdnotify.Reloading(); err != nil {
		t.Fatal(err)
	}
	after := monotonicUsec(t)
	got := m.receive()
	head, stamp, ok := strings.Cut(got, "\nMONOTONIC_USEC=")
	if !ok || head != "RELOADING=1" {
		t.Fatalf("datagram = %q, want RELOADING=1 and MONOTONIC_USEC", got)
	}
	usec, err := strconv.ParseUint(stamp, 10, 64)
	if err != nil {
		t.Fatalf("MONOTONIC_USEC=%q: %v", stamp, err)
	}
	// Between two readings of CLOCK_MONOTONIC in microseconds: the right clock in the right unit.
	if usec < before || usec > after {
		t.Errorf("MONOTONIC_USEC=%d, want between %d and %d", usec, before, after)
	}
}
