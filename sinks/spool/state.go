package spool

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The state file holds two positions: acked, every ID up to which is delivered, and handed,
// every ID up to which was handed to a reader. It is small text, so that an operator can read
// it, with a checksum, so that a torn one is noticed:
//
//	claude-otel-gw spool state 1
//	acked 1041
//	handed 1050
//	crc32c 823ae827
const (
	stateName  = "state"
	stateTemp  = "state.tmp"
	stateMagic = "claude-otel-gw spool state 1"
	// stateEvery spaces the rewrites of the state file: often enough that a crash leaves few
	// duplicates, rarely enough to cost nothing next to the deliveries.
	stateEvery = 50 * time.Millisecond
)

var errBadState = errors.New("damaged state file")

func formatState(acked, handed uint64) []byte {
	body := fmt.Appendf(nil, "%s\nacked %d\nhanded %d\n", stateMagic, acked, handed)
	return fmt.Appendf(body, "crc32c %08x\n", crc32.Checksum(body, castagnoli))
}

func parseState(b []byte) (acked, handed uint64, err error) {
	text := string(b)
	i := strings.LastIndex(text, "crc32c ")
	if i < 0 {
		return 0, 0, fmt.Errorf("%w: no checksum", errBadState)
	}
	sum, err := strconv.ParseUint(strings.TrimSuffix(text[i+len("crc32c "):], "\n"), 16, 32)
	if err != nil || uint32(sum) != crc32.Checksum(b[:i], castagnoli) {
		return 0, 0, fmt.Errorf("%w: checksum mismatch", errBadState)
	}
	lines := strings.Split(text[:i], "\n")
	if len(lines) != 4 || lines[0] != stateMagic || lines[3] != "" {
		return 0, 0, fmt.Errorf("%w: unknown format", errBadState)
	}
	acked, err1 := positionField(lines[1], "acked ")
	handed, err2 := positionField(lines[2], "handed ")
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	return acked, max(acked, handed), nil
}

func positionField(line, name string) (uint64, error) {
	v, ok := strings.CutPrefix(line, name)
	if !ok {
		return 0, fmt.Errorf("%w: no %q line", errBadState, strings.TrimSpace(name))
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errBadState, err)
	}
	return n, nil
}

// loadState reads the state file; a missing one is a new spool, at position 0.
func loadState(dir string) (acked, handed uint64, err error) {
	b, err := os.ReadFile(filepath.Join(dir, stateName))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("spool: %w", err)
	}
	return parseState(b)
}

// saveState writes the positions to the state file if they changed, atomically (a temporary
// file renamed over it). Only a final save, at Close, is fsynced: losing a later update to a
// power cut costs duplicates, not data. Calls never overlap: Open, then the state writer, then
// Close.
func (s *Spool) saveState(final bool) error {
	s.mu.Lock()
	p := [2]uint64{s.ackedThrough(), s.handedThrough()}
	s.mu.Unlock()
	if p == s.persisted && !final {
		return nil
	}
	tmp := filepath.Join(s.o.Dir, stateTemp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return diskError("writing the state", err)
	}
	_, err = f.Write(formatState(p[0], p[1]))
	if err == nil && final {
		err = s.syncFile(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.o.Dir, stateName))
	}
	if err == nil && final {
		err = syncDir(s.o.Dir, s.syncFile)
	}
	if err != nil {
		return diskError("writing the state", err)
	}
	s.persisted = p
	return nil
}

// stateLoop rewrites the state file when the positions move, at most once per stateEvery.
func (s *Spool) stateLoop() {
	defer close(s.stateDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var last time.Time
	for {
		select {
		case <-s.stateKick:
		case <-s.closeCh:
			return
		}
		if d := time.Until(last.Add(stateEvery)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-s.closeCh:
				timer.Stop()
				return
			}
		}
		if err := s.saveState(false); err != nil {
			s.logError("spool: cannot save the delivered position", "err", err)
		}
		last = time.Now()
	}
}
