package sinks

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"claude-otel-gw/config"
	"claude-otel-gw/telemetry"
)

func durableOptions(dir string) Options {
	return Options{
		Queue:         config.Queue{Durable: true, MaxBytes: 1 << 20, Workers: 2},
		Batch:         config.Batch{MaxRecords: 50},
		Retry:         config.Retry{InitialInterval: config.Duration(time.Millisecond), MaxInterval: config.Duration(5 * time.Millisecond)},
		SpoolDir:      filepath.Join(dir, "spool", name),
		DeadLetterDir: filepath.Join(dir, "deadletter", name),
	}
}

// deliveredBodies lists every record body a fake writer got, sorted.
func deliveredBodies(w *fakeWriter) []string {
	var out []string
	for _, r := range w.delivered() {
		out = append(out, bodies(r)...)
	}
	slices.Sort(out)
	return out
}

// What a durable queue accepted while its destination was down is delivered by the next run,
// after a shutdown that left it in the spool: nothing dropped, nothing lost.
func TestDurableQueueKeepsDataAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	first := newHarness(t, &fakeWriter{failAll: true}, durableOptions(dir))
	first.start(t)
	var want []string
	for i := range 40 {
		r := logsRequest(fmt.Sprintf("r%02d", i), 3)
		want = append(want, bodies(r)...)
		offer(t, first.s, r)
	}
	slices.Sort(want)
	if recs, _ := first.queued(); recs != 120 {
		t.Errorf("queue gauge = %v records, want 120", recs)
	}
	eventually(t, "attempts failing", func() bool { return first.sendErrors() > 0 })
	if err := shutdown(t, first.s, 2*time.Second); err != nil {
		t.Fatalf("Shutdown of a durable queue with undelivered data: %v (it stays in the spool; nothing is dropped)", err)
	}
	if d := first.dropped("shutdown"); d != 0 {
		t.Errorf("dropped{shutdown} = %v; a durable queue drops nothing at shutdown", d)
	}

	second := newHarness(t, &fakeWriter{}, durableOptions(dir))
	second.start(t)
	eventually(t, "everything delivered after the restart", func() bool { return second.sent() == 120 })
	if got := deliveredBodies(second.w); !slices.Equal(got, want) {
		t.Errorf("delivered %d records after the restart, want the %d accepted before", len(got), len(want))
	}
	if got := testutil.ToFloat64(second.m.ReplayedRequests.WithLabelValues(name, "undelivered")); got != 40 {
		t.Errorf("replayed = %v requests, want 40", got)
	}
	eventually(t, "the spool emptied", func() bool { recs, b := second.queued(); return recs == 0 && b == 0 })
	if err := shutdown(t, second.s, 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// A third run finds nothing left to deliver.
	third := newHarness(t, &fakeWriter{}, durableOptions(dir))
	third.start(t)
	time.Sleep(50 * time.Millisecond)
	if n := len(third.w.delivered()); n != 0 {
		t.Errorf("a third run delivered %d requests again", n)
	}
}

// A durable queue refuses, retryably, only once its disk budget is spent, and delivers all it
// accepted when the destination is back.
func TestDurableQueueRefusesAtItsBudget(t *testing.T) {
	o := durableOptions(t.TempDir())
	o.Queue.MaxBytes = 4 << 10
	h := newHarness(t, &fakeWriter{failAll: true}, o)
	h.start(t)
	accepted := 0
	var refusal error
	for i := range 1000 {
		r := logsRequest(fmt.Sprintf("r%03d", i), 2)
		n := size(r)
		if err := h.s.Reserve(n); err != nil {
			refusal = err
			break
		}
		if err := h.s.Put(context.Background(), r, n); err != nil {
			refusal = err
			break
		}
		accepted += 2
	}
	var te *telemetry.ThrottledError
	if !errors.As(refusal, &te) || te.RetryAfter <= 0 {
		t.Fatalf("refusal at the budget = %v, want a *telemetry.ThrottledError with a delay", refusal)
	}
	if accepted == 0 {
		t.Fatal("nothing accepted")
	}
	h.w.set(func(w *fakeWriter) { w.failAll = false })
	eventually(t, "everything accepted delivered", func() bool { return h.sent() == float64(accepted) })
	offer(t, h.s, logsRequest("after", 1)) // room again
}

// A batch the destination refuses for good leaves the spool for the dead-letter folder.
func TestDurableQueueDeadLettersAndMovesOn(t *testing.T) {
	dir := t.TempDir()
	o := durableOptions(dir)
	h := newHarness(t, &fakeWriter{permanent: true}, o)
	h.start(t)
	offer(t, h.s, logsRequest("refused", 2))
	eventually(t, "dead letter", func() bool { return h.deadLettered() == 2 })
	if dls := readDeadLetters(t, o.DeadLetterDir); len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	if err := shutdown(t, h.s, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	again := newHarness(t, &fakeWriter{}, o)
	again.start(t)
	time.Sleep(50 * time.Millisecond)
	if n := len(again.w.delivered()); n != 0 {
		t.Errorf("a dead-lettered batch was delivered again after a restart (%d requests)", n)
	}
}
