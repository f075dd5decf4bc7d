package sinks

import (
	"context"
	"testing"
)

// The memory queue compacts its backing array while it is never empty; order must survive that.
func TestQueueOrderAcrossCompaction(t *testing.T) {
	q := newMemory(1<<30, false)
	next, want := 0, 0
	put := func(n int) {
		for range n {
			if _, err := q.put(context.Background(), item{size: 1, records: next}); err != nil {
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
			q.done([]item{e})
		}
	}
	put(1000)
	take(600)
	put(1000)
	take(900)
	put(10)
	take(510)
	if records, bytes, _ := q.stats(); q.waiting() || records != 0 || bytes != 0 {
		t.Errorf("queue holds %d records, %d bytes after taking and finishing everything", records, bytes)
	}
}
