package sinks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/config"
	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// bodies lists the log bodies a request carries, in order.
func bodies(r telemetry.Request) []string {
	var out []string
	for _, rl := range r.Logs.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				out = append(out, lr.Body.GetStringValue())
			}
		}
	}
	return out
}

func TestBatchesMergeRequestsWithinLimits(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{
		Batch: config.Batch{MaxRecords: 5, MaxWait: config.Duration(50 * time.Millisecond)},
	})
	var want []string
	for i := range 12 {
		r := logsRequest(fmt.Sprintf("r%d", i), 2)
		want = append(want, bodies(r)...)
		offer(t, h.s, r)
	}
	h.start(t)
	eventually(t, "every record delivered", func() bool { return h.sent() == 24 })
	var got []string
	for i, r := range h.w.delivered() {
		n := r.Records()
		if n > 5 {
			t.Errorf("batch %d holds %d records, over max_records 5", i, n)
		}
		if n < 4 && i < len(h.w.delivered())-1 {
			t.Errorf("batch %d holds %d records: a batch closed before it was full while more waited", i, n)
		}
		got = append(got, bodies(r)...)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered records in another order or incomplete:\n got %v\nwant %v", got, want)
	}
}

// A request larger than the batch limits is not split or held back: it goes alone.
func TestOversizeRequestGoesAlone(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{Batch: config.Batch{MaxRecords: 3}})
	offer(t, h.s, logsRequest("small", 1))
	big := logsRequest("big", 10)
	offer(t, h.s, big)
	h.start(t)
	eventually(t, "delivery", func() bool { return h.sent() == 11 })
	got := h.w.delivered()
	if len(got) != 2 || got[1].Logs != big.Logs {
		t.Fatalf("delivered %d requests; want the small one, then the big one alone", len(got))
	}
}

// The wait lets a batch fill from requests that arrive after it opened.
func TestBatchWaitCollectsLaterRequests(t *testing.T) {
	h := newHarness(t, &fakeWriter{}, Options{
		Batch: config.Batch{MaxRecords: 100, MaxWait: config.Duration(300 * time.Millisecond)},
	})
	h.start(t)
	for i := range 3 {
		offer(t, h.s, logsRequest(fmt.Sprint(i), 1))
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, "delivery", func() bool { return h.sent() == 3 })
	if n := len(h.w.delivered()); n != 1 {
		t.Errorf("%d deliveries, want the three requests in one batch", n)
	}
}

// concurrentWriter counts how many Writes run at once.
type concurrentWriter struct {
	serial          bool
	running, peak   atomic.Int32
	records         atomic.Int64
	pause           time.Duration
	mu              sync.Mutex
	overlappedWhile bool
}

func (w *concurrentWriter) Write(ctx context.Context, r telemetry.Request) error {
	n := w.running.Add(1)
	defer w.running.Add(-1)
	for {
		p := w.peak.Load()
		if n <= p || w.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(w.pause)
	w.records.Add(int64(r.Records()))
	return nil
}
func (w *concurrentWriter) Close() error   { return nil }
func (w *concurrentWriter) Limits() Limits { return Limits{Serial: w.serial} }

func TestWorkersDeliverConcurrentlyUnlessSerial(t *testing.T) {
	for _, serial := range []bool{false, true} {
		t.Run(fmt.Sprintf("serial=%v", serial), func(t *testing.T) {
			w := &concurrentWriter{serial: serial, pause: 20 * time.Millisecond}
			s := New(w, Options{Name: name, Queue: config.Queue{Workers: 4}, Batch: config.Batch{MaxRecords: 1}})
			for i := range 16 {
				offer(t, s, logsRequest(fmt.Sprint(i), 1))
			}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := shutdown(t, s, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if got := w.records.Load(); got != 16 {
				t.Fatalf("delivered %d records, want 16", got)
			}
			peak := w.peak.Load()
			if serial && peak != 1 {
				t.Errorf("a Serial writer saw %d Writes at once", peak)
			}
			if !serial && peak < 2 {
				t.Errorf("4 workers never wrote concurrently (peak %d)", peak)
			}
		})
	}
}

// throttlingWriter asks for a delay, as RetryInfo or Retry-After do, then accepts.
type throttlingWriter struct {
	fakeWriter
	after time.Duration
	once  sync.Once
}

func (w *throttlingWriter) Write(ctx context.Context, r telemetry.Request) error {
	var err error
	w.once.Do(func() { err = RetryAfter(errors.New("slow down"), w.after) })
	if err != nil {
		w.mu.Lock()
		w.attempts = append(w.attempts, time.Now())
		w.mu.Unlock()
		return err
	}
	return w.fakeWriter.Write(ctx, r)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	w := &throttlingWriter{after: 150 * time.Millisecond}
	h := newHarness(t, &w.fakeWriter, Options{})
	h.s.w = w
	h.s.retry.InitialInterval = config.Duration(time.Millisecond)
	h.start(t)
	offer(t, h.s, logsRequest("r", 1))
	eventually(t, "delivery", func() bool { return h.sent() == 1 })
	at := w.attemptTimes()
	if len(at) != 2 {
		t.Fatalf("%d attempts, want 2", len(at))
	}
	if gap := at[1].Sub(at[0]); gap < w.after {
		t.Errorf("retried after %s; the destination asked for %s", gap, w.after)
	}
	if got := h.retried(); got != 1 {
		t.Errorf("retried records = %v, want 1", got)
	}
}

// readDeadLetters reads every dead letter in dir.
func readDeadLetters(t *testing.T, dir string) []deadLetter {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	var out []deadLetter
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o, want 0600", f, info.Mode().Perm())
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var dl deadLetter
		if err := json.Unmarshal(data, &dl); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, dl)
	}
	return out
}

