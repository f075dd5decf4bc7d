package promsink

import (
	"crypto/sha256"
	"time"
)

// A source is one CUMULATIVE series as its sender sees it (resource, scope, metric and every
// attribute of the point). The sink does not export it: it folds each new point into the
// exported series as the increase since the source's previous point, so that dropping labels
// can merge many sources into one series, and forgetting a source never makes a total go down.
type source struct {
	id    sourceID
	start uint64  // the start time of the source's latest point
	time  uint64  // the time of the source's latest point
	value float64 // the latest value (for a histogram, its count)
	sum   float64 // a histogram's latest sum
	seen  time.Time

	prev, next *source // in sources.ring, most recently seen first
}

// sourceID is a digest of a source's identity, so that a source costs the same memory whatever
// attributes it carries.
type sourceID [sha256.Size]byte

// sources tracks at most max sources. When it is full the least recently seen one is forgotten,
// but only once it has been quiet for idle: a cumulative exporter sends every series at every
// interval, so a quiet source is a finished process, while forgetting a live one would count
// its whole total again when it next reports.
type sources struct {
	max  int
	idle time.Duration
	byID map[sourceID]*source
	ring source // sentinel: ring.next is the most recently seen
}

func newSources(max int, idle time.Duration) *sources {
	s := &sources{max: max, idle: idle, byID: make(map[sourceID]*source)}
	s.ring.prev, s.ring.next = &s.ring, &s.ring
	return s
}

func (s *sources) get(id sourceID) *source { return s.byID[id] }

// room reports whether a new source can be added at now, forgetting a quiet one if it must.
func (s *sources) room(now time.Time) bool {
	if len(s.byID) < s.max {
		return true
	}
	oldest := s.ring.prev
	if oldest == &s.ring || now.Sub(oldest.seen) < s.idle {
		return false
	}
	s.unlink(oldest)
	delete(s.byID, oldest.id)
	return true
}

// add adds a source; call room first.
func (s *sources) add(id sourceID, now time.Time) *source {
	src := &source{id: id, seen: now}
	s.byID[id] = src
	s.pushFront(src)
	return src
}

// touch marks src as seen at now.
func (s *sources) touch(src *source, now time.Time) {
	src.seen = now
	s.unlink(src)
	s.pushFront(src)
}

func (s *sources) pushFront(src *source) {
	src.prev, src.next = &s.ring, s.ring.next
	s.ring.next.prev = src
	s.ring.next = src
}

func (s *sources) unlink(src *source) {
	src.prev.next, src.next.prev = src.next, src.prev
	src.prev, src.next = nil, nil
}

func (s *sources) len() int { return len(s.byID) }
