package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/telemetry"
)

const name = "test"

type harness struct {
	s   *Sink
	w   *fakeWriter
	m   *admin.Metrics
	log *testlog.Buffer // the worker writes to it while the test reads
}

func newHarness(t *testing.T, w *fakeWriter, o Options) *harness {
	t.Helper()
	h := &harness{w: w, m: admin.NewTestMetrics(), log: &testlog.Buffer{}}
	o.Name, o.Metrics = name, h.m
	if o.Batch.MaxRecords == 0 {
		// One request per delivery, so tests can follow each request; batching has tests
		// of its own.
		o.Batch.MaxRecords = 1
	}
	o.Logger = slog.New(slog.NewTextHandler(h.log, nil))
	h.s = New(w, o)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.s.Shutdown(ctx) // tests that care shut down themselves; this only stops the worker
	})
	return h
}

func (h *harness) start(t *testing.T) {
	t.Helper()
	if err := h.s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

func (h *harness) sent() float64 {
	return testutil.ToFloat64(h.m.SentRecords.WithLabelValues(name, "logs"))
}
func (h *harness) retried() float64 {
	return testutil.ToFloat64(h.m.RetriedRecords.WithLabelValues(name, "logs"))
}
func (h *harness) deadLettered() float64 {
	return testutil.ToFloat64(h.m.DeadLetterRecords.WithLabelValues(name, "logs"))
}
func (h *harness) failed() float64 {
	return testutil.ToFloat64(h.m.FailedRecords.WithLabelValues(name, "logs"))
}
func (h *harness) dropped(reason string) float64 {
	return testutil.ToFloat64(h.m.DroppedRecords.WithLabelValues(name, "logs", reason))
}
func (h *harness) sendErrors() float64 {
	return testutil.ToFloat64(h.m.SendErrors.WithLabelValues(name))
}
func (h *harness) queued() (records, bytes float64) {
	return testutil.ToFloat64(h.m.QueueRecords.WithLabelValues(name)), testutil.ToFloat64(h.m.QueueBytes.WithLabelValues(name))
}
func (h *harness) attemptsObserved() uint64 {
	var d dto.Metric
	if err := h.m.SendDuration.WithLabelValues(name).(prometheus.Histogram).Write(&d); err != nil {
		panic(err)
	}
	return d.GetHistogram().GetSampleCount()
}

func shutdown(t *testing.T, s *Sink, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d + 10*time.Second):
		t.Fatalf("Shutdown(%s) did not return", d)
		return nil
	}
}

func TestDeliversInOrder(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{})
	if got := testutil.ToFloat64(h.m.QueueCapacityBytes.WithLabelValues(name)); got != defaultQueueBytes {
		t.Errorf("queue capacity gauge = %v, want the 64 MiB default", got)
	}
	h.start(t)
	var want []telemetry.Request
	records := 0
	for i := range 30 {
		r := logsRequest(fmt.Sprintf("r%d", i), i%3+1)
		want = append(want, r)
		records += r.Records()
		offer(t, h.s, r)
	}
	eventually(t, "every request delivered", func() bool { return len(h.w.delivered()) == len(want) })
	for i, r := range h.w.delivered() {
		if r.Logs != want[i].Logs {
			t.Fatalf("delivery %d is %v, want %v", i, r.Logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0].Body, want[i].Logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0].Body)
		}
	}
	eventually(t, "sent records counted", func() bool { return h.sent() == float64(records) })
	if recs, b := h.queued(); recs != 0 || b != 0 {
		t.Errorf("queue gauges after delivery = %v records, %v bytes; want 0, 0", recs, b)
	}
	if err := shutdown(t, h.s, 5*time.Second); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := h.w.closeCount(); n != 1 {
		t.Errorf("writer closed %d times, want 1", n)
	}
	if h.sendErrors() != 0 || h.failed() != 0 {
		t.Errorf("send errors %v, failed %v; want none", h.sendErrors(), h.failed())
	}
}

