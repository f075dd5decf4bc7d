package sinks

import (
	"sync"
	"time"
)

// limiter lets a repeated log line through at most once per logEvery, and says how many it held
// back in between, so a destination failing for hours writes a line a minute, not one an attempt.
type limiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether to log now and, if so, how many calls were held back since the last line.
func (l *limiter) allow(now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < logEvery {
		l.suppressed++
		return 0, false
	}
	suppressed, l.suppressed, l.last = l.suppressed, 0, now
	return suppressed, true
}
