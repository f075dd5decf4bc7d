package sinks

import (
	"math/rand/v2"
	"time"
)

// backoff yields the waits between delivery attempts: exponential from initial, doubling up to
// max. Equal jitter (half the step fixed, half random) keeps a wait from collapsing to nothing
// while sinks that fail together still spread their retries out.
type backoff struct {
	initial, max time.Duration
	step         time.Duration // the current step; 0 before the first wait
}

// next returns the wait before the next attempt, in [step/2, step].
func (b *backoff) next() time.Duration {
	switch {
	case b.step == 0:
		b.step = b.initial
	case b.step < b.max:
		b.step = min(b.step*2, b.max)
	}
	half := b.step / 2
	return half + rand.N(b.step-half+1)
}
