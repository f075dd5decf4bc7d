package file

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// maintainer runs the slow work off the write path: compressing rotated files and removing old
// ones. One goroutine does it all, in order, so a compression and a cleanup never race.
type maintainer struct {
	mu       sync.Mutex
	compress []string // paths of .jsonl files to gzip
	cleanup  bool     // a cleanup is due
	stopping bool
	wake     chan struct{}
	done     chan struct{}
}

// startMaintenance looks at what a previous run left: interrupted compressions are removed
// and, with Compress, every .jsonl is compressed (no file is being written yet). Then the
// background work starts, with a cleanup if MaxAge is set.
func (w *Writer) startMaintenance() error {
	w.maint.wake = make(chan struct{}, 1)
	w.maint.done = make(chan struct{})
	entries, err := os.ReadDir(w.o.Dir)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	for _, e := range entries {
		n, ok := parseName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(w.o.Dir, e.Name())
		switch {
		case n.ext == tmpExt:
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("file sink: removing an interrupted compression: %w", err)
			}
		case n.ext == ext && w.o.Compress:
			w.maint.compress = append(w.maint.compress, path)
		}
	}
	w.maint.cleanup = w.o.MaxAge > 0
	go w.maintain()
	return nil
}

// rotated queues the background work a rotation calls for.
func (w *Writer) rotated(path string) {
	m := &w.maint
	m.mu.Lock()
	if w.o.Compress {
		m.compress = append(m.compress, path)
	}
	m.cleanup = m.cleanup || w.o.MaxAge > 0
	m.mu.Unlock()
	w.wakeMaintenance()
}

func (w *Writer) wakeMaintenance() {
	select {
	case w.maint.wake <- struct{}{}:
	default:
	}
}

// stopMaintenance lets the background work finish what is queued and waits for it.
func (w *Writer) stopMaintenance() {
	w.maint.mu.Lock()
	w.maint.stopping = true
	w.maint.mu.Unlock()
	w.wakeMaintenance()
	<-w.maint.done
}

func (w *Writer) maintain() {
	m := &w.maint
	defer close(m.done)
	for {
		m.mu.Lock()
		paths, cleanup, stopping := m.compress, m.cleanup, m.stopping
		m.compress, m.cleanup = nil, false
		m.mu.Unlock()
		for _, p := range paths {
			if err := w.compress(p); err != nil {
				w.log.Warn("file sink: compressing a rotated file failed; it stays uncompressed until the next start", "err", err)
			}
		}
		if cleanup {
			w.cleanup()
		}
		if len(paths) > 0 || cleanup {
			continue // more may have come meanwhile
		}
		if stopping {
			return
		}
		<-m.wake
	}
}

// compress gzips path to path.gz, keeping its modification time, and removes path. It writes a
// temporary file and renames it, so a .gz is either whole or absent; if interrupted, the .jsonl
// is still there and the next start compresses it again.
func (w *Writer) compress(path string) (err error) {
	src, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed by cleanup, or by someone else
	}
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	gz := path + ".gz"
	tmp := gz + ".tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	if err := dst.Chmod(0o600); err != nil {
		return err
	}
	zw := gzip.NewWriter(dst)
	zw.Name = filepath.Base(path)
	zw.ModTime = st.ModTime()
	if _, err := io.Copy(zw, src); err != nil {
		return fmt.Errorf("compressing %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	// The data is as old as the .jsonl was; MaxAge goes by that.
	if err := os.Chtimes(tmp, st.ModTime(), st.ModTime()); err != nil {
		return err
	}
	if err := os.Rename(tmp, gz); err != nil {
		return err
	}
	syncDir(w.o.Dir)
	return os.Remove(path)
}

// syncDir makes a rename in dir durable before the file it replaces is removed. It is best
// effort: not every platform can sync a folder.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// cleanup removes this package's files, other than those being written, once both the time in
// their name and their modification time are older than MaxAge.
func (w *Writer) cleanup() {
	entries, err := os.ReadDir(w.o.Dir)
	if err != nil {
		w.log.Warn("file sink: listing for cleanup", "err", err)
		return
	}
	cutoff := w.o.Now().Add(-w.o.MaxAge)
	removed := 0
	for _, e := range entries {
		n, ok := parseName(e.Name())
		if !ok || n.ext == tmpExt || !e.Type().IsRegular() || !n.started.Before(cutoff) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		if w.removeUnlessCurrent(e.Name()) {
			removed++
		}
	}
	if removed > 0 {
		w.log.Info("file sink: removed files older than max_age", "files", removed, "max_age", w.o.MaxAge)
	}
}

func (w *Writer) removeUnlessCurrent(name string) bool {
	w.curMu.Lock()
	defer w.curMu.Unlock()
	if w.cur[name] {
		return false
	}
	if err := os.Remove(filepath.Join(w.o.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.log.Warn("file sink: removing an old file", "err", err)
		return false
	}
	return true
}
