package sinks

import (
	"context"
	"fmt"
	"time"

	"claude-otel-gw/internal/logevery"
	"claude-otel-gw/telemetry"
)

// runWorker delivers batches until the batcher has no more.
func (s *Sink) runWorker(soft, hard context.Context) {
	fails := newFailureLog()
	for b := range s.batches {
		s.deliver(soft, hard, b, fails)
	}
}

// deliver attempts b until it is delivered, refused for good (then dead-lettered), out of time
// (max_elapsed: dead-lettered too), or given up at shutdown: a memory queue's batch when hard
// ends, a durable queue's batch as soon as shutdown begins (soft) and its attempt fails — it
// stays in the spool for the next start.
func (s *Sink) deliver(soft, hard context.Context, b *batch, fails *failureLog) {
	req := b.request()
	bo := backoff{initial: s.retry.InitialInterval.D(), max: s.retry.MaxInterval.D()}
	first := time.Now()
	for attempts := 1; ; attempts++ {
		err := s.attempt(hard, req)
		if err == nil {
			if n, since := s.health.succeeded(); n > 0 && fails.warned {
				s.log.Info("delivery recovered", "failed_attempts", n, "after", time.Since(since).Round(time.Millisecond))
			}
			fails.reset()
			s.finish(b, outcomeSent)
			return
		}
		now := time.Now()
		s.m.sendErrors.Inc()
		n := s.health.failed(now, err)
		if hard.Err() != nil || (s.isDurable() && soft.Err() != nil) {
			s.abandon(b)
			return
		}
		if IsPermanent(err) {
			if ok, suppressed := fails.permanent.Allow(now); ok {
				s.log.Warn("destination refused data for good; writing it to the dead-letter folder",
					"signal", b.sig.String(), "records", b.records, "err", err, "earlier_refusals_not_logged", suppressed)
			}
			s.deadLetter(b, req, attempts, err)
			return
		}
		wait := bo.next()
		if d, ok := RetryDelay(err); ok && d > 0 {
			// The destination said when; sooner would be refused again. A destination asking
			// for hours is not left alone for that long: it may have recovered.
			wait = min(d, maxRetryAfter)
		}
		if limit := s.retry.MaxElapsed.D(); limit > 0 && now.Sub(first)+wait > limit {
			s.log.Warn("delivery failed for longer than max_elapsed; writing the data to the dead-letter folder",
				"signal", b.sig.String(), "records", b.records, "max_elapsed", limit, "attempts", attempts, "err", err)
			s.deadLetter(b, req, attempts, fmt.Errorf("gave up after %d attempts in %s (max_elapsed): %w",
				attempts, now.Sub(first).Round(time.Millisecond), err))
			return
		}
		fails.failed(s, now, n, err, wait)
		t := time.NewTimer(wait)
		stop := hard.Done()
		if s.isDurable() {
			stop = soft.Done()
		}
		select {
		case <-stop:
			t.Stop()
			s.abandon(b)
			return
		case <-t.C:
		}
		s.m.retried[b.sig].Add(float64(b.records))
	}
}

// attempt makes one Write, bounded by the attempt timeout, and measures it.
func (s *Sink) attempt(ctx context.Context, req telemetry.Request) error {
	start := time.Now()
	s.health.begin(start)
	actx, cancel := context.WithTimeout(ctx, s.attemptTimeout)
	err := s.w.Write(actx, req)
	cancel()
	s.m.sendDuration.Observe(time.Since(start).Seconds())
	return err
}

// failureLog decides which failures are worth a log line: the first retryable failure of a
// streak, then one a minute while the streak lasts, and the recovery after it. Each worker has
// its own.
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
