package spool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// maxKeptBuffer is the largest write buffer kept between appends; a rare large record does not
// pin its size in memory.
const maxKeptBuffer = 1 << 20

// Append writes rec as one record and returns once it is durable (fsynced, under the group
// commit policy) or fails. ErrFull when over MaxBytes (counted as the sum of the record sizes
// on disk not yet deleted) or low on free space. Safe for concurrent use. ctx cancels the wait
// (the record may still become durable; that is fine). rec is not retained.
func (s *Spool) Append(ctx context.Context, rec []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	r, err := s.write(rec)
	if errors.Is(err, ErrFull) {
		s.refuse(err)
	} else if err == nil {
		s.accept()
	}
	s.wmu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write writes rec to the active segment and returns the round whose fsync makes it durable.
// s.wmu is held.
func (s *Spool) write(rec []byte) (*round, error) {
	size := int64(headerSize + len(rec))
	if len(rec) > maxRecordBytes || size > s.o.MaxBytes {
		return nil, fmt.Errorf("%w: a record of %d bytes is larger than the spool's budget of %d", ErrFull, len(rec), s.o.MaxBytes)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if a := s.active; a != nil && (a.broken || a.size > 0 && a.size+size > s.segBytes) {
		s.seal()
		s.collect()
	}
	used := s.diskBytes
	seg, id := s.active, s.nextID
	s.mu.Unlock()

	if used+size > s.o.MaxBytes {
		return nil, fmt.Errorf("%w: %d of %d bytes used", ErrFull, used, s.o.MaxBytes)
	}
	if err := s.checkFree(size); err != nil {
		return nil, err
	}
	if seg == nil {
		var err error
		if seg, err = s.create(id); err != nil {
			return nil, err
		}
	}

	buf := slices.Grow(s.wbuf[:0], int(size))[:size]
	putHeader(buf, id, time.Now().UnixNano(), rec)
	copy(buf[headerSize:], rec)
	n, err := seg.f.WriteAt(buf, seg.size)
	if cap(buf) <= maxKeptBuffer {
		s.wbuf = buf
	} else {
		s.wbuf = nil
	}
	if err != nil {
		return nil, s.writeFailed(seg, n, err)
	}
	s.free -= size

	s.mu.Lock()
	defer s.mu.Unlock()
	if seg.broken {
		// A reader found damage in this segment while the record was on its way; it reads no
		// further, so the record would never be delivered. The next append starts a new segment.
		seg.disk += size
		s.diskBytes += size
		return nil, fmt.Errorf("spool: segment %s was found damaged; the record was not kept", seg.path)
	}
	seg.size += size
	seg.disk += size
	seg.data += int64(len(rec))
	seg.next = id + 1
	s.nextID = id + 1
	s.written = id + 1
	s.diskBytes += size
	s.waiting++
	s.waitingBytes += int64(len(rec))
	s.waitingWeight += s.weigh(rec)
	r := s.round
	r.n++
	if r.n == 1 {
		r.start = time.Now()
		signal(s.kick)
	}
	return r, nil
}

// writeFailed cleans up after a failed write of n bytes to the active segment. s.wmu is held.
func (s *Spool) writeFailed(seg *segment, n int, err error) error {
	if n > 0 {
		// Half a record would read as damage: cut it off, or failing that leave it at the end of
		// a sealed segment, where recovery skips it.
		if terr := seg.f.Truncate(seg.size); terr != nil {
			s.mu.Lock()
			seg.disk += int64(n)
			s.diskBytes += int64(n)
			s.seal()
			s.collect()
			s.mu.Unlock()
		}
	}
	return diskError("writing "+seg.path, err)
}

// checkFree refuses a record that would leave less than MinFreeBytes free on the disk. The
// free space is measured at most once a second and estimated in between. s.wmu is held.
func (s *Spool) checkFree(size int64) error {
	if now := time.Now(); now.Sub(s.freeAt) >= time.Second {
		s.freeAt = now
		free, err := freeBytes(s.o.Dir)
		if err != nil {
			s.logError("spool: cannot tell the free disk space", "dir", s.o.Dir, "err", err)
		} else {
			s.free = free
		}
	}
	if s.free-size < s.o.MinFreeBytes {
		return fmt.Errorf("%w: %d bytes free on the disk, keeping %d", ErrFull, s.free, s.o.MinFreeBytes)
	}
	return nil
}

// refuse logs, at most once a minute, that appends have started to be refused. s.wmu is held.
func (s *Spool) refuse(err error) {
	if s.refusing {
		return
	}
	if ok, n := s.refuseLog.Allow(time.Now()); ok {
		args := []any{"dir", s.o.Dir, "reason", err}
		if n > 0 {
			args = append(args, "refused_unlogged", n)
		}
		s.log.Warn("spool: refusing appends", args...)
		s.refusing = true
	}
}

// accept logs that appends are accepted again, if the log last said they were refused. s.wmu
// is held.
func (s *Spool) accept() {
	if s.refusing {
		s.refusing = false
		s.log.Info("spool: accepting appends again", "dir", s.o.Dir)
	}
}
