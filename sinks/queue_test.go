package sinks

import (
	"context"
	"testing"
)

// The queue compacts its backing array while it is never empty; order must survive that.
func TestQueueOrderAcrossCompaction(t *testing.T) {
	q := newQueue(1<<30, false)
	next, want := 0, 0
	put := func(n int) {
		for range n {
			if _, err := q.put(entry{size: 1, records: next}); err != nil {
				t.Fatal(err)
			}
			next++
		}
	}
	take := func(n int) {
		for range n {
			e, ok := q.take(context.Background())
			if !ok || e.records != want {
				t.Fatalf("took %d (ok %v), want %d", e.records, ok, want)
			}
			want++
		}
	}
	put(1000)
	take(600)
	put(1000)
	take(900)
	put(10)
	take(510)
	if q.len() != 0 || q.bytes != 0 {
		t.Errorf("queue holds %d entries, %d bytes after taking everything", q.len(), q.bytes)
	}
}