func TestPermanentRefusalIsDeadLettered(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deadletter", name)
	h := newHarness(t, &fakeWriter{permanent: true}, Options{DeadLetterDir: dir})
	h.start(t)
	r := logsRequest("refused", 3)
	offer(t, h.s, r)
	eventually(t, "dead letter counted", func() bool { return h.deadLettered() == 3 })
	dls := readDeadLetters(t, dir)
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	dl := dls[0]
	if dl.Sink != name || dl.Signal != "logs" || dl.Records != 3 || dl.Attempts != 1 || !strings.Contains(dl.Error, "bad data") {
		t.Errorf("dead letter = %+v", dl)
	}
	back := &collogspb.ExportLogsServiceRequest{}
	if err := otlpjson.Unmarshal(dl.Request, back); err != nil {
		t.Fatalf("the dead letter's request is not OTLP/JSON: %v", err)
	}
	if !proto.Equal(back, r.Logs) {
		t.Error("the dead letter's request differs from what was refused")
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("dead-letter folder: %v, mode %v; want 0700", err, info.Mode().Perm())
	}
	if h.failed() != 3 || h.sent() != 0 {
		t.Errorf("failed %v, sent %v; want 3, 0", h.failed(), h.sent())
	}
	// Nothing is retried forever: the worker moved on.
	h.w.set(func(w *fakeWriter) { w.permanent = false })
	offer(t, h.s, logsRequest("next", 1))
	eventually(t, "the next request delivered", func() bool { return h.sent() == 1 })
}

func TestMaxElapsedDeadLetters(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, &fakeWriter{failAll: true}, Options{
		DeadLetterDir: dir,
		Retry: config.Retry{
			InitialInterval: config.Duration(2 * time.Millisecond),
			MaxInterval:     config.Duration(4 * time.Millisecond),
			MaxElapsed:      config.Duration(30 * time.Millisecond),
		},
	})
	h.start(t)
	offer(t, h.s, logsRequest("r", 2))
	eventually(t, "dead letter", func() bool { return h.deadLettered() == 2 })
	dls := readDeadLetters(t, dir)
	if len(dls) != 1 || !strings.Contains(dls[0].Error, "max_elapsed") || !strings.Contains(dls[0].Error, "destination down") || dls[0].Attempts < 2 {
		t.Errorf("dead letters = %+v; want one saying it ran out of max_elapsed, with the last error", dls)
	}
}

func TestDeadLetterFailureIsCounted(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A folder under a regular file cannot be made.
	h := newHarness(t, &fakeWriter{permanent: true}, Options{DeadLetterDir: filepath.Join(blocker, "dl")})
	h.start(t)
	offer(t, h.s, logsRequest("r", 2))
	eventually(t, "drop counted", func() bool { return h.dropped("dead_letter_failed") == 2 })
	if !strings.Contains(h.log.String(), "cannot write a dead letter") {
		t.Errorf("the failure is not logged:\n%s", h.log.String())
	}
}
