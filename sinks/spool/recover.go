package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// recover rebuilds the spool's state from the folder: it reads the positions, deletes the
// segments every record of which is delivered, scans the others from the acknowledged position
// (checking every record), skips and logs what is torn or damaged (truncating the last segment
// at its last good record), and puts the read position at the first record not acknowledged.
// It runs before any other method, so it takes no locks.
func (s *Spool) recover() (Recovered, error) {
	dir := s.o.Dir
	acked, handed, err := loadState(dir)
	stateLost := false
	if err != nil {
		if !errors.Is(err, errBadState) {
			return Recovered{}, err
		}
		s.log.Warn("spool: the state file is damaged; every record on disk will be delivered again", "dir", dir, "err", err)
		stateLost = true
		acked, handed = 0, 0
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		return Recovered{}, fmt.Errorf("spool: %w", err)
	}
	var firsts []uint64
	for _, e := range entries {
		name := e.Name()
		first, isSeg := parseSegmentName(name)
		switch {
		case name == stateTemp:
			// A state write cut short; the state file is whole.
			os.Remove(filepath.Join(dir, name))
			continue
		case isSeg && e.Type().IsRegular():
			firsts = append(firsts, first)
		case name != stateName && name != lockName:
			continue
		}
		if err := s.tighten(e); err != nil {
			return Recovered{}, err
		}
	}
	slices.Sort(firsts)

	var rec Recovered
	s.cursor = acked + 1
	next := max(acked, handed) + 1 // the next ID: never one handed out or acknowledged before
	for i, first := range firsts {
		path := filepath.Join(dir, segmentName(first))
		// The next segment's first ID bounds this one's: a record at or past it is not this
		// segment's, whatever its bytes say.
		limit := uint64(math.MaxUint64)
		if i+1 < len(firsts) {
			limit = firsts[i+1]
		}
		next = max(next, first)
		if limit-1 <= acked {
			s.removeFile(path)
			continue
		}
		seg, err := s.scan(path, first, limit, i == len(firsts)-1, acked, handed, &rec)
		if err != nil {
			return Recovered{}, err
		}
		next = max(next, seg.next)
		if seg.next == seg.first || seg.next-1 <= acked {
			s.removeFile(path)
			continue
		}
		seg.sealed = true
		s.segs = append(s.segs, seg)
		s.diskBytes += seg.disk
	}
	if stateLost {
		rec.MaybeDelivered = rec.Records
		handed = next - 1
	}
	s.nextID, s.written, s.visible = next, next, next
	s.prevHanded = handed
	s.waiting, s.waitingBytes, s.waitingWeight = rec.Records, rec.Bytes, rec.Weight
	// Whatever the file said, Open writes it again.
	s.persisted = [2]uint64{math.MaxUint64, math.MaxUint64}
	return rec, nil
}

// scan reads a segment through, checking each record, and returns what of it is good. limit
// is the first ID not in it; last says it is the newest segment, whose damaged end (a torn
// write) is cut off.
func (s *Spool) scan(path string, first, limit uint64, last bool, acked, handed uint64, rec *Recovered) (*segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	size := fi.Size()
	seg := &segment{first: first, next: first, path: path}
	br := bufio.NewReaderSize(f, 256<<10)
	var hdr [headerSize]byte
	damage := ""
	for seg.size < size && damage == "" {
		off := seg.size
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("spool: reading %s: %w", path, err)
			}
			damage = "torn header"
			break
		}
		h := parseHeader(hdr[:])
		switch {
		case h.length > maxRecordBytes:
			damage = fmt.Sprintf("absurd length %d", h.length)
			continue
		case off+headerSize+int64(h.length) > size:
			damage = fmt.Sprintf("torn record: %d bytes of data, %d left in the file", h.length, size-off-headerSize)
			continue
		case h.id != seg.next || h.id >= limit:
			damage = fmt.Sprintf("record %d where %d should be", h.id, seg.next)
			continue
		}
		sum := headerSum(hdr[:])
		var weight int64
		if h.id > acked {
			head, err := br.Peek(min(int(h.length), WeighBytes))
			if err != nil {
				return nil, fmt.Errorf("spool: reading %s: %w", path, err)
			}
			weight = s.weigh(head)
		}
		for left := int(h.length); left > 0; {
			b, err := br.Peek(min(left, br.Size()))
			if err != nil {
				// Not damage: the length was checked against the file's size. Cutting the
				// segment here could lose what a second attempt would read.
				return nil, fmt.Errorf("spool: reading %s: %w", path, err)
			}
			sum = updateSum(sum, b)
			br.Discard(len(b))
			left -= len(b)
		}
		if damage == "" && sum != h.sum {
			damage = "checksum mismatch"
		}
		if damage != "" {
			continue
		}
		if h.id > acked {
			if rec.Records == 0 {
				// The first record not delivered: the readers start here.
				s.rseg, s.roff, s.rdata, s.cursor = seg, off, seg.data, h.id
				s.oldestID, s.oldestAt = h.id, time.Unix(0, h.at)
			}
			rec.Records++
			rec.Bytes += int64(h.length)
			rec.Weight += weight
			if h.id <= handed {
				rec.MaybeDelivered++
			}
		}
		seg.size = off + headerSize + int64(h.length)
		seg.data += int64(h.length)
		seg.next = h.id + 1
	}
	seg.disk = size
	if damage != "" {
		rec.Corrupt++
		s.log.Warn("spool: skipped a damaged region", "segment", path, "offset", seg.size,
			"bytes_skipped", size-seg.size, "reason", damage, "last_segment", last)
		if last {
			if err := os.Truncate(path, seg.size); err != nil {
				return nil, fmt.Errorf("spool: cutting the damaged end off %s: %w", path, err)
			}
			seg.disk = seg.size
		}
	}
	return seg, nil
}

// tighten makes a spool file 0600 if it is open to others.
func (s *Spool) tighten(e fs.DirEntry) error {
	fi, err := e.Info()
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	path := filepath.Join(s.o.Dir, e.Name())
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.log.Warn("spool: a file was open to other users; made it 0600", "file", path, "was", fi.Mode().Perm())
	return nil
}

func (s *Spool) removeFile(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("spool: cannot delete a delivered segment", "segment", path, "err", err)
	}
}
