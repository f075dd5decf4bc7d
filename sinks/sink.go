package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/logevery"
	"claude-otel-gw/telemetry"
)

// Defaults for options left at zero; they match the config's defaults.
const (
	defaultQueueBytes      = 64 << 20
	defaultInitialInterval = time.Second
	defaultMaxInterval     = 30 * time.Second
	// attemptTimeout bounds one Write, so a destination that hangs is retried, not waited on.
	attemptTimeout = 30 * time.Second
	// stuckAfter is how long every attempt must have failed before Healthy reports the sink stuck.
	stuckAfter = time.Minute
	// logEvery bounds how often a repeated condition (failures, evictions) is logged.
	logEvery = time.Minute
	// minRetryAfter is the least a client is told to wait when a queue is full: sooner would
	// most likely find it full again.
	minRetryAfter = time.Second
)

// Options configure a Sink.
type Options struct {
	Name    string       // the sink's name, used in logs and metric labels
	Queue   config.Queue // MaxBytes (0: 64 MiB), WhenFull ("refuse" | "drop_oldest"; "": refuse)
	Retry   config.Retry // InitialInterval (0: 1s), MaxInterval (0: 30s), MaxElapsed (0: until delivered or shutdown)
	Metrics *admin.Metrics
	Logger  *slog.Logger
}

// Sink is one destination behind a bounded in-memory queue: requests put into it are delivered
// by its own worker, in order, retried with backoff until they are delivered, refused for good,
// out of time (Retry.MaxElapsed), or still queued when Shutdown's deadline passes.
//
// The queue counts the protobuf size of what waits in it; the one request being delivered is
// out of the queue and does not count.
type Sink struct {
	name  string
	w     Writer
	log   *slog.Logger
	q     *queue
	m     sinkMetrics
	retry config.Retry // defaults filled in
	// retryAfter is the hint given to clients when the queue is full.
	retryAfter time.Duration
	// attemptTimeout and stuckAfter are fields so tests can shorten them.
	attemptTimeout time.Duration
	stuckAfter     time.Duration

	health   health
	evictLog logevery.Limiter

	mu         sync.Mutex
	state      state
	cancel     context.CancelFunc // ends the worker's context
	workerDone chan struct{}      // closed when the worker has returned
	inflight   *entry             // the request being delivered; settled exactly once
	abandoned  bool               // Shutdown's deadline passed: what the worker takes now is dropped
	stopped    chan struct{}      // closed when the first Shutdown has finished
	stopErr    error              // what the first Shutdown returned

	closeOnce sync.Once
	closeErr  error
}

type state uint8

const (
	created state = iota
	running
	stopping
)

// sinkMetrics are the sink's series, resolved once so the hot path does no label lookups.
// Per-signal series are indexed by telemetry.Signal.
type sinkMetrics struct {
	queueRecords, queueBytes prometheus.Gauge
	sendErrors               prometheus.Counter
	sendDuration             prometheus.Observer
	sent, failed             [telemetry.Traces + 1]prometheus.Counter
	droppedFull, droppedStop [telemetry.Traces + 1]prometheus.Counter
}

func newSinkMetrics(m *admin.Metrics, name string, capacity int) sinkMetrics {
	sm := sinkMetrics{
		queueRecords: m.QueueRecords.WithLabelValues(name),
		queueBytes:   m.QueueBytes.WithLabelValues(name),
		sendErrors:   m.SendErrors.WithLabelValues(name),
		sendDuration: m.SendDuration.WithLabelValues(name),
	}
	m.QueueCapacityBytes.WithLabelValues(name).Set(float64(capacity))
	for _, sig := range telemetry.Signals {
		sm.sent[sig] = m.SentRecords.WithLabelValues(name, sig.String())
		sm.failed[sig] = m.FailedRecords.WithLabelValues(name, sig.String())
		sm.droppedFull[sig] = m.DroppedRecords.WithLabelValues(sig.String(), "queue_full")
		sm.droppedStop[sig] = m.DroppedRecords.WithLabelValues(sig.String(), "shutdown")
	}
	return sm
}

// count adds e's records to the per-signal counter in cs.
func count(cs *[telemetry.Traces + 1]prometheus.Counter, e *entry) {
	if sig := e.r.Signal(); sig != 0 && int(sig) < len(cs) {
		cs[sig].Add(float64(e.records))
	}
}