func TestRetriesWithBackoffThenDelivers(t *testing.T) {
	initial, maxInterval := 2*time.Millisecond, 8*time.Millisecond
	h := newHarness(t, &fakeWriter{failNext: 4}, Options{
		Retry: config.Retry{InitialInterval: config.Duration(initial), MaxInterval: config.Duration(maxInterval)},
	})
	h.start(t)
	r := logsRequest("r", 3)
	offer(t, h.s, r)
	eventually(t, "delivery after retries", func() bool { return h.sent() == 3 })

	if got := h.w.delivered(); len(got) != 1 || !proto.Equal(got[0].Logs, r.Logs) {
		t.Fatalf("delivered %d requests, want the one", len(got))
	}
	at := h.w.attemptTimes()
	if len(at) != 5 {
		t.Fatalf("%d attempts, want 5 (4 failures, then success)", len(at))
	}
	// Equal jitter waits at least half of each step: 2, 4, 8, 8 ms.
	for i, step := range []time.Duration{initial, 2 * initial, maxInterval, maxInterval} {
		if gap := at[i+1].Sub(at[i]); gap < step/2 {
			t.Errorf("wait before attempt %d = %s, want at least %s", i+2, gap, step/2)
		}
	}
	if got := h.sendErrors(); got != 4 {
		t.Errorf("send errors = %v, want 4", got)
	}
	if got := h.attemptsObserved(); got != 5 {
		t.Errorf("send duration observations = %d, want 5", got)
	}
	if h.failed() != 0 {
		t.Errorf("failed records = %v, want 0", h.failed())
	}
	eventually(t, "recovery logged", func() bool { return strings.Contains(h.log.String(), "delivery recovered") })
	logged := h.log.String()
	if n := strings.Count(logged, "delivery failed; retrying"); n != 1 {
		t.Errorf("logged the failure %d times, want once:\n%s", n, logged)
	}
	if strings.Contains(logged, "still failing") {
		t.Errorf("logged every attempt instead of rate-limiting:\n%s", logged)
	}
}

func TestPermanentErrorCountsFailedAndMovesOn(t *testing.T) {
	h := newHarness(t, &fakeWriter{permanent: true}, Options{
		Retry: config.Retry{InitialInterval: config.Duration(time.Millisecond)},
	})
	h.start(t)
	offer(t, h.s, logsRequest("bad", 2))
	eventually(t, "failed records counted", func() bool { return h.failed() == 2 })
	if n := len(h.w.attemptTimes()); n != 1 {
		t.Errorf("%d attempts for a permanent error, want 1", n)
	}
	if got := h.sendErrors(); got != 1 {
		t.Errorf("send errors = %v, want 1", got)
	}
	if !strings.Contains(h.log.String(), "refused data for good") || !strings.Contains(h.log.String(), "bad data") {
		t.Errorf("the refusal and its reason are not logged:\n%s", h.log.String())
	}

	h.w.set(func(w *fakeWriter) { w.permanent = false })
	offer(t, h.s, logsRequest("good", 1))
	eventually(t, "the next request delivered", func() bool { return h.sent() == 1 })
	if h.failed() != 2 {
		t.Errorf("failed records = %v, want still 2", h.failed())
	}
	if err := h.s.Healthy(); err != nil {
		t.Errorf("Healthy after delivering again: %v", err)
	}
}

func TestMaxElapsedGivesUp(t *testing.T) {
	h := newHarness(t, &fakeWriter{failAll: true}, Options{
		Retry: config.Retry{
			InitialInterval: config.Duration(2 * time.Millisecond),
			MaxInterval:     config.Duration(4 * time.Millisecond),
			MaxElapsed:      config.Duration(30 * time.Millisecond),
		},
	})
	h.start(t)
	offer(t, h.s, logsRequest("r", 3))
	eventually(t, "giving up", func() bool { return h.failed() == 3 })
	n := len(h.w.attemptTimes())
	if n < 2 {
		t.Errorf("gave up after %d attempts, want retries first", n)
	}
	if h.sent() != 0 {
		t.Errorf("sent = %v, want 0", h.sent())
	}
	if !strings.Contains(h.log.String(), "max_elapsed") {
		t.Errorf("giving up is not logged:\n%s", h.log.String())
	}
	// The worker is free again.
	offer(t, h.s, logsRequest("next", 1))
	eventually(t, "an attempt at the next request", func() bool { return len(h.w.attemptTimes()) > n })
}

