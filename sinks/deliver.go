package sinks

import (
	"context"
	"time"

	"claude-otel-gw/internal/logevery"
)

// run is the worker: it takes requests from the queue, oldest first, and delivers each before
// taking the next. It returns when the queue is closed and drained, or when ctx ends.
func (s *Sink) run(ctx context.Context) {
	defer close(s.workerDone)
	fails := newFailureLog()
	for ctx.Err() == nil {
		e, ok := s.q.take(ctx)
		if !ok {
			return
		}
		s.m.queueRecords.Sub(float64(e.records))
		s.m.queueBytes.Sub(float64(e.size))
		s.mu.Lock()
		abandoned := s.abandoned
		if !abandoned {
			s.inflight = &e
		}
		s.mu.Unlock()
		if abandoned {
			// Shutdown gave up on the queue after this was taken but before it was in flight.
			count(&s.m.droppedStop, &e)
			return
		}
		s.deliver(ctx, &e, fails)
	}
}

// outcome is how the delivery of one request ended.
type outcome uint8

const (
	sent outcome = iota
	failed
)

// settle counts e's outcome unless Shutdown has already counted it as dropped.
func (s *Sink) settle(e *entry, o outcome) {
	s.mu.Lock()
	mine := s.inflight == e
	if mine {
		s.inflight = nil
	}
	s.mu.Unlock()
	if !mine {
		return
	}
	switch o {
	case sent:
		count(&s.m.sent, e)
	case failed:
		count(&s.m.failed, e)
	}
}

// deliver attempts e until it is delivered, refused for good, out of time, or ctx ends (then
// Shutdown counts it as dropped).
func (s *Sink) deliver(ctx context.Context, e *entry, fails *failureLog) {
	b := backoff{initial: s.retry.InitialInterval.D(), max: s.retry.MaxInterval.D()}
	first := time.Now()
	for {
		err := s.attempt(ctx, e)
		if err == nil {
			if n, since := s.health.succeeded(); n > 0 && fails.warned {
				s.log.Info("delivery recovered", "failed_attempts", n, "after", time.Since(since).Round(time.Millisecond))
			}
			fails.reset()
			s.settle(e, sent)
			return
		}
		now := time.Now()
		s.m.sendErrors.Inc()
		n := s.health.failed(now, err)
		if ctx.Err() != nil {
			return
		}
		if IsPermanent(err) {
			if ok, suppressed := fails.permanent.Allow(now); ok {
				s.log.Warn("destination refused data for good; dropped it",
					"signal", e.r.Signal().String(), "records", e.records, "err", err, "earlier_refusals_not_logged", suppressed)
			}
			s.settle(e, failed)
			return
		}
		wait := b.next()
		if limit := s.retry.MaxElapsed.D(); limit > 0 && now.Sub(first)+wait > limit {
			s.log.Warn("delivery failed for longer than max_elapsed; dropped the data",
				"signal", e.r.Signal().String(), "records", e.records, "max_elapsed", limit, "err", err)
			s.settle(e, failed)
			return
		}
		fails.failed(s, now, n, err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// attempt makes one bounded Write and measures it.
func (s *Sink) attempt(ctx context.Context, e *entry) error {
	start := time.Now()
	s.health.begin(start)
	actx, cancel := context.WithTimeout(ctx, s.attemptTimeout)
	err := s.w.Write(actx, e.r)
	cancel()
	s.m.sendDuration.Observe(time.Since(start).Seconds())
	return err
}

// failureLog decides which failures are worth a log line: the first retryable failure of a
// streak, then one a minute while the streak lasts, and the recovery after it. It belongs to the
// worker.
type failureLog struct {
	streak    logevery.Limiter
	permanent logevery.Limiter
	warned    bool // a retryable failure of the current streak was logged
}

func newFailureLog() *failureLog {
	return &failureLog{streak: logevery.Limiter{Every: logEvery}, permanent: logevery.Limiter{Every: logEvery}}
}

func (f *failureLog) reset() { f.streak, f.warned = logevery.Limiter{Every: logEvery}, false }

func (f *failureLog) failed(s *Sink, now time.Time, failures int, err error, wait time.Duration) {
	if ok, _ := f.streak.Allow(now); !ok {
		return
	}
	f.warned = true
	if failures == 1 {
		s.log.Warn("delivery failed; retrying", "err", err, "retry_in", wait.Round(time.Millisecond))
		return
	}
	s.log.Warn("delivery still failing; retrying", "failed_attempts", failures, "err", err, "retry_in", wait.Round(time.Millisecond))
}