// New builds a sink that delivers through w. It starts nothing: Start does.
func New(w Writer, o Options) *Sink {
	capacity := int(o.Queue.MaxBytes)
	if capacity <= 0 {
		capacity = defaultQueueBytes
	}
	r := o.Retry
	if r.InitialInterval <= 0 {
		r.InitialInterval = config.Duration(defaultInitialInterval)
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = config.Duration(defaultMaxInterval)
	}
	r.MaxInterval = max(r.MaxInterval, r.InitialInterval)
	m := o.Metrics
	if m == nil {
		m = admin.NewMetrics(prometheus.NewRegistry(), "", "")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sink{
		name:           o.Name,
		w:              w,
		log:            log.With("sink", o.Name),
		q:              newQueue(capacity, o.Queue.WhenFull == "drop_oldest"),
		m:              newSinkMetrics(m, o.Name, capacity),
		retry:          r,
		retryAfter:     max(r.InitialInterval.D(), minRetryAfter),
		attemptTimeout: attemptTimeout,
		stuckAfter:     stuckAfter,
		evictLog:       logevery.Limiter{Every: logEvery},
		workerDone:     make(chan struct{}),
		stopped:        make(chan struct{}),
	}
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Start starts the worker and returns. ctx is for starting only: the worker lives until
// Shutdown, whatever happens to ctx.
func (s *Sink) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case running:
		return fmt.Errorf("sink %q: already started", s.name)
	case stopping:
		return fmt.Errorf("sink %q: shut down", s.name)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.state = running
	go s.run(wctx)
	s.log.Info("sink started", "queue_bytes", s.q.capacity)
	return nil
}

// Shutdown stops taking data and delivers what is queued (and what is reserved and then put)
// until ctx ends; then it drops what is left, counting it in DroppedRecords{reason="shutdown"},
// and closes the writer. It returns an error when data was left or the writer failed to close.
// It is safe before Start, and a second call waits for the first and returns its result.
//
// A write that is in flight when ctx ends is asked to stop through its context; if the writer
// ignores that, Shutdown returns anyway and the writer is closed once that write returns.
func (s *Sink) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state == stopping {
		s.mu.Unlock()
		select {
		case <-s.stopped:
			return s.stopErr
		case <-ctx.Done():
			return fmt.Errorf("sink %q: waiting for shutdown: %w", s.name, ctx.Err())
		}
	}
	wasRunning := s.state == running
	s.state = stopping
	s.mu.Unlock()

	s.q.close()
	var err error
	if !wasRunning {
		if n := s.dropLeftovers(); n > 0 {
			err = fmt.Errorf("sink %q: shut down before it started, with %d records queued", s.name, n)
		}
		err = errors.Join(err, s.closeWriter())
	} else {
		select {
		case <-s.workerDone:
			s.cancel()
			err = s.closeWriter()
		case <-ctx.Done():
			s.cancel()
			n := s.dropLeftovers()
			err = fmt.Errorf("sink %q: drain stopped with %d records undelivered: %w", s.name, n, ctx.Err())
			go func() {
				<-s.workerDone
				if err := s.closeWriter(); err != nil {
					s.log.Warn("closing the destination failed", "err", err)
				}
			}()
		}
	}
	s.log.Info("sink stopped")
	s.stopErr = err
	close(s.stopped)
	return err
}

// dropLeftovers takes everything out of the queue, and the request in flight if any, and counts
// it as dropped at shutdown. It returns the number of records.
func (s *Sink) dropLeftovers() int {
	left := s.q.drain()
	queued := len(left)
	s.mu.Lock()
	s.abandoned = true
	if s.inflight != nil {
		left = append(left, *s.inflight)
		s.inflight = nil
	}
	s.mu.Unlock()
	records := 0
	for i := range left {
		e := &left[i]
		if i < queued {
			s.m.queueRecords.Sub(float64(e.records))
			s.m.queueBytes.Sub(float64(e.size))
		}
		count(&s.m.droppedStop, e)
		records += e.records
	}
	if records > 0 {
		s.log.Warn("sink shut down with undelivered data; dropped it", "records", records, "requests", len(left))
	}
	return records
}

func (s *Sink) closeWriter() error {
	s.closeOnce.Do(func() {
		if err := s.w.Close(); err != nil {
			s.closeErr = fmt.Errorf("sink %q: close: %w", s.name, err)
		}
	})
	return s.closeErr
}

// Reserve makes room for a request of size bytes (its protobuf size), to be used by Put or given
// back by Unreserve. When the queue is full and the sink refuses, the error is a
// *telemetry.ThrottledError; with when_full = "drop_oldest" Reserve never refuses for lack of
// room. A request larger than the whole queue is refused with a plain error, since retrying
// cannot help, and so is everything once Shutdown has begun.
func (s *Sink) Reserve(size int) error {
	size = max(size, 0)
	switch err := s.q.reserve(size); {
	case err == nil:
		return nil
	case errors.Is(err, errFull):
		return &telemetry.ThrottledError{Sink: s.name, Reason: "queue full", RetryAfter: s.retryAfter}
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("sink %q: a request of %d bytes is larger than its whole queue (%d bytes)", s.name, size, s.q.capacity)
	default:
		return fmt.Errorf("sink %q: shutting down", s.name)
	}
}

// Unreserve gives back a reservation that will not be used.
func (s *Sink) Unreserve(size int) { s.q.unreserve(max(size, 0)) }

// Put queues r using a reservation of size bytes made by Reserve. It does not block. With
// when_full = "drop_oldest" it evicts the oldest requests to make room and counts their records
// in DroppedRecords{reason="queue_full"}. r is read-only from here on, for the sink as for
// everyone else. Put fails only for an empty request or once Shutdown has given up on the
// queue; the records of the latter are counted as dropped at shutdown.
func (s *Sink) Put(_ context.Context, r telemetry.Request, size int) error {
	size = max(size, 0)
	if r.Signal() == 0 {
		s.q.unreserve(size)
		return fmt.Errorf("sink %q: empty request", s.name)
	}
	e := entry{r: r, size: size, records: r.Records()}
	// Counted before the worker can take it, so the gauges never go below zero.
	s.m.queueRecords.Add(float64(e.records))
	s.m.queueBytes.Add(float64(e.size))
	evicted, err := s.q.put(e)
	if err != nil {
		s.m.queueRecords.Sub(float64(e.records))
		s.m.queueBytes.Sub(float64(e.size))
		count(&s.m.droppedStop, &e)
		return fmt.Errorf("sink %q: shut down; %d records dropped", s.name, e.records)
	}
	if len(evicted) > 0 {
		s.evicted(evicted)
	}
	return nil
}

func (s *Sink) evicted(es []entry) {
	records := 0
	for i := range es {
		e := &es[i]
		s.m.queueRecords.Sub(float64(e.records))
		s.m.queueBytes.Sub(float64(e.size))
		count(&s.m.droppedFull, e)
		records += e.records
	}
	if ok, suppressed := s.evictLog.Allow(time.Now()); ok {
		s.log.Warn("queue full; dropped the oldest data to make room",
			"records", records, "requests", len(es), "earlier_evictions_not_logged", suppressed)
	}
}
