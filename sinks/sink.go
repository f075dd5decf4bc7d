package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/logevery"
	"claude-otel-gw/sinks/spool"
	"claude-otel-gw/telemetry"
)

// Defaults for options left at zero; they match the config's defaults.
const (
	defaultQueueBytes      = 64 << 20
	defaultInitialInterval = time.Second
	defaultMaxInterval     = 30 * time.Second
	defaultAttemptTimeout  = 30 * time.Second
	defaultBatchRecords    = 1000
	defaultBatchBytes      = 4 << 20
	// stuckAfter is how long every attempt must have failed before Healthy reports the sink stuck.
	stuckAfter = time.Minute
	// logEvery bounds how often a repeated condition (failures, evictions) is logged.
	logEvery = time.Minute
	// minRetryAfter is the least a client is told to wait when a queue is full: sooner would
	// most likely find it full again.
	minRetryAfter = time.Second
	// maxRetryAfter bounds how long a destination's Retry-After or RetryInfo holds a batch back.
	maxRetryAfter = 15 * time.Minute
	// gaugeEvery is how often the queue's gauges (oldest age, spool size) are refreshed.
	gaugeEvery = time.Second
	// lateWriteGrace is how long Shutdown waits, after its deadline, for writes it cancelled.
	lateWriteGrace = time.Second
)

// Options configure a Sink. Zero values take the config's defaults.
type Options struct {
	Name  string       // the sink's name, used in logs and metric labels
	Queue config.Queue // Durable, MaxBytes, WhenFull ("refuse" | "drop_oldest"), FsyncDelay, Workers
	Batch config.Batch // MaxRecords, MaxBytes, MaxWait
	Retry config.Retry // InitialInterval, MaxInterval, MaxElapsed (0: until delivered), AttemptTimeout
	// SpoolDir is where a durable queue keeps its spool: <state dir>/spool/<sink>.
	SpoolDir string
	// DeadLetterDir is where refused batches go: <state dir>/deadletter/<sink>.
	DeadLetterDir string
	// Signals are those the destination takes (Cloud Trace: traces); nil takes all three.
	// The router offers a sink only these.
	Signals []telemetry.Signal
	Metrics *admin.Metrics
	Logger  *slog.Logger
}

// Sink is one destination behind a bounded queue (in memory, or durable in a spool on disk), a
// batcher merging queued requests of one signal, and workers delivering the batches with retry
// and backoff until they are delivered, refused for good (dead-lettered), out of time
// (Retry.MaxElapsed: dead-lettered), or given up at shutdown.
//
// A memory queue counts the protobuf size of what it holds, waiting or being delivered, and
// Shutdown drains it until its deadline and counts what is left as dropped. A durable queue's
// capacity is its disk budget: a request is accepted once it is synced to disk, leaves the spool
// only once delivered or dead-lettered, and what Shutdown leaves (or a crash) is delivered after
// the next start.
type Sink struct {
	name   string
	w      Writer
	log    *slog.Logger
	m      sinkMetrics
	opts   Options
	limits batchLimits
	retry  config.Retry // defaults filled in
	// workers is how many deliveries run at once: one for a Serial writer.
	workers int
	// retryAfter is the hint given to clients when the queue is full.
	retryAfter time.Duration
	// attemptTimeout and stuckAfter are fields so tests can shorten them.
	attemptTimeout time.Duration
	stuckAfter     time.Duration

	q    store
	mem  *memory  // q, for a memory queue
	disk *durable // q, for a durable queue, once started
	sp   *spool.Spool
	dead deadLetters

	health   health
	evictLog logevery.Limiter
	badLog   logevery.Limiter

	batches     chan *batch
	batcherDone chan struct{} // closed when the batcher has returned
	done        chan struct{} // closed when the batcher and every worker have returned

	mu          sync.Mutex
	state       state
	soft, hard  context.CancelFunc  // shutdown has begun; shutdown's deadline has passed
	outstanding map[*batch]struct{} // batches handed to the workers and not yet settled
	stopped     chan struct{}       // closed when the first Shutdown has finished
	stopErr     error               // what the first Shutdown returned
	shutDropped int                 // records a memory queue dropped at shutdown

	closeOnce sync.Once
	closeErr  error
}

