package sinks

import (
	"fmt"
	"sync"
	"time"
)

// health remembers how delivery has been going, for Healthy and for logging state changes.
// It is written by the worker and read by Healthy from other goroutines.
type health struct {
	mu           sync.Mutex
	attemptSince time.Time // when the running attempt began; zero between attempts
	failingSince time.Time // the first failure since the last success; zero when the last attempt succeeded
	failures     int       // failed attempts since failingSince
	lastErr      error
}

// begin records that an attempt starts.
func (h *health) begin(now time.Time) {
	h.mu.Lock()
	h.attemptSince = now
	h.mu.Unlock()
}

// succeeded records a delivered attempt and returns the failure streak it ended, if any.
func (h *health) succeeded() (failures int, since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	failures, since = h.failures, h.failingSince
	h.attemptSince, h.failingSince, h.failures, h.lastErr = time.Time{}, time.Time{}, 0, nil
	return failures, since
}

// failed records a failed attempt and returns how many attempts have failed in a row.
func (h *health) failed(now time.Time, err error) (failures int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingSince.IsZero() {
		h.failingSince = h.attemptSince
		if h.failingSince.IsZero() {
			h.failingSince = now
		}
	}
	h.attemptSince = time.Time{}
	h.failures++
	h.lastErr = err
	return h.failures
}

// Healthy reports nil while the sink delivers, or an error saying why it is stuck: every attempt
// for the last minute has failed while data was waiting (with the last error), or one attempt has
// not returned for a minute. A sink with nothing to deliver is healthy.
func (s *Sink) Healthy() error {
	s.mu.Lock()
	busy := len(s.outstanding) > 0
	s.mu.Unlock()
	switch {
	case s.mem != nil:
		busy = busy || s.mem.waiting()
	case s.disk != nil:
		records, _, _ := s.disk.sizes()
		busy = busy || records > 0
	}

	now := time.Now()
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.attemptSince.IsZero() && now.Sub(h.attemptSince) >= s.stuckAfter {
		return fmt.Errorf("sink %q: a delivery attempt has not returned for %s", s.name, roughly(now.Sub(h.attemptSince)))
	}
	if !busy || h.failingSince.IsZero() || now.Sub(h.failingSince) < s.stuckAfter {
		return nil
	}
	return fmt.Errorf("sink %q: every delivery attempt for %s has failed (%d attempts); last error: %w",
		s.name, roughly(now.Sub(h.failingSince)), h.failures, h.lastErr)
}

// roughly rounds d for a message: to the second, or to the millisecond below a second.
func roughly(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
