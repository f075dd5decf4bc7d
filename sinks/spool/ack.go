package spool

import "sort"

// Ack marks records delivered (in any order). The persisted acknowledged position advances
// over the contiguous acknowledged prefix; fully acknowledged segments are deleted, in the
// background: Ack does not wait for the filesystem. IDs not handed out since Open, or already
// acknowledged, are ignored.
func (s *Spool) Ack(ids ...uint64) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	before := s.ackedThrough()
	out := s.out[s.outHead:]
	for _, id := range ids {
		i := sort.Search(len(out), func(i int) bool { return out[i].id >= id })
		if i < len(out) && out[i].id == id && !out[i].acked {
			out[i].acked = true
			s.waiting--
			s.waitingBytes -= out[i].size
			s.waitingWeight = max(s.waitingWeight-out[i].weight, 0)
		}
	}
	for s.outHead < len(s.out) && s.out[s.outHead].acked {
		s.outHead++
	}
	switch {
	case s.outHead == len(s.out):
		s.out, s.outHead = s.out[:0], 0
	case s.outHead > 64 && s.outHead > len(s.out)/2:
		// A reader that never catches up would otherwise grow the backing array forever.
		n := copy(s.out, s.out[s.outHead:])
		s.out, s.outHead = s.out[:n], 0
	}
	if s.ackedThrough() != before {
		s.collect()
		signal(s.stateKick)
	}
	s.mu.Unlock()
}