type state uint8

const (
	created state = iota
	running
	stopping
)

// New builds a sink that delivers through w. It starts nothing and touches no file: Start
// opens a durable queue's spool and starts the workers.
func New(w Writer, o Options) *Sink {
	q := o.Queue
	if q.MaxBytes <= 0 {
		q.MaxBytes = defaultQueueBytes
	}
	o.Queue = q
	r := o.Retry
	if r.InitialInterval <= 0 {
		r.InitialInterval = config.Duration(defaultInitialInterval)
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = config.Duration(defaultMaxInterval)
	}
	r.MaxInterval = max(r.MaxInterval, r.InitialInterval)
	if r.AttemptTimeout <= 0 {
		r.AttemptTimeout = config.Duration(defaultAttemptTimeout)
	}
	limits := batchLimits{records: o.Batch.MaxRecords, bytes: int(o.Batch.MaxBytes), wait: o.Batch.MaxWait.D()}
	if limits.records <= 0 {
		limits.records = defaultBatchRecords
	}
	if limits.bytes <= 0 {
		limits.bytes = defaultBatchBytes
	}
	workers := max(q.Workers, 1)
	if l, ok := w.(Limiter); ok {
		wl := l.Limits()
		if wl.MaxRecords > 0 {
			limits.records = min(limits.records, wl.MaxRecords)
		}
		if wl.MaxBytes > 0 {
			limits.bytes = min(limits.bytes, wl.MaxBytes)
		}
		if wl.Serial {
			workers = 1
		}
	}
	m := o.Metrics
	if m == nil {
		m = admin.NewMetrics(prometheus.NewRegistry(), "", "")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sink{
		name:           o.Name,
		w:              w,
		log:            log.With("sink", o.Name),
		m:              newSinkMetrics(m, o.Name, int64(q.MaxBytes)),
		opts:           o,
		limits:         limits,
		retry:          r,
		workers:        workers,
		retryAfter:     max(r.InitialInterval.D(), minRetryAfter),
		attemptTimeout: r.AttemptTimeout.D(),
		stuckAfter:     stuckAfter,
		dead:           deadLetters{dir: o.DeadLetterDir},
		evictLog:       logevery.Limiter{Every: logEvery},
		badLog:         logevery.Limiter{Every: logEvery},
		batches:        make(chan *batch),
		batcherDone:    make(chan struct{}),
		done:           make(chan struct{}),
		outstanding:    map[*batch]struct{}{},
		stopped:        make(chan struct{}),
	}
	if !q.Durable {
		s.mem = newMemory(int(q.MaxBytes), q.WhenFull == "drop_oldest")
		s.q = s.mem
	}
	return s
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Takes reports whether the sink's destination takes signal sig.
func (s *Sink) Takes(sig telemetry.Signal) bool {
	return s.opts.Signals == nil || slices.Contains(s.opts.Signals, sig)
}

func (s *Sink) isDurable() bool { return s.opts.Queue.Durable }

// Start opens a durable queue's spool (recovering what a previous run left), starts the
// writer if it has something to start, then the batcher and the workers, and returns. ctx is
// for starting only: the workers live until Shutdown, whatever happens to ctx.
func (s *Sink) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case running:
		return fmt.Errorf("sink %q: already started", s.name)
	case stopping:
		return fmt.Errorf("sink %q: shut down", s.name)
	}
	if s.isDurable() {
		if err := s.openSpool(); err != nil {
			return err
		}
	}
	if st, ok := s.w.(Starter); ok {
		if err := st.Start(ctx); err != nil {
			s.closeSpool()
			return fmt.Errorf("sink %q: %w", s.name, err)
		}
	}
	base := context.WithoutCancel(ctx)
	soft, cancelSoft := context.WithCancel(base)
	hard, cancelHard := context.WithCancel(base)
	s.soft, s.hard = cancelSoft, cancelHard
	s.state = running
	takeCtx := hard
	if s.isDurable() {
		// A durable queue stops taking from the spool as soon as shutdown begins: what is
		// left there waits for the next start.
		takeCtx = soft
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.runBatcher(takeCtx, hard) })
	for range s.workers {
		wg.Go(func() { s.runWorker(soft, hard) })
	}
	go func() {
		wg.Wait()
		close(s.done)
	}()
	go s.refreshGauges(hard) // Shutdown ends hard when it is done
	if s.isDurable() {
		s.log.Info("sink started", "queue", "durable", "spool", s.opts.SpoolDir, "disk_budget", config.ByteSize(s.opts.Queue.MaxBytes), "workers", s.workers)
	} else {
		s.log.Info("sink started", "queue", "memory", "queue_bytes", config.ByteSize(s.opts.Queue.MaxBytes), "workers", s.workers)
	}
	return nil
}

