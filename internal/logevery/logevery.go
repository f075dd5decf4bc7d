// Package logevery keeps a repeated log line to one per interval, so a condition that lasts
// (a destination failing for hours, a client hammering a full gateway) costs a line a minute and
// not one per event, while the line still says how many were held back. Per-event counts belong
// in metrics; this is only for the log.
package logevery

import (
	"sync"
	"time"
)

// Limiter lets one line through per Every. The zero value with Every set is ready to use and
// lets the first line through.
type Limiter struct {
	Every time.Duration

	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// Allow reports whether a line may be written now and, if so, how many were held back since the
// last one.
func (l *Limiter) Allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.suppressed++
		return false, 0
	}
	suppressed, l.suppressed = l.suppressed, 0
	l.next = now.Add(l.Every)
	return true, suppressed
}
