// Package file is the file destination: it appends each export request as one line of OTLP/JSON
// to a file per signal under one folder (<signal>-<UTC timestamp>.jsonl, mode 0600 in a 0700
// folder), rotates the files by size and age, gzips rotated files and removes them once older
// than a maximum age.
//
// Lines reach the operating system with one write each and are synced to disk when a file is
// rotated or closed, not after every line: a crash of the gateway loses nothing written, a crash
// of the machine may lose the last lines.
//
// It is not for queueing or retrying: the sinks engine in front of it does that, and a failed
// Write is simply returned for it to retry.
package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

var _ sinks.Writer = (*Writer)(nil)

// Options configure a Writer.
type Options struct {
	Dir          string        // folder; created 0700 (and chmod'ed 0700 if it exists looser)
	MaxFileBytes int64         // rotate when a file would exceed this (0: never by size)
	MaxFileAge   time.Duration // rotate a file this old, when its next line arrives (0: never by age)
	Compress     bool          // gzip rotated files (name.jsonl.gz), removing the .jsonl
	// MaxAge deletes rotated files once both the time in their name and their modification time
	// are older than this, at startup and at each rotation (0: keep them).
	MaxAge time.Duration
	Logger *slog.Logger
	Now    func() time.Time // for tests; nil means time.Now
}

// Writer writes requests to files. It is safe for concurrent use: each signal has its own file
// and lock, so the three signals are written in parallel.
type Writer struct {
	o     Options
	log   *slog.Logger
	files [telemetry.Traces + 1]*current // by signal

	// curMu guards cur, the names of the files being written, which cleanup must not touch.
	// Creating a file and marking it current happen under it together.
	curMu sync.Mutex
	cur   map[string]bool

	maint maintainer

	startMu sync.Mutex
	started bool // Start ran: the folder is ready and the maintenance runs

	closeOnce sync.Once
	closeErr  error
}

// errClosed is returned by Write after Close.
var errClosed = errors.New("file writer closed")

// New checks the options and that the folder is, or can be made, a writable folder, touching
// nothing: building a sink (as --check does) creates no folder and starts no work. Start does.
func New(o Options) (*Writer, error) {
	if o.Dir == "" {
		return nil, errors.New("file sink: no folder given")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkDir(o.Dir); err != nil {
		return nil, err
	}
	w := &Writer{o: o, log: o.Logger, cur: make(map[string]bool)}
	for _, sig := range telemetry.Signals {
		w.files[sig] = &current{sig: sig}
	}
	return w, nil
}

// Start prepares the folder (creating it 0700, tightening it to 0700 if others may read it),
// checks that a file can be created in it, and starts the background work: compressing rotated
// files a previous run left uncompressed, and removing files older than MaxAge. The sink's
// Start calls it before the first Write.
func (w *Writer) Start(context.Context) error {
	w.startMu.Lock()
	defer w.startMu.Unlock()
	if w.started {
		return errors.New("file sink: already started")
	}
	if err := prepareDir(w.o.Dir, w.log); err != nil {
		return err
	}
	if err := w.startMaintenance(); err != nil {
		return err
	}
	w.started = true
	return nil
}

// checkDir reports whether dir is a writable folder, or could be created as one: its nearest
// existing ancestor is a folder the gateway may write in.
func checkDir(dir string) error {
	p := filepath.Clean(dir)
	for {
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			if p == filepath.Clean(dir) {
				return fmt.Errorf("file sink: %s is not a folder", dir)
			}
			return fmt.Errorf("file sink: %s cannot be created: %s is not a folder", dir, p)
		case err == nil:
			if syscall.Access(p, 2 /* W_OK */) != nil {
				if p == filepath.Clean(dir) {
					return fmt.Errorf("file sink: folder %s is not writable", dir)
				}
				return fmt.Errorf("file sink: %s cannot be created: %s is not writable", dir, p)
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("file sink: %w", err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("file sink: %s: no existing folder above it", dir)
		}
		p = parent
	}
}

func prepareDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
		// MkdirAll's mode passes through the umask; the folder must be 0700 whatever it is.
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("file sink: %s is not a folder", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("file sink: folder %s is open to others (%v) and cannot be tightened: %w", dir, perm, err)
		}
		log.Info("file sink: tightened folder permissions", "dir", dir, "was", perm.String(), "now", fs.FileMode(0o700).String())
	}
	probe, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("file sink: folder %s is not writable: %w", dir, err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return fmt.Errorf("file sink: folder %s: %w", dir, err)
	}
	return nil
}

// maxKeptBuffer bounds the encoding buffer a signal keeps between writes, so one huge request
// does not pin its size in memory for good.
const maxKeptBuffer = 1 << 20

// Write appends r to its signal's file as one line of OTLP/JSON, in one write call, rotating
// the file first if the line would push it over MaxFileBytes or the file is older than
// MaxFileAge. An empty or unencodable request is refused for good; anything the file system
// says is returned for the engine to retry.
func (w *Writer) Write(ctx context.Context, r telemetry.Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sig := r.Signal()
	if sig == 0 {
		return sinks.Permanent(errors.New("file sink: empty request"))
	}
	c := w.files[sig]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	var err error
	c.buf, err = otlpjson.AppendMarshal(c.buf[:0], r.Message())
	if err != nil {
		return sinks.Permanent(fmt.Errorf("file sink: encoding a %s request: %w", sig, err))
	}
	c.buf = append(c.buf, '\n')
	defer func() {
		if cap(c.buf) > maxKeptBuffer {
			c.buf = nil
		}
	}()
	return w.writeLine(c, c.buf)
}

// Limits says the files are written by one worker: lines in queue order, one file per signal
// open at a time.
func (w *Writer) Limits() sinks.Limits { return sinks.Limits{Serial: true} }

// Close syncs and closes the open files and waits for the background compression and cleanup
// to finish. The files being written are left as .jsonl; the next New compresses them.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		var errs []error
		for _, sig := range telemetry.Signals {
			c := w.files[sig]
			c.mu.Lock()
			if c.f != nil {
				errs = append(errs, w.closeFile(c))
			}
			c.closed = true
			c.mu.Unlock()
		}
		w.startMu.Lock()
		if w.started {
			w.stopMaintenance()
		}
		w.startMu.Unlock()
		w.closeErr = errors.Join(errs...)
	})
	return w.closeErr
}
