// Package testlog collects what a component under test logs, for the test to read while the
// component's goroutines, or a child process, are still writing. It is for tests only; the
// daemon logs through the *slog.Logger it is given.
package testlog

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// Buffer is an io.Writer that is safe for concurrent use. The zero value is an empty buffer
// ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the lines written so far that contain s, without their line ends.
func (b *Buffer) Lines(s string) []string {
	var out []string
	for line := range strings.Lines(b.String()) {
		if line = strings.TrimSuffix(line, "\n"); strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// Logger returns a logger writing text lines to b, debug level and above, so that a test sees
// every line the component logs.
func (b *Buffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