func TestReserveRefusesWhenFull(t *testing.T) {
	for _, tc := range []struct {
		initial, wantRetryAfter time.Duration
	}{
		{10 * time.Millisecond, time.Second}, // never less than a second
		{3 * time.Second, 3 * time.Second},
	} {
		t.Run(tc.initial.String(), func(t *testing.T) {
			h := newHarness(t, &fakeWriter{}, Options{
				Queue: config.Queue{MaxBytes: 100, WhenFull: "refuse"},
				Retry: config.Retry{InitialInterval: config.Duration(tc.initial)},
			})
			if err := h.s.Reserve(60); err != nil {
				t.Fatalf("Reserve(60) on an empty queue: %v", err)
			}
			err := h.s.Reserve(50)
			var te *telemetry.ThrottledError
			if !errors.As(err, &te) {
				t.Fatalf("Reserve(50) with 60 of 100 bytes reserved = %v, want a *telemetry.ThrottledError", err)
			}
			if te.Sink != name || te.RetryAfter != tc.wantRetryAfter {
				t.Errorf("ThrottledError{Sink: %q, RetryAfter: %s}, want %q, %s", te.Sink, te.RetryAfter, name, tc.wantRetryAfter)
			}

			h.s.Unreserve(60)
			for _, n := range []int{50, 50} {
				if err := h.s.Reserve(n); err != nil {
					t.Fatalf("Reserve(%d) after Unreserve: %v", n, err)
				}
			}
			// Queued requests keep their room taken.
			if err := h.s.Put(context.Background(), logsRequest("a", 1), 50); err != nil {
				t.Fatal(err)
			}
			if err := h.s.Put(context.Background(), logsRequest("b", 2), 50); err != nil {
				t.Fatal(err)
			}
			if err := h.s.Reserve(1); !errors.As(err, &te) {
				t.Errorf("Reserve(1) on a full queue = %v, want a *telemetry.ThrottledError", err)
			}
			if recs, b := h.queued(); recs != 3 || b != 100 {
				t.Errorf("queue gauges = %v records, %v bytes; want 3, 100", recs, b)
			}
			h.start(t)
			eventually(t, "delivery", func() bool { return h.sent() == 3 })
			if err := h.s.Reserve(100); err != nil {
				t.Errorf("Reserve(100) once delivered: %v", err)
			}
			h.s.Unreserve(100)
			if err := shutdown(t, h.s, 5*time.Second); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
	}
}

func TestDropOldestEvicts(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{Queue: config.Queue{MaxBytes: 100, WhenFull: "drop_oldest"}})
	rs := []telemetry.Request{logsRequest("r1", 2), logsRequest("r2", 3), logsRequest("r3", 4)}
	for range rs {
		if err := h.s.Reserve(40); err != nil {
			t.Fatalf("Reserve with drop_oldest: %v", err)
		}
	}
	for _, r := range rs {
		if err := h.s.Put(context.Background(), r, 40); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.dropped("queue_full"); got != 2 {
		t.Errorf("dropped{queue_full} = %v, want the oldest request's 2 records", got)
	}
	if recs, b := h.queued(); recs != 7 || b != 80 {
		t.Errorf("queue gauges = %v records, %v bytes; want 7, 80", recs, b)
	}
	h.start(t)
	eventually(t, "delivery", func() bool { return len(h.w.delivered()) == 2 })
	got := h.w.delivered()
	if got[0].Logs != rs[1].Logs || got[1].Logs != rs[2].Logs {
		t.Errorf("delivered something other than the two newest requests, in order")
	}
	if !strings.Contains(h.log.String(), "dropped the oldest") {
		t.Errorf("eviction not logged:\n%s", h.log.String())
	}
}

func TestOversizeRequestRefused(t *testing.T) {
	for _, whenFull := range []string{"refuse", "drop_oldest"} {
		t.Run(whenFull, func(t *testing.T) {
			h := newHarness(t, &fakeWriter{}, Options{Queue: config.Queue{MaxBytes: 100, WhenFull: whenFull}})
			err := h.s.Reserve(101)
			if err == nil {
				t.Fatal("Reserve(101) on a queue of 100 bytes succeeded")
			}
			var te *telemetry.ThrottledError
			if errors.As(err, &te) {
				t.Errorf("Reserve(101) = %v: a ThrottledError tells the client to retry what can never fit", err)
			}
			if !strings.Contains(err.Error(), "larger than") {
				t.Errorf("Reserve(101) = %q, want it to say the request is larger than the queue", err)
			}
			if err := h.s.Reserve(100); err != nil {
				t.Errorf("Reserve(100) after the refusal: %v", err)
			}
		})
	}
}

func TestShutdownDrains(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{})
	var want []telemetry.Request
	for i := range 50 {
		r := logsRequest(fmt.Sprintf("r%d", i), 2)
		want = append(want, r)
		offer(t, h.s, r)
	}
	h.start(t)
	// A reservation made before Shutdown can still be put, and is delivered too.
	late := logsRequest("late", 2)
	if err := h.s.Reserve(size(late)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- shutdown(t, h.s, 5*time.Second) }()
	eventually(t, "Reserve refusing once shutting down", func() bool {
		if h.s.Reserve(1) != nil {
			return true
		}
		h.s.Unreserve(1)
		return false
	})
	var te *telemetry.ThrottledError
	if err := h.s.Reserve(1); errors.As(err, &te) {
		t.Errorf("Reserve while shutting down = %v, want a plain error", err)
	}
	if err := h.s.Put(context.Background(), late, size(late)); err != nil {
		t.Fatalf("Put of a reservation made before Shutdown: %v", err)
	}
	want = append(want, late)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	got := h.w.delivered()
	if len(got) != len(want) {
		t.Fatalf("delivered %d requests, want all %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Logs != want[i].Logs {
			t.Fatalf("delivery %d out of order", i)
		}
	}
	if h.sent() != 102 || h.dropped("shutdown") != 0 {
		t.Errorf("sent %v, dropped{shutdown} %v; want 102, 0", h.sent(), h.dropped("shutdown"))
	}
	if n := h.w.closeCount(); n != 1 {
		t.Errorf("writer closed %d times, want 1", n)
	}
}

func TestShutdownWithStuckWriter(t *testing.T) {
	w := &fakeWriter{block: make(chan struct{}), entered: make(chan struct{}, 10)}
	h := newHarness(t, w, Options{})
	h.start(t)
	for i, n := range []int{1, 2, 3} {
		offer(t, h.s, logsRequest(fmt.Sprint(i), n))
	}
	<-w.entered // the first request is in flight and will not come back

	err := shutdown(t, h.s, 50*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a stuck writer = %v, want a deadline error", err)
	}
	if !strings.Contains(err.Error(), "6 records") {
		t.Errorf("Shutdown error %q does not say how much was left", err)
	}
	if got := h.dropped("shutdown"); got != 6 {
		t.Errorf("dropped{shutdown} = %v, want all 6 records (in flight and queued)", got)
	}
	if recs, b := h.queued(); recs != 0 || b != 0 {
		t.Errorf("queue gauges after shutdown = %v records, %v bytes; want 0, 0", recs, b)
	}
	if !strings.Contains(h.log.String(), "records=6") {
		t.Errorf("the drop is not logged with its count:\n%s", h.log.String())
	}
	if n := w.closeCount(); n != 0 {
		t.Fatalf("writer closed while a Write was still running")
	}

	close(w.block) // the write finally returns
	eventually(t, "the writer closed after its last write", func() bool { return w.closeCount() == 1 })
	if h.sent() != 0 {
		t.Errorf("sent = %v after the deadline; records are counted once, as dropped", h.sent())
	}
	w.set(func(w *fakeWriter) {
		if w.wroteAfterClose {
			t.Error("Write called after Close")
		}
	})
	if err2 := h.s.Shutdown(context.Background()); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second Shutdown = %v, want the first's result %v", err2, err)
	}
}

