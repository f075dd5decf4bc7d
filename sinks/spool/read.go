package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"time"
)

// errDamaged marks what a reader finds wrong with the bytes themselves, as opposed to a failure
// to read them: the rest of the segment is given up, where a failed read is tried again.
var errDamaged = errors.New("damaged record")

var (
	errWrongRecord = fmt.Errorf("%w: not the record expected here", errDamaged)
	errBeyondEnd   = fmt.Errorf("%w: length runs past the end of the written records", errDamaged)
	errChecksum    = fmt.Errorf("%w: checksum mismatch", errDamaged)
)

// readRetry is how long a reader waits before trying again a segment it could not read.
const readRetry = time.Second

// Next returns the next record not yet handed out, in append order, blocking until there is
// one, ctx ends (ctx.Err()) or the spool is closed (ErrClosed). Each record is handed out once
// per Open (several goroutines may call Next). Only durable records are handed out.
func (s *Spool) Next(ctx context.Context) (Record, error) {
	for {
		select {
		case s.rsem <- struct{}{}:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		case <-s.closeCh:
			return Record{}, ErrClosed
		}
		rec, ok, wait, err := s.read()
		<-s.rsem
		if ok || err != nil {
			return rec, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		case <-s.closeCh:
			return Record{}, ErrClosed
		}
	}
}

// TryNext is Next without blocking: ok=false when nothing is waiting.
func (s *Spool) TryNext() (Record, bool, error) {
	select {
	case s.rsem <- struct{}{}:
	case <-s.closeCh:
		return Record{}, false, ErrClosed
	}
	rec, ok, _, err := s.read()
	<-s.rsem
	return rec, ok, err
}

// read hands out the record at the cursor, or says what to wait on for one. s.rsem is held.
func (s *Spool) read() (rec Record, ok bool, wait <-chan struct{}, err error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Record{}, false, nil, ErrClosed
		}
		seg := s.locate()
		if seg == nil || s.cursor >= seg.next || s.cursor >= s.visible {
			wait := s.avail
			s.mu.Unlock()
			return Record{}, false, wait, nil
		}
		id, off, limit := s.cursor, s.roff, seg.size
		s.mu.Unlock()

		rec, n, err := s.readRecord(seg, off, limit, id)
		if err != nil && !errors.Is(err, errDamaged) {
			s.logError("spool: cannot read a segment; trying again", "segment", seg.path, "offset", off, "err", err)
			return Record{}, false, after(readRetry), nil
		}

		s.mu.Lock()
		if err != nil {
			s.damaged(seg, off, err)
			s.mu.Unlock()
			continue
		}
		s.cursor = id + 1
		s.roff = off + n
		s.rdata += int64(len(rec.Data))
		s.out = append(s.out, handed{id: id, size: int64(len(rec.Data)), weight: s.weigh(rec.Data), at: rec.Appended.UnixNano()})
		s.mu.Unlock()
		signal(s.stateKick)
		return rec, true, nil, nil
	}
}

// locate returns the segment holding the cursor, moving the read position to the next segment
// (over any IDs lost to damage) when the current one is done; nil if there is none yet. s.mu is
// held.
func (s *Spool) locate() *segment {
	if seg := s.rseg; seg != nil && (s.cursor < seg.next || !seg.sealed && !seg.broken) {
		return seg
	}
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].next > s.cursor })
	if i == len(s.segs) {
		return nil
	}
	seg := s.segs[i]
	s.rseg, s.roff, s.rdata = seg, 0, 0
	s.cursor = max(s.cursor, seg.first)
	return seg
}

// damaged gives up on the rest of seg after finding damage at off, where the record at the
// cursor should be: nothing after it can be found. The writer starts a new segment at its next
// append if seg is the active one. s.mu is held.
func (s *Spool) damaged(seg *segment, off int64, err error) {
	lost := seg.next - s.cursor
	s.log.Error("spool: damaged record; skipping the rest of the segment",
		"segment", seg.path, "offset", off, "bytes_skipped", seg.size-off, "records_lost", lost, "err", err)
	if s.waiting > 0 {
		// The lost records cannot be read to weigh them: take them as average ones.
		s.waitingWeight = max(s.waitingWeight-s.waitingWeight*int64(lost)/int64(s.waiting), 0)
	}
	s.waiting -= int(lost)
	s.waitingBytes -= seg.data - s.rdata
	seg.next = s.cursor
	seg.broken = true
}

// readRecord reads record id at off in seg, where the written records end at limit. s.rsem is
// held.
func (s *Spool) readRecord(seg *segment, off, limit int64, id uint64) (Record, int64, error) {
	if s.rfseg != seg {
		if s.rfile != nil {
			s.rfile.Close()
		}
		s.rfile, s.rfseg, s.rbufN = nil, nil, 0
		f, err := os.Open(seg.path)
		if errors.Is(err, fs.ErrNotExist) {
			return Record{}, 0, fmt.Errorf("%w: the segment is gone", errDamaged)
		}
		if err != nil {
			return Record{}, 0, err
		}
		s.rfile, s.rfseg = f, seg
	}
	hb, err := s.buffered(off, headerSize, limit)
	if err != nil {
		return Record{}, 0, err
	}
	hdr := s.rhdr[:]
	copy(hdr, hb)
	h := parseHeader(hdr)
	switch {
	case h.id != id:
		return Record{}, 0, fmt.Errorf("%w: id %d where %d should be", errWrongRecord, h.id, id)
	case int64(h.length) > limit-off-headerSize:
		return Record{}, 0, fmt.Errorf("%w: %d bytes", errBeyondEnd, h.length)
	}
	data := make([]byte, h.length)
	if len(data) > 0 {
		b, err := s.buffered(off+headerSize, 1, limit)
		if err != nil {
			return Record{}, 0, err
		}
		if n := copy(data, b); n < len(data) {
			// The rest is more than the buffer holds: read it straight into place.
			if _, err := s.rfile.ReadAt(data[n:], off+headerSize+int64(n)); err != nil {
				return Record{}, 0, shortRead(err)
			}
		}
	}
	if updateSum(headerSum(hdr), data) != h.sum {
		return Record{}, 0, errChecksum
	}
	return Record{ID: id, Data: data, Appended: time.Unix(0, h.at)}, headerSize + int64(len(data)), nil
}

// buffered returns the bytes of the read file from off on that the buffer holds, at least
// need (> 0) of them, refilling the buffer from off if it holds fewer. It never reads past
// limit, the end of the written records: what lies beyond may be a write in progress. s.rsem is
// held.
func (s *Spool) buffered(off int64, need int, limit int64) ([]byte, error) {
	if off >= s.rbufOff && off+int64(need) <= s.rbufOff+int64(s.rbufN) {
		return s.rbuf[off-s.rbufOff : s.rbufN], nil
	}
	n := int(min(int64(len(s.rbuf)), limit-off))
	if n < need {
		return nil, fmt.Errorf("%w: at %d", errBeyondEnd, off)
	}
	s.rbufOff, s.rbufN = off, 0
	if _, err := s.rfile.ReadAt(s.rbuf[:n], off); err != nil {
		return nil, shortRead(err)
	}
	s.rbufN = n
	return s.rbuf[:n], nil
}

// shortRead says a segment ending before its written records did is damaged: something cut it.
func shortRead(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: the segment is shorter than written", errDamaged)
	}
	return err
}

// after returns a channel closed once d has passed.
func after(d time.Duration) <-chan struct{} {
	c := make(chan struct{})
	time.AfterFunc(d, func() { close(c) })
	return c
}
