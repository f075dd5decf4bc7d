package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const segmentExt = ".seg"

// segmentName names a segment by the ID of its first record, zero-padded so that the names
// sort in append order.
func segmentName(first uint64) string { return fmt.Sprintf("%020d%s", first, segmentExt) }

func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	first, err := strconv.ParseUint(digits, 10, 64)
	return first, err == nil && first > 0
}

// segment is one segment file. Its fields change under s.mu; size, data and f change under
// s.wmu as well, so the writer reads those without s.mu.
type segment struct {
	first uint64
	next  uint64 // one past the ID of its last good record
	size  int64  // bytes of good records: where the next record goes
	disk  int64  // bytes on disk: size, plus any damaged tail left in place
	data  int64  // the length of its good records' data
	path  string
	f     *os.File // the writer's file, while the segment is active
	// sealed: no record will be added. broken: a reader found damage where record next should
	// be; nothing after it is read.
	sealed bool
	broken bool
}

// create starts a segment whose first record will be first and makes it the active one. The
// next commit fsyncs the folder, so the segment's name is durable before any record in it is
// acknowledged. s.wmu is held.
func (s *Spool) create(first uint64) (*segment, error) {
	path := filepath.Join(s.o.Dir, segmentName(first))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, diskError("creating a segment", err)
	}
	seg := &segment{first: first, next: first, path: path, f: f}
	s.mu.Lock()
	s.segs = append(s.segs, seg)
	s.active = seg
	s.dirDirty = true
	s.mu.Unlock()
	return seg, nil
}

// seal closes the active segment to appends; its file goes to the syncer, which may still owe
// it an fsync. s.wmu and s.mu are held.
func (s *Spool) seal() {
	seg := s.active
	s.active = nil
	seg.sealed = true
	if seg.f != nil {
		s.retired = append(s.retired, seg.f)
		seg.f = nil
	}
}

// collect takes the oldest segments out of the spool while every record in them is
// acknowledged, and hands them to the deleter. Their space counts as free from now: the
// deletion is certain and soon. s.mu is held.
func (s *Spool) collect() {
	acked := s.ackedThrough()
	n := 0
	for _, seg := range s.segs {
		if !seg.sealed || seg.next-1 > acked {
			break
		}
		s.dead = append(s.dead, seg)
		s.diskBytes -= seg.disk
		n++
	}
	if n > 0 {
		clear(s.segs[:n])
		s.segs = s.segs[n:]
		signal(s.deleteKick)
	}
}

// deleteLoop deletes the segments collect hands it. Deleting a large file can take the
// filesystem tens of milliseconds; readers acknowledging records do not wait for it.
func (s *Spool) deleteLoop() {
	defer close(s.deleteDone)
	for {
		select {
		case <-s.deleteKick:
			s.deleteDead()
		case <-s.closeCh:
			return
		}
	}
}

// deleteDead deletes the segments collected so far. A reader may still have one open; that is
// fine.
func (s *Spool) deleteDead() {
	s.mu.Lock()
	dead := s.dead
	s.dead = nil
	s.mu.Unlock()
	for _, seg := range dead {
		if err := os.Remove(seg.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.logError("spool: cannot delete a delivered segment", "segment", seg.path, "err", err)
		}
	}
}

// diskError wraps err from writing to the disk; a full disk is ErrFull as well, so the engine
// refuses and the client retries.
func diskError(doing string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %s: %w", ErrFull, doing, err)
	}
	return fmt.Errorf("spool: %s: %w", doing, err)
}

// logError logs a failure that may repeat for as long as the disk misbehaves, once a minute.
func (s *Spool) logError(msg string, args ...any) {
	if ok, n := s.errLog.Allow(time.Now()); ok {
		if n > 0 {
			args = append(args, "suppressed", n)
		}
		s.log.Error(msg, args...)
	}
}