func TestShutdownBeforeStartAndTwice(t *testing.T) {
	for _, queued := range []int{0, 2} {
		t.Run(fmt.Sprintf("%d records queued", queued), func(t *testing.T) {
			h := newHarness(t, &fakeWriter{}, Options{})
			if queued > 0 {
				offer(t, h.s, logsRequest("r", queued))
			}
			err := shutdown(t, h.s, time.Second)
			if (err != nil) != (queued > 0) {
				t.Errorf("Shutdown before Start = %v", err)
			}
			if got := h.dropped("shutdown"); got != float64(queued) {
				t.Errorf("dropped{shutdown} = %v, want %d", got, queued)
			}
			if err2 := shutdown(t, h.s, time.Second); fmt.Sprint(err2) != fmt.Sprint(err) {
				t.Errorf("second Shutdown = %v, want %v again", err2, err)
			}
			if n := h.w.closeCount(); n != 1 {
				t.Errorf("writer closed %d times, want 1", n)
			}
			if err := h.s.Start(context.Background()); err == nil {
				t.Error("Start after Shutdown succeeded")
			}
			if err := h.s.Reserve(1); err == nil {
				t.Error("Reserve after Shutdown succeeded")
			}
			if err := h.s.Put(context.Background(), logsRequest("late", 1), 10); err == nil {
				t.Error("Put after Shutdown succeeded")
			}
		})
	}
}

