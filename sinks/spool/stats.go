package spool

import (
	"os"
	"sort"
	"time"
)

// Sizes is Stats without Oldest, which may read a record's header from disk: cheap enough to
// call on every append and acknowledgement.
func (s *Spool) Sizes() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Records: s.waiting, Bytes: s.waitingBytes, Weight: s.waitingWeight, DiskBytes: s.diskBytes}
}

// Stats: what is waiting (appended, not acked): records and bytes; the on-disk size of the
// segments; the append time of the oldest unacked record (zero when empty).
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	st := Stats{Records: s.waiting, Bytes: s.waitingBytes, Weight: s.waitingWeight, DiskBytes: s.diskBytes}
	if s.waiting == 0 {
		s.mu.Unlock()
		return st
	}
	if s.outHead < len(s.out) {
		// Handed out and not acknowledged: older than anything not handed out yet.
		st.Oldest = time.Unix(0, s.out[s.outHead].at)
		s.mu.Unlock()
		return st
	}
	if s.oldestID == s.cursor && !s.oldestAt.IsZero() {
		st.Oldest = s.oldestAt
		s.mu.Unlock()
		return st
	}
	// The oldest is the next record to hand out; its time is in its header on disk.
	seg, off, id := s.cursorRecord()
	s.mu.Unlock()
	if seg == nil {
		return st
	}
	at, ok := readTime(seg.path, off, id)
	if !ok {
		return st
	}
	st.Oldest = at
	s.mu.Lock()
	s.oldestID, s.oldestAt = id, at
	s.mu.Unlock()
	return st
}

// cursorRecord says where the next record to hand out is, without moving the read position.
// s.mu is held.
func (s *Spool) cursorRecord() (seg *segment, off int64, id uint64) {
	if r := s.rseg; r != nil && s.cursor < r.next {
		return r, s.roff, s.cursor
	}
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].next > s.cursor })
	if i == len(s.segs) {
		return nil, 0, 0
	}
	return s.segs[i], 0, max(s.cursor, s.segs[i].first)
}

// readTime reads the append time from the header of record id at off in the file at path. A
// record acknowledged meanwhile may be gone with its segment: then there is no answer.
func readTime(path string, off int64, id uint64) (time.Time, bool) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	var hdr [headerSize]byte
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return time.Time{}, false
	}
	h := parseHeader(hdr[:])
	if h.id != id {
		return time.Time{}, false
	}
	return time.Unix(0, h.at), true
}
