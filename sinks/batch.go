package sinks

import (
	"context"
	"sync"
	"time"

	"claude-otel-gw/telemetry"
)

// batch is queued requests of one signal, delivered together.
type batch struct {
	sig     telemetry.Signal
	items   []item
	records int
	bytes   int

	// settled is set once the batch's outcome has been counted, so that a batch given up at a
	// shutdown deadline and one whose write returns afterwards are not counted twice.
	mu      sync.Mutex
	settled bool
}

// batchLimits close a batch.
type batchLimits struct {
	records, bytes int
	wait           time.Duration
}

// fits reports whether it can join b without passing the limits. An empty batch takes
// anything: a request larger than the limits goes alone.
func (b *batch) fits(it item, l batchLimits) bool {
	return len(b.items) == 0 || (b.records+it.records <= l.records && b.bytes+it.size <= l.bytes)
}

func (b *batch) add(it item) {
	b.items = append(b.items, it)
	b.records += it.records
	b.bytes += it.size
}

// full reports whether nothing more can join b.
func (b *batch) full(l batchLimits) bool { return b.records >= l.records || b.bytes >= l.bytes }

// request merges the batch into one export request.
func (b *batch) request() telemetry.Request {
	if len(b.items) == 1 {
		return b.items[0].r
	}
	rs := make([]telemetry.Request, len(b.items))
	for i := range b.items {
		rs[i] = b.items[i].r
	}
	return telemetry.Merge(rs)
}

// settle marks b counted and reports whether it was not already.
func (b *batch) settle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	first := !b.settled
	b.settled = true
	return first
}

// runBatcher takes requests from the queue in order and merges them, per signal, into batches
// for the workers: a batch closes when the next request would pass the limits, or when
// nothing more arrived within the limits' wait (at once when the queue has nothing more and
// there is no wait). It stops when take says nothing more will come (the memory queue is
// sealed, a durable queue's shutdown began) and hands on what it holds; if hard ends first,
// what it holds is given up.
func (s *Sink) runBatcher(takeCtx, hard context.Context) {
	defer close(s.batches)
	defer close(s.batcherDone)
	var open [telemetry.Traces + 1]*batch
	emit := func(b *batch) bool {
		s.track(b)
		select {
		case s.batches <- b:
			return true
		case <-hard.Done():
			return false
		}
	}
	// giveUp settles everything the batcher still holds once hard has ended.
	giveUp := func() {
		for sig, b := range open {
			if b != nil {
				s.abandon(b)
				open[sig] = nil
			}
		}
	}
	add := func(it item) bool {
		sig := it.r.Signal()
		b := open[sig]
		if b != nil && !b.fits(it, s.limits) {
			open[sig] = nil
			if !emit(b) {
				s.abandon(b)
				return false
			}
			b = nil
		}
		if b == nil {
			b = &batch{sig: sig}
			open[sig] = b
		}
		b.add(it)
		if b.full(s.limits) {
			open[sig] = nil
			if !emit(b) {
				s.abandon(b)
				return false
			}
		}
		return true
	}
	flush := func() bool {
		for sig, b := range open {
			if b == nil {
				continue
			}
			open[sig] = nil
			if !emit(b) {
				s.abandon(b)
				return false
			}
		}
		return true
	}
	for {
		it, ok := s.q.take(takeCtx)
		if !ok {
			if !flush() {
				giveUp()
			}
			return
		}
		if !add(it) {
			giveUp()
			return
		}
		deadline := time.Now().Add(s.limits.wait)
		for {
			if it, ok := s.q.tryTake(); ok {
				if !add(it) {
					giveUp()
					return
				}
				continue
			}
			if s.limits.wait <= 0 || !anyOpen(&open) || time.Now().After(deadline) {
				break
			}
			wctx, cancel := context.WithDeadline(takeCtx, deadline)
			it, ok := s.q.take(wctx)
			cancel()
			if !ok {
				break
			}
			if !add(it) {
				giveUp()
				return
			}
		}
		if !flush() {
			giveUp()
			return
		}
	}
}

func anyOpen(open *[telemetry.Traces + 1]*batch) bool {
	for _, b := range open {
		if b != nil {
			return true
		}
	}
	return false
}
