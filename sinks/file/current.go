package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"claude-otel-gw/telemetry"
)

// current is the file a signal is being written to.
type current struct {
	mu     sync.Mutex
	sig    telemetry.Signal
	f      *os.File // nil until the first line, and after rotation until the next
	path   string
	info   os.FileInfo // what f was when opened, to notice it was removed or replaced
	size   int64
	opened time.Time
	buf    []byte // the line being written, reused
	closed bool
}

// writeLine writes line, a whole '\n'-terminated request, to c's file; c.mu is held.
func (w *Writer) writeLine(c *current, line []byte) error {
	now := w.o.Now()
	if c.f != nil {
		switch {
		case w.gone(c):
			w.log.Warn("file sink: the file being written was removed or replaced; starting a new one", "file", c.path)
			c.f.Close() // what it held is gone with it
			w.dropCurrent(c)
		case c.size > 0 && w.o.MaxFileBytes > 0 && c.size+int64(len(line)) > w.o.MaxFileBytes,
			w.o.MaxFileAge > 0 && now.Sub(c.opened) >= w.o.MaxFileAge:
			w.rotate(c)
		}
	}
	if c.f == nil {
		if err := w.open(c, now); err != nil {
			return err
		}
	}
	n, err := c.f.Write(line)
	if err == nil {
		c.size += int64(n)
		return nil
	}
	err = fmt.Errorf("file sink: writing %s: %w", c.path, err)
	if n > 0 {
		// Half a line would break every reader of the file: cut it off, or leave the file.
		if terr := c.f.Truncate(c.size); terr != nil {
			w.log.Warn("file sink: a failed write left a partial line; starting a new file", "file", c.path, "err", terr)
			w.rotate(c)
		}
	}
	return err
}

// gone reports whether c's file is no longer at its path, so lines written to it would be lost.
func (w *Writer) gone(c *current) bool {
	fi, err := os.Stat(c.path)
	return err != nil || !os.SameFile(fi, c.info)
}

// open creates a new file for c, named after now; c.mu is held. The name is new: created with
// O_EXCL, and not the name of a file already rotated and compressed, whose .gz a later
// compression would otherwise overwrite.
func (w *Writer) open(c *current, now time.Time) error {
	w.curMu.Lock()
	defer w.curMu.Unlock()
	const tries = 1000
	for seq := range tries {
		base := filepath.Join(w.o.Dir, baseName(c.sig, now, seq))
		f, err := os.OpenFile(base+ext, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
		// Checked after the create: a compression makes its .gz before removing the .jsonl.
		if _, err := os.Lstat(base + gzExt); err == nil {
			f.Close()
			os.Remove(base + ext)
			continue
		}
		info, err := f.Stat()
		if err == nil {
			// The umask may have taken bits from 0600; only the owner may read telemetry.
			err = f.Chmod(0o600)
		}
		if err != nil {
			f.Close()
			os.Remove(base + ext)
			return fmt.Errorf("file sink: %w", err)
		}
		// The new name must survive a machine crash as much as the lines synced into it.
		syncDir(w.o.Dir)
		c.f, c.path, c.info, c.size, c.opened = f, base+ext, info, 0, now
		w.cur[filepath.Base(c.path)] = true
		return nil
	}
	return fmt.Errorf("file sink: no free name for a %s file in %s after %d tries", c.sig, w.o.Dir, tries)
}

// dropCurrent forgets c's file; c.mu is held.
func (w *Writer) dropCurrent(c *current) {
	w.curMu.Lock()
	delete(w.cur, filepath.Base(c.path))
	w.curMu.Unlock()
	c.f, c.info = nil, nil
}

func (w *Writer) isCurrent(name string) bool {
	w.curMu.Lock()
	defer w.curMu.Unlock()
	return w.cur[name]
}

// closeFile syncs and closes c's file; c.mu is held.
func (w *Writer) closeFile(c *current) error {
	err := c.f.Sync()
	err = errors.Join(err, c.f.Close())
	w.dropCurrent(c)
	if err != nil {
		return fmt.Errorf("file sink: closing %s: %w", c.path, err)
	}
	return nil
}

// rotate closes c's file and hands it to the background work; c.mu is held. The next line
// opens a new file.
func (w *Writer) rotate(c *current) {
	path, empty := c.path, c.size == 0
	if err := w.closeFile(c); err != nil {
		w.log.Warn("file sink: rotating", "err", err)
	}
	if empty {
		os.Remove(path)
		return
	}
	w.rotated(path)
}