// openSpool opens the durable queue's spool and reports what it recovered.
func (s *Sink) openSpool() error {
	if s.opts.SpoolDir == "" {
		return fmt.Errorf("sink %q: a durable queue needs a spool folder", s.name)
	}
	sp, rec, err := spool.Open(spool.Options{
		Dir:        s.opts.SpoolDir,
		MaxBytes:   int64(s.opts.Queue.MaxBytes),
		FsyncDelay: s.opts.Queue.FsyncDelay.D(),
		Logger:     s.log,
		Weigh:      recordWeight,
	})
	if err != nil {
		return fmt.Errorf("sink %q: opening its spool: %w", s.name, err)
	}
	s.sp = sp
	s.disk = newDurable(sp, int64(s.opts.Queue.MaxBytes), s.badRecord)
	s.q = s.disk
	if rec.Records > 0 {
		s.m.replayed.Add(float64(rec.Records))
		s.m.duplicates.Add(float64(rec.MaybeDelivered))
		s.log.Info("spool holds undelivered data from an earlier run; delivering it",
			"requests", rec.Records, "records", rec.Weight, "bytes", rec.Bytes, "requests_possibly_delivered_already", rec.MaybeDelivered)
	}
	return nil
}

// badRecord logs a spool record that could not be decoded; it is dropped and counted.
func (s *Sink) badRecord(err error) {
	s.m.droppedCorrupt.Inc()
	if ok, suppressed := s.badLog.Allow(time.Now()); ok {
		s.log.Error("spool record cannot be decoded; dropped it", "err", err, "earlier_not_logged", suppressed)
	}
}

func (s *Sink) closeSpool() error {
	if s.sp == nil {
		return nil
	}
	return s.sp.Close()
}

