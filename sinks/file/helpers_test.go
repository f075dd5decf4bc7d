package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// captured loads the protobuf requests Claude Code sent, by signal, in a fixed order.
func captured(t testing.TB) map[telemetry.Signal][]telemetry.Request {
	t.Helper()
	all, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	out := map[telemetry.Signal][]telemetry.Request{}
	for _, p := range all {
		if p.Encoding != capture.HTTPJSON {
			out[p.Signal] = append(out[p.Signal], p.Request)
		}
	}
	return out
}

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// written is one file found in a sink's folder.
type written struct {
	file  string // base name
	name  name
	lines [][]byte // each without its '\n'
}

// readDir reads every file of this package in dir, .jsonl and .jsonl.gz, oldest first per
// signal, checking that each holds whole '\n'-terminated lines.
func readDir(t *testing.T, dir string) []written {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []written
	for _, e := range entries {
		n, ok := parseName(e.Name())
		if !ok {
			continue
		}
		if n.ext == tmpExt {
			t.Errorf("%s: an unfinished compression is left over", e.Name())
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if n.ext == gzExt {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Errorf("%s does not end with a whole line", e.Name())
		}
		w := written{file: e.Name(), name: n}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			w.lines = append(w.lines, slices.Clone(sc.Bytes()))
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b written) int {
		if a.name.signal != b.name.signal {
			return int(a.name.signal) - int(b.name.signal)
		}
		if c := a.name.started.Compare(b.name.started); c != 0 {
			return c
		}
		return a.name.seq - b.name.seq
	})
	return out
}

// decodeAll decodes the lines of files, in order, as requests of their files' signals.
func decodeAll(t *testing.T, files []written) map[telemetry.Signal][]telemetry.Request {
	t.Helper()
	out := map[telemetry.Signal][]telemetry.Request{}
	for _, f := range files {
		for i, line := range f.lines {
			r := telemetry.Empty(f.name.signal)
			if err := otlpjson.Unmarshal(line, r.Message()); err != nil {
				t.Fatalf("%s line %d: %v", f.file, i+1, err)
			}
			out[f.name.signal] = append(out[f.name.signal], r)
		}
	}
	return out
}

func requireEqual(t *testing.T, got, want map[telemetry.Signal][]telemetry.Request) {
	t.Helper()
	for _, sig := range telemetry.Signals {
		if len(got[sig]) != len(want[sig]) {
			t.Errorf("%s: read back %d requests, wrote %d", sig, len(got[sig]), len(want[sig]))
			continue
		}
		for i := range want[sig] {
			if !proto.Equal(got[sig][i].Message(), want[sig][i].Message()) {
				t.Errorf("%s request %d does not read back as written", sig, i)
			}
		}
	}
}

func fileNames(files []written) []string {
	var names []string
	for _, f := range files {
		names = append(names, f.file)
	}
	return names
}
