package spool

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestBudget(t *testing.T) {
	var log logBuffer
	o := opts(t.TempDir(), &log)
	o.MaxBytes = 1000 // segments of a quarter of it: two records each
	s, _ := mustOpen(t, o)
	if s.Capacity() != 1000 {
		t.Errorf("Capacity = %d; want 1000", s.Capacity())
	}
	for i := range 8 {
		mustAppend(t, s, payload(i, 100))
	}
	ctx := context.Background()
	for range 3 {
		if err := s.Append(ctx, payload(8, 100)); !errors.Is(err, ErrFull) {
			t.Fatalf("Append past the budget = %v; want ErrFull", err)
		}
	}
	if st := s.Stats(); st.Records != 8 || st.DiskBytes != 8*recSize {
		t.Errorf("Stats when full = %+v; want 8 records in %d bytes", st, 8*recSize)
	}
	if n := strings.Count(log.String(), "refusing appends"); n != 1 {
		t.Errorf("logged the refusal %d times; want once:\n%s", n, log.String())
	}

	// Delivering one record frees nothing: its segment holds another.
	r := mustNext(t, s)
	s.Ack(r.ID)
	if err := s.Append(ctx, payload(8, 100)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append with only half a segment delivered = %v; want ErrFull", err)
	}
	// The second deletes the segment.
	s.Ack(mustNext(t, s).ID)
	if err := s.Append(ctx, payload(8, 100)); err != nil {
		t.Fatalf("Append after a segment was delivered: %v", err)
	}
	if !strings.Contains(log.String(), "accepting appends again") {
		t.Errorf("the end of the refusal was not logged:\n%s", log.String())
	}

	// A record larger than the whole budget can never fit.
	if err := s.Append(ctx, make([]byte, 1000)); !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Append of a record larger than the budget = %v; want ErrFull saying so", err)
	}

	// Delivering everything leaves the budget to new records, less the segment being written.
	for {
		r, ok, err := s.TryNext()
		if err != nil || !ok {
			break
		}
		s.Ack(r.ID)
	}
	for i := range 6 {
		if err := s.Append(ctx, payload(i, 100)); err != nil {
			t.Fatalf("Append %d into an emptied spool: %v", i, err)
		}
	}
}

func TestLowDiskSpace(t *testing.T) {
	var log logBuffer
	o := opts(t.TempDir(), &log)
	o.MaxBytes = 1 << 62 // more than any disk: Open warns
	o.MinFreeBytes = 1 << 61
	s, _ := mustOpen(t, o)
	err := s.Append(context.Background(), []byte("x"))
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "free on the disk") {
		t.Errorf("Append on a disk with less free space than MinFreeBytes = %v; want ErrFull saying so", err)
	}
	for _, want := range []string{"less free space than the spool's budget", "refusing appends"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, log.String())
		}
	}
	if st := s.Stats(); st.Records != 0 || st.DiskBytes != 0 {
		t.Errorf("a refused record was counted: %+v", st)
	}
}
