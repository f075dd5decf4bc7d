package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fsyncs stands in for (*os.File).Sync: it records what is synced, can hold a sync until
// released, and can fail.
type fsyncs struct {
	mu      sync.Mutex
	synced  []string // base names; the folder's own name for the folder
	hold    chan struct{}
	entered chan struct{}
	err     error
}

func (f *fsyncs) sync(file *os.File) error {
	f.mu.Lock()
	f.synced = append(f.synced, filepath.Base(file.Name()))
	hold, entered, err := f.hold, f.entered, f.err
	f.mu.Unlock()
	if hold != nil {
		entered <- struct{}{}
		<-hold
	}
	if err != nil {
		return err
	}
	return file.Sync()
}

func (f *fsyncs) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.synced...)
}

func openWith(t *testing.T, o Options, f *fsyncs) *Spool {
	t.Helper()
	s, _, err := open(o, f.sync)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAppendReturnsOnlyWhenDurable(t *testing.T) {
	var log logBuffer
	o := opts(t.TempDir(), &log)
	dirName := filepath.Base(o.Dir)
	f := &fsyncs{hold: make(chan struct{}), entered: make(chan struct{})}
	s := openWith(t, o, f)
	seg := segmentName(1)

	first := make(chan error, 1)
	go func() { first <- s.Append(context.Background(), []byte("first")) }()
	<-f.entered // the commit of "first" is fsyncing its segment, and is held there
	select {
	case err := <-first:
		t.Fatalf("Append returned (%v) before its fsync finished", err)
	default:
	}
	if _, ok, _ := s.TryNext(); ok {
		t.Fatal("a reader got a record before it was durable")
	}

	// Appends arriving during that fsync share the next one.
	const more = 10
	rest := make(chan error, more)
	for range more {
		go func() { rest <- s.Append(context.Background(), []byte("more")) }()
	}
	waitFor(t, "the appends to join the next round", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.round.n == more
	})
	f.mu.Lock()
	hold := f.hold
	f.hold = nil
	f.mu.Unlock()
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range more {
		if err := <-rest; err != nil {
			t.Fatal(err)
		}
	}
	// The segment, then the folder (a new segment's name must be durable too), then the
	// segment once more for the ten.
	want := []string{seg, dirName, seg}
	if got := f.log(); !slices.Equal(got, want) {
		t.Errorf("fsyncs %v; want %v", got, want)
	}
	if got := drain(t, s); len(got) != 1+more {
		t.Errorf("%d records readable; want %d", len(got), 1+more)
	}
}

func TestCloseCommitsAtOnce(t *testing.T) {
	var log logBuffer
	o := opts(t.TempDir(), &log)
	o.FsyncDelay = time.Hour
	s, _ := mustOpen(t, o)

	// An Append whose caller gives up is still written; it may become durable.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Append(ctx, []byte("abandoned")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append with an expiring context = %v; want DeadlineExceeded", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Append(context.Background(), []byte("waiting")) }()
	waitFor(t, "the append to be written", func() bool { return s.Stats().Records == 2 })
	// Close does not wait out the hour: it commits what is pending.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Append pending across Close = %v; want nil, it was committed", err)
	}
	s, rec := mustOpen(t, o)
	if rec.Records != 2 {
		t.Errorf("Recovered %+v; want both records", rec)
	}
	if got := texts(drain(t, s)); !slices.Equal(got, []string{"abandoned", "waiting"}) {
		t.Errorf("records %q", got)
	}
}

func TestFsyncFailure(t *testing.T) {
	cases := []struct {
		name string
		err  error
		full bool
	}{
		{"io error", syscall.EIO, false},
		{"disk full", syscall.ENOSPC, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log logBuffer
			f := &fsyncs{err: c.err}
			s := openWith(t, opts(t.TempDir(), &log), f)
			err := s.Append(context.Background(), []byte("x"))
			if !errors.Is(err, c.err) || errors.Is(err, ErrFull) != c.full {
				t.Errorf("Append when fsync fails with %v = %v; want that error, ErrFull: %v", c.err, err, c.full)
			}
		})
	}
}