// Shutdown stops taking data and finishes within ctx. A memory queue is drained: its batches
// are delivered (and retried) until ctx ends, then what is left is counted in
// DroppedRecords{reason="shutdown"} and logged. A durable queue stops taking from its spool at
// once: batches already taken get their attempt (until ctx ends), and everything not delivered
// stays in the spool for the next start. Then the writer and the spool are closed.
//
// It returns an error when a memory queue dropped data or closing failed. It is safe before
// Start, and a second call waits for the first and returns its result. A write that ignores its
// cancelled context does not hold Shutdown past ctx (and a second): the writer is closed once
// it returns.
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

	if s.q != nil {
		s.q.close()
	}
	var errs []error
	finished := true
	var late error // ctx's error, when its deadline cut the drain short
	if wasRunning {
		s.soft()
		select {
		case <-s.done:
		case <-ctx.Done():
			late = ctx.Err()
			s.hard()
			// The batcher gives up what it holds at once; then what the workers hold.
			<-s.batcherDone
			s.giveUpOutstanding()
			select {
			case <-s.done:
			case <-time.After(lateWriteGrace):
				finished = false
			}
		}
		s.hard()
	}
	if s.mem != nil {
		for _, it := range s.mem.drain() {
			s.m.droppedStop[it.r.Signal()].Add(float64(it.records))
			s.mu.Lock()
			s.shutDropped += it.records
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	dropped := s.shutDropped
	s.mu.Unlock()
	if dropped > 0 {
		s.log.Warn("sink shut down with undelivered data in memory; dropped it", "records", dropped)
		if late != nil {
			errs = append(errs, fmt.Errorf("sink %q: drain stopped with %d records undelivered: %w", s.name, dropped, late))
		} else {
			errs = append(errs, fmt.Errorf("sink %q: shut down with %d records undelivered", s.name, dropped))
		}
	}
	if s.disk != nil {
		if records, bytes, _ := s.disk.sizes(); records > 0 {
			s.log.Info("undelivered data stays in the spool for the next start", "records", records, "bytes", bytes)
		}
	}
	closeAll := func() error {
		return errors.Join(s.closeWriter(), s.closeSpool())
	}
	if finished {
		errs = append(errs, closeAll())
	} else {
		go func() {
			<-s.done
			if err := closeAll(); err != nil {
				s.log.Warn("closing the destination failed", "err", err)
			}
		}()
	}
	s.refreshNow()
	if wasRunning {
		s.log.Info("sink stopped")
	}
	err := errors.Join(errs...)
	s.stopErr = err
	close(s.stopped)
	return err
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
	if s.q == nil {
		return fmt.Errorf("sink %q: not started", s.name)
	}
	switch err := s.q.reserve(size); {
	case err == nil:
		return nil
	case errors.Is(err, errFull):
		s.fullLog()
		return &telemetry.ThrottledError{Sink: s.name, Reason: s.fullReason(), RetryAfter: s.retryAfter}
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("sink %q: a request of %d bytes is larger than its whole queue (%d bytes)", s.name, size, s.opts.Queue.MaxBytes)
	default:
		return fmt.Errorf("sink %q: shutting down", s.name)
	}
}

func (s *Sink) fullReason() string {
	if s.isDurable() {
		return "disk budget spent"
	}
	return "queue full"
}

// fullLog says loudly, once a minute at most, that the sink refuses data: for Claude Code a
// refusal is most likely data lost at the source.
func (s *Sink) fullLog() {
	if ok, suppressed := s.evictLog.Allow(time.Now()); ok {
		s.log.Error("queue full; refusing data (clients are told to retry, but Claude Code drops what it cannot send at exit)",
			"reason", s.fullReason(), "capacity", config.ByteSize(s.opts.Queue.MaxBytes), "earlier_refusals_not_logged", suppressed)
	}
}

// Unreserve gives back a reservation that will not be used.
func (s *Sink) Unreserve(size int) {
	if s.q != nil {
		s.q.unreserve(max(size, 0))
	}
}

// Put queues r using a reservation of size bytes made by Reserve. A memory queue never blocks;
// a durable one returns once r is synced to its spool. With when_full = "drop_oldest" it evicts
// the oldest waiting requests to make room and counts their records in
// DroppedRecords{reason="queue_full"}. r is read-only from here on, for the sink as for everyone
// else. Put fails for an empty request, once Shutdown has given up on the queue, or when the
// spool cannot be written (a *telemetry.ThrottledError when its budget or the disk is full).
func (s *Sink) Put(ctx context.Context, r telemetry.Request, size int) error {
	size = max(size, 0)
	if s.q == nil {
		return fmt.Errorf("sink %q: not started", s.name)
	}
	if r.Signal() == 0 {
		s.q.unreserve(size)
		return fmt.Errorf("sink %q: empty request", s.name)
	}
	it := item{r: r, size: size, records: r.Records(), at: time.Now()}
	evicted, err := s.q.put(ctx, it)
	switch {
	case errors.Is(err, errFull):
		s.fullLog()
		return &telemetry.ThrottledError{Sink: s.name, Reason: s.fullReason(), RetryAfter: s.retryAfter}
	case errors.Is(err, errClosed):
		s.m.droppedStop[r.Signal()].Add(float64(it.records))
		return fmt.Errorf("sink %q: shut down; %d records dropped", s.name, it.records)
	case err != nil:
		return fmt.Errorf("sink %q: %w", s.name, err)
	}
	if len(evicted) > 0 {
		s.evicted(evicted)
	}
	s.refreshQueue()
	return nil
}

func (s *Sink) evicted(its []item) {
	records := 0
	for i := range its {
		s.m.droppedFull[its[i].r.Signal()].Add(float64(its[i].records))
		records += its[i].records
	}
	if ok, suppressed := s.evictLog.Allow(time.Now()); ok {
		s.log.Warn("queue full; dropped the oldest data to make room",
			"records", records, "requests", len(its), "earlier_evictions_not_logged", suppressed)
	}
}

// track remembers a batch handed to the workers until it is settled. (The batches the batcher
// is still filling are its own: it settles them itself.)
func (s *Sink) track(b *batch) {
	s.mu.Lock()
	s.outstanding[b] = struct{}{}
	s.mu.Unlock()
}

// outcome is how the delivery of a batch ended.
type outcome uint8

const (
	outcomeSent outcome = iota
	outcomeDeadLettered
	outcomeDropped // a dead letter could not be written: counted as failed and dropped
)

// finish counts b's outcome and releases its items from the queue, unless b was already
// settled (given up at a shutdown deadline).
func (s *Sink) finish(b *batch, o outcome) {
	if !s.untrack(b) {
		return
	}
	n := float64(b.records)
	switch o {
	case outcomeSent:
		s.m.sent[b.sig].Add(n)
	case outcomeDeadLettered:
		s.m.deadLettered[b.sig].Add(n)
		s.m.failed[b.sig].Add(n)
	case outcomeDropped:
		s.m.failed[b.sig].Add(n)
		s.m.droppedDeadLetter[b.sig].Add(n)
	}
	s.q.done(b.items)
	s.refreshQueue()
}

// abandon settles a batch given up at shutdown: a memory queue's is dropped and counted; a
// durable queue's stays in the spool, to be delivered after the next start.
func (s *Sink) abandon(b *batch) {
	if !s.untrack(b) || s.isDurable() {
		return
	}
	s.m.droppedStop[b.sig].Add(float64(b.records))
	s.mu.Lock()
	s.shutDropped += b.records
	s.mu.Unlock()
	s.q.done(b.items)
}

// giveUpOutstanding abandons every batch not yet settled, when Shutdown's deadline passes.
func (s *Sink) giveUpOutstanding() {
	s.mu.Lock()
	bs := make([]*batch, 0, len(s.outstanding))
	for b := range s.outstanding {
		bs = append(bs, b)
	}
	s.mu.Unlock()
	for _, b := range bs {
		s.abandon(b)
	}
}

// untrack settles b and reports whether it was not settled before.
func (s *Sink) untrack(b *batch) bool {
	if !b.settle() {
		return false
	}
	s.mu.Lock()
	delete(s.outstanding, b)
	s.mu.Unlock()
	return true
}

// deadLetter writes a refused batch to the dead-letter folder and settles it. If even that
// fails, a memory queue's batch is dropped and counted; a durable queue's stays in the spool
// (not acknowledged) and is offered again after the next start.
func (s *Sink) deadLetter(b *batch, req telemetry.Request, attempts int, cause error) {
	if s.opts.DeadLetterDir == "" {
		s.log.Error("destination refused data for good and there is no dead-letter folder; dropped it",
			"signal", b.sig.String(), "records", b.records, "err", cause)
		s.finish(b, outcomeDropped)
		return
	}
	path, err := s.dead.write(s.name, req, b.records, attempts, cause, time.Now())
	if err != nil {
		if s.isDurable() {
			s.log.Error("cannot write a dead letter; the data stays in the spool", "records", b.records, "err", err)
			s.untrack(b)
			return
		}
		s.log.Error("cannot write a dead letter; dropped the data", "records", b.records, "err", err)
		s.finish(b, outcomeDropped)
		return
	}
	s.log.Warn("wrote a dead letter", "path", path, "signal", b.sig.String(), "records", b.records)
	s.finish(b, outcomeDeadLettered)
}