func TestStartTwice(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{})
	h.start(t)
	if err := h.s.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
}

func TestHealthy(t *testing.T) {
	t.Run("failing", func(t *testing.T) {
		h := newHarness(t, &fakeWriter{failAll: true}, Options{
			Retry: config.Retry{InitialInterval: config.Duration(time.Millisecond), MaxInterval: config.Duration(2 * time.Millisecond)},
		})
		h.s.stuckAfter = 30 * time.Millisecond
		h.start(t)
		if err := h.s.Healthy(); err != nil {
			t.Fatalf("Healthy before any data: %v", err)
		}
		offer(t, h.s, logsRequest("r", 1))
		eventually(t, "unhealthy", func() bool { return h.s.Healthy() != nil })
		err := h.s.Healthy()
		if !errors.Is(err, errDown) || !strings.Contains(err.Error(), "destination down") {
			t.Errorf("Healthy = %v, want it to carry the last error", err)
		}
		h.w.set(func(w *fakeWriter) { w.failAll = false })
		eventually(t, "healthy again", func() bool { return h.s.Healthy() == nil })
		eventually(t, "delivery", func() bool { return h.sent() == 1 })
	})
	t.Run("attempt not returning", func(t *testing.T) {
		w := &fakeWriter{block: make(chan struct{})}
		h := newHarness(t, w, Options{})
		h.s.stuckAfter = 30 * time.Millisecond
		h.start(t)
		offer(t, h.s, logsRequest("r", 1))
		eventually(t, "unhealthy", func() bool { return h.s.Healthy() != nil })
		if err := h.s.Healthy(); !strings.Contains(err.Error(), "not returned") {
			t.Errorf("Healthy = %v, want it to say the attempt has not returned", err)
		}
		close(w.block)
		eventually(t, "healthy again", func() bool { return h.s.Healthy() == nil })
	})
}

func TestConcurrentOffers(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{})
	h.start(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				r := logsRequest(fmt.Sprintf("g%d-%d", g, i), 1)
				n := size(r)
				for h.s.Reserve(n) != nil {
					time.Sleep(time.Millisecond)
				}
				if err := h.s.Put(context.Background(), r, n); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := shutdown(t, h.s, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := len(h.w.delivered()); got != 400 || h.sent() != 400 {
		t.Errorf("delivered %d requests, %v records; want 400", got, h.sent())
	}
}

func TestEmptyRequestRefused(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{Queue: config.Queue{MaxBytes: 10}})
	if err := h.s.Reserve(10); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Put(context.Background(), telemetry.Request{}, 10); err == nil {
		t.Error("Put of an empty request succeeded")
	}
	if err := h.s.Reserve(10); err != nil {
		t.Errorf("the refused Put kept its reservation: %v", err)
	}
}
