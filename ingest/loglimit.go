package ingest

import (
	"sync"
	"time"
)

// logLimiter lets one log line through per interval and counts the ones it holds back, so a
// client hammering a full gateway costs one line every few seconds, not one per request.
type logLimiter struct {
	every time.Duration

	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// allow reports whether a line may be written now and, if so, how many were held back since the
// last one.
func (l *logLimiter) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.suppressed++
		return false, 0
	}
	suppressed, l.suppressed = l.suppressed, 0
	l.next = now.Add(l.every)
	return true, suppressed
}
