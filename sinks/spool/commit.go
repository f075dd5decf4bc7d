package spool

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// round is a group of appends made durable by one commit: written, waiting for the fsync that
// will cover them all.
type round struct {
	done  chan struct{} // closed when the commit is over; err is its outcome
	err   error
	n     int       // appends in it
	start time.Time // when the first one joined: the commit starts FsyncDelay later at the latest
}

func newRound() *round { return &round{done: make(chan struct{})} }

// syncLoop commits rounds, one at a time: each starts FsyncDelay after its first append joined,
// or when the commit before it ends if that is later, and appends arriving meanwhile join it.
// On Close it commits what is pending at once and returns.
func (s *Spool) syncLoop() {
	defer close(s.syncDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	closing := false
	for {
		s.mu.Lock()
		n, start := s.round.n, s.round.start
		s.mu.Unlock()
		if n == 0 {
			if closing {
				return
			}
			select {
			case <-s.kick:
			case <-s.closeCh:
				closing = true
			}
			continue
		}
		if d := time.Until(start.Add(s.o.FsyncDelay)); d > 0 && !closing {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-s.closeCh:
				timer.Stop()
				closing = true
			}
		}
		s.commit()
	}
}

// commit fsyncs everything the current round's appends wrote (their segments, sealed or
// active, and the folder if a segment was created) and tells them how it went.
func (s *Spool) commit() {
	s.mu.Lock()
	r := s.round
	s.round = newRound()
	files := s.retired
	s.retired = nil
	var active *os.File
	if s.active != nil {
		active = s.active.f
	}
	written := s.written
	dirDirty := s.dirDirty
	s.dirDirty = false
	s.mu.Unlock()

	var errs []error
	for _, f := range files {
		if err := s.syncFile(f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Name(), err))
		}
		f.Close()
	}
	if active != nil {
		if err := s.syncFile(active); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", active.Name(), err))
		}
	}
	if dirDirty {
		if err := syncDir(s.o.Dir, s.syncFile); err != nil {
			errs = append(errs, err)
		}
	}

	s.mu.Lock()
	// Readers see the records even when the fsync failed: they are in the files, and their
	// appends, told of the failure, will be retried; delivering both is a duplicate, not a loss.
	s.visible = written
	close(s.avail)
	s.avail = make(chan struct{})
	s.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		s.logError("spool: fsync failed; appends waiting for it fail", "err", err)
		r.err = diskError("fsync", err)
	}
	close(r.done)
}

// syncDir makes the folder's entries (created, renamed files) durable.
func syncDir(dir string, sync func(*os.File) error) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	if err := sync(d); err != nil {
		return fmt.Errorf("spool: fsync %s: %w", dir, err)
	}
	return nil
}
