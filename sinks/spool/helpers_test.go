package spool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/internal/testlog"
)

// logBuffer collects what the spool logs, for tests to read.
type logBuffer = testlog.Buffer

// opts are options for a test spool in dir: no fsync delay, room enough, and no refusal for a
// nearly full test disk.
func opts(dir string, log *logBuffer) Options {
	return Options{Dir: dir, MaxBytes: 1 << 30, MinFreeBytes: 1, Logger: log.Logger()}
}

func mustOpen(t testing.TB, o Options) (*Spool, Recovered) {
	t.Helper()
	s, rec, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, rec
}

func mustAppend(t testing.TB, s *Spool, recs ...[]byte) {
	t.Helper()
	for _, r := range recs {
		if err := s.Append(context.Background(), r); err != nil {
			t.Fatalf("Append(%d bytes): %v", len(r), err)
		}
	}
}

// mustNext is Next with a deadline, so a missing record fails the test rather than hangs it.
func mustNext(t testing.TB, s *Spool) Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return r
}

// drain takes every record waiting now.
func drain(t testing.TB, s *Spool) []Record {
	t.Helper()
	var out []Record
	for {
		r, ok, err := s.TryNext()
		if err != nil {
			t.Fatalf("TryNext: %v", err)
		}
		if !ok {
			return out
		}
		out = append(out, r)
	}
}

func ids(recs []Record) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func texts(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Data))
	}
	return out
}

// payload is record i of a test: its number, padded to size bytes.
func payload(i, size int) []byte {
	p := fmt.Appendf(nil, "record-%d:", i)
	for len(p) < size {
		p = append(p, byte('a'+len(p)%26))
	}
	return p[:max(size, 0)]
}

// segments lists the segment files in dir, oldest first.
func segments(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func names(paths []string) string {
	var b []string
	for _, p := range paths {
		b = append(b, filepath.Base(p))
	}
	return strings.Join(b, " ")
}

// flipByte inverts one byte of a file, as a bad sector or a stray write would.
func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitSegments waits for the segment files in dir to be want (their names, space-separated):
// delivered segments are deleted in the background.
func waitSegments(t testing.TB, dir, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := names(segments(t, dir))
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("segments %q; want %q", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}
