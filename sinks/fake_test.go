package sinks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/telemetry"
)

// fakeWriter is a destination the tests control: it records what it got, can fail a number of
// times, fail for good, or block until released.
type fakeWriter struct {
	mu              sync.Mutex
	got             []telemetry.Request
	attempts        []time.Time
	failNext        int           // fail this many more attempts with a retryable error
	failAll         bool          // fail every attempt with a retryable error
	permanent       bool          // refuse every request for good
	block           chan struct{} // when set, Write waits until it is closed, ignoring ctx
	entered         chan struct{} // when set, receives a value each time Write is entered
	closes          int
	wroteAfterClose bool
}

var errDown = errors.New("destination down")

func (w *fakeWriter) Write(ctx context.Context, r telemetry.Request) error {
	w.mu.Lock()
	w.attempts = append(w.attempts, time.Now())
	if w.closes > 0 {
		w.wroteAfterClose = true
	}
	block, entered := w.block, w.entered
	w.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if block != nil {
		<-block
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.permanent:
		return Permanent(fmt.Errorf("bad data: %w", errDown))
	case w.failAll:
		return errDown
	case w.failNext > 0:
		w.failNext--
		return errDown
	}
	w.got = append(w.got, r)
	return nil
}

func (w *fakeWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closes++
	return nil
}

func (w *fakeWriter) set(f func(w *fakeWriter)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w)
}

func (w *fakeWriter) delivered() []telemetry.Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]telemetry.Request(nil), w.got...)
}

func (w *fakeWriter) attemptTimes() []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.attempts...)
}

func (w *fakeWriter) closeCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closes
}

// logsRequest builds a logs request with records log records whose bodies name it.
func logsRequest(name string, records int) telemetry.Request {
	sl := &logspb.ScopeLogs{}
	for i := range records {
		sl.LogRecords = append(sl.LogRecords, &logspb.LogRecord{
			Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: fmt.Sprintf("%s/%d", name, i)}},
		})
	}
	return telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{
		ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{sl}}},
	}}
}

func size(r telemetry.Request) int { return proto.Size(r.Message()) }

// offer reserves room for r and puts it, as the router does.
func offer(t testing.TB, s *Sink, r telemetry.Request) {
	t.Helper()
	n := size(r)
	if err := s.Reserve(n); err != nil {
		t.Fatalf("Reserve(%d): %v", n, err)
	}
	if err := s.Put(context.Background(), r, n); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
