package sinks

import (
	"context"
	"testing"
	"time"
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

// The oldest age follows the oldest request not done, whatever order deliveries finish in.
func TestMemoryOldestAcrossOutOfOrderDone(t *testing.T) {
	q := newMemory(1<<20, false)
	base := time.Unix(1000, 0)
	for i := range 4 {
		if _, err := q.put(context.Background(), item{size: 1, records: 1, at: base.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	var taken []item
	for range 3 {
		it, ok := q.tryTake()
		if !ok {
			t.Fatal("nothing to take")
		}
		taken = append(taken, it)
	}
	oldest := func() time.Time { _, _, o := q.stats(); return o }
	q.done(taken[1:2]) // the second finishes first
	if got := oldest(); !got.Equal(base) {
		t.Errorf("oldest = %v, want the first, still being delivered", got)
	}
	q.done(taken[0:1])
	if got := oldest(); !got.Equal(base.Add(2 * time.Second)) {
		t.Errorf("oldest = %v, want the third", got)
	}
	q.done(taken[2:3])
	if got := oldest(); !got.Equal(base.Add(3 * time.Second)) {
		t.Errorf("oldest = %v, want the fourth, still waiting", got)
	}
}
