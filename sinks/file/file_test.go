package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"google.golang.org/protobuf/proto"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// t0 is the time the tests' clocks start at.
var t0 = time.Date(2026, 11, 25, 20, 48, 8, 450e6, time.UTC)

func newWriter(t *testing.T, o Options) *Writer {
	t.Helper()
	w, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return w
}

func write(t *testing.T, w *Writer, r telemetry.Request) {
	t.Helper()
	if err := w.Write(context.Background(), r); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func closeWriter(t *testing.T, w *Writer) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func lineLen(t *testing.T, r telemetry.Request) int64 {
	t.Helper()
	b, err := otlpjson.Marshal(r.Message())
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(b)) + 1
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "telemetry")
	w := newWriter(t, Options{Dir: dir})
	want := captured(t)
	for _, sig := range telemetry.Signals {
		for _, r := range want[sig] {
			write(t, w, r)
		}
	}
	closeWriter(t, w)

	files := readDir(t, dir)
	if len(files) != 3 {
		t.Fatalf("files %v, want one per signal", fileNames(files))
	}
	for _, f := range files {
		if !strings.HasPrefix(f.file, f.name.signal.String()+"-") || !strings.HasSuffix(f.file, ".jsonl") {
			t.Errorf("file %q is not named <signal>-<timestamp>.jsonl", f.file)
		}
		if len(f.lines) != len(want[f.name.signal]) {
			t.Errorf("%s holds %d lines, want one per request (%d)", f.file, len(f.lines), len(want[f.name.signal]))
		}
	}
	requireEqual(t, decodeAll(t, files), want)
}

func TestNamesAndCollisions(t *testing.T) {
	dir := t.TempDir()
	// Files another run left with the names the clock would give.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("earlier\n"))
	zw.Close()
	for n, data := range map[string][]byte{
		"logs-20261125T204808.450Z.jsonl":       []byte("earlier\n"),
		"metrics-20261125T204808.450Z.jsonl.gz": gz.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clk := newClock(t0)
	w := newWriter(t, Options{Dir: dir, Now: clk.now})
	reqs := captured(t)
	for _, sig := range telemetry.Signals {
		write(t, w, reqs[sig][0])
	}
	closeWriter(t, w)

	got := fileNames(readDir(t, dir))
	want := []string{
		"logs-20261125T204808.450Z.jsonl", "logs-20261125T204808.450Z-1.jsonl",
		"metrics-20261125T204808.450Z.jsonl.gz", "metrics-20261125T204808.450Z-1.jsonl",
		"traces-20261125T204808.450Z.jsonl",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "logs-20261125T204808.450Z.jsonl")); string(b) != "earlier\n" {
		t.Errorf("an existing file was written to: %q", b)
	}
}

func TestRotateBySize(t *testing.T) {
	reqs := captured(t)[telemetry.Logs]
	r := reqs[0]
	one := lineLen(t, r)
	for _, tc := range []struct {
		name     string
		maxBytes int64
		perFile  []int // lines per file, in order
	}{
		{"two lines fit", 2*one + one/2, []int{2, 2, 1}},
		{"exactly two lines", 2 * one, []int{2, 2, 1}},
		{"a line larger than the limit", one / 2, []int{1, 1, 1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w := newWriter(t, Options{Dir: dir, MaxFileBytes: tc.maxBytes, Now: newClock(t0).now})
			for range 5 {
				write(t, w, r)
			}
			closeWriter(t, w)
			files := readDir(t, dir)
			var perFile []int
			for _, f := range files {
				perFile = append(perFile, len(f.lines))
				fi, err := os.Stat(filepath.Join(dir, f.file))
				if err != nil {
					t.Fatal(err)
				}
				if len(f.lines) > 1 && fi.Size() > tc.maxBytes {
					t.Errorf("%s is %d bytes, over the limit of %d", f.file, fi.Size(), tc.maxBytes)
				}
			}
			if !slices.Equal(perFile, tc.perFile) {
				t.Errorf("lines per file = %v, want %v (files %q)", perFile, tc.perFile, fileNames(files))
			}
			got := decodeAll(t, files)[telemetry.Logs]
			if len(got) != 5 {
				t.Fatalf("read back %d requests, want 5", len(got))
			}
		})
	}
}

func TestRotateByAge(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(t0)
	w := newWriter(t, Options{Dir: dir, MaxFileAge: time.Hour, Now: clk.now})
	reqs := captured(t)[telemetry.Traces]
	write(t, w, reqs[0])
	clk.advance(59 * time.Minute)
	write(t, w, reqs[1])
	clk.advance(time.Minute) // the file is an hour old now
	write(t, w, reqs[2])
	closeWriter(t, w)

	files := readDir(t, dir)
	if got, want := fileNames(files), []string{"traces-20261125T204808.450Z.jsonl", "traces-20261125T214808.450Z.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("files = %q, want %q", got, want)
	}
	if len(files[0].lines) != 2 || len(files[1].lines) != 1 {
		t.Errorf("lines per file = %d, %d; want 2, 1", len(files[0].lines), len(files[1].lines))
	}
	requireEqual(t, decodeAll(t, files), map[telemetry.Signal][]telemetry.Request{telemetry.Traces: reqs[:3]})
}

func TestCompressOnRotation(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(t0)
	w := newWriter(t, Options{Dir: dir, MaxFileAge: time.Hour, Compress: true, Now: clk.now})
	reqs := captured(t)[telemetry.Logs]
	write(t, w, reqs[0])
	write(t, w, reqs[1])
	first := filepath.Join(dir, "logs-20261125T204808.450Z.jsonl")
	before, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(2 * time.Hour)
	write(t, w, reqs[2])
	closeWriter(t, w)

	files := readDir(t, dir)
	if got, want := fileNames(files), []string{"logs-20261125T204808.450Z.jsonl.gz", "logs-20261125T224808.450Z.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("files = %q, want the rotated one gzipped and the current one plain: %q", got, want)
	}
	gz, err := os.Stat(first + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	if gz.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", gz.Name(), gz.Mode().Perm())
	}
	if !gz.ModTime().Equal(before.ModTime()) {
		t.Errorf("the .gz has modification time %v, want the .jsonl's %v", gz.ModTime(), before.ModTime())
	}
	requireEqual(t, decodeAll(t, files), map[telemetry.Signal][]telemetry.Request{telemetry.Logs: reqs[:3]})
}

func TestStartupCompressesLeftovers(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(t0)
	reqs := captured(t)[telemetry.Metrics]
	w := newWriter(t, Options{Dir: dir, Compress: true, Now: clk.now})
	write(t, w, reqs[0])
	closeWriter(t, w) // leaves its current file as .jsonl
	// An interrupted compression, which must go, and someone else's file, which must stay.
	for n, data := range map[string]string{"metrics-20261125T204808.450Z.jsonl.gz.tmp": "half", "notes.jsonl": "mine\n"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	clk.advance(time.Minute)
	w = newWriter(t, Options{Dir: dir, Compress: true, Now: clk.now})
	write(t, w, reqs[1])
	closeWriter(t, w)

	if got, want := fileNames(readDir(t, dir)), []string{"metrics-20261125T204808.450Z.jsonl.gz", "metrics-20261125T204908.450Z.jsonl"}; !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.jsonl")); err != nil {
		t.Errorf("a file that is not the sink's was touched: %v", err)
	}
	requireEqual(t, decodeAll(t, readDir(t, dir)), map[telemetry.Signal][]telemetry.Request{telemetry.Metrics: reqs[:2]})
}

func TestMaxAgeCleanup(t *testing.T) {
	t.Run("at startup", func(t *testing.T) {
		dir := t.TempDir()
		now := t0
		old, recent := now.Add(-48*time.Hour), now.Add(-time.Hour)
		files := []struct {
			name  string
			mtime time.Time
			kept  bool
		}{
			{baseName(telemetry.Logs, old, 0) + gzExt, old, false},
			{baseName(telemetry.Traces, old, 3) + ext, old, false},
			{baseName(telemetry.Metrics, old, 0) + gzExt, recent, true}, // written to until recently
			{baseName(telemetry.Logs, recent, 0) + gzExt, recent, true},
			{"notes.txt", old, true}, // not the sink's
		}
		for _, f := range files {
			p := filepath.Join(dir, f.name)
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
				t.Fatal(err)
			}
		}
		w := newWriter(t, Options{Dir: dir, MaxAge: 24 * time.Hour, Now: newClock(now).now})
		closeWriter(t, w) // waits for the cleanup
		for _, f := range files {
			_, err := os.Stat(filepath.Join(dir, f.name))
			if kept := err == nil; kept != f.kept {
				t.Errorf("%s: kept = %v, want %v", f.name, kept, f.kept)
			}
		}
	})
	t.Run("at rotation", func(t *testing.T) {
		dir := t.TempDir()
		// Files written now get today's modification time, so the clock starts now too.
		start := time.Now().UTC().Truncate(time.Millisecond)
		clk := newClock(start)
		w := newWriter(t, Options{Dir: dir, MaxFileAge: time.Hour, MaxAge: 3 * time.Hour, Compress: true, Now: clk.now})
		r := captured(t)[telemetry.Logs][0]
		write(t, w, r) // file A
		clk.advance(2 * time.Hour)
		write(t, w, r) // A rotated (2h old: kept), file B
		clk.advance(2 * time.Hour)
		write(t, w, r) // B rotated, A is 4h old: removed; file C
		closeWriter(t, w)
		got := fileNames(readDir(t, dir))
		want := []string{baseName(telemetry.Logs, start.Add(2*time.Hour), 0) + gzExt, baseName(telemetry.Logs, start.Add(4*time.Hour), 0) + ext}
		if !slices.Equal(got, want) {
			t.Errorf("files = %q, want %q", got, want)
		}
	})
}

func TestClose(t *testing.T) {
	dir := t.TempDir()
	w := newWriter(t, Options{Dir: dir})
	r := captured(t)[telemetry.Logs][0]
	write(t, w, r)
	closeWriter(t, w)
	if err := w.Write(context.Background(), r); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := decodeAll(t, readDir(t, dir))[telemetry.Logs]; len(got) != 1 {
		t.Errorf("read back %d requests after Close, want 1", len(got))
	}
}

func TestConcurrentSignals(t *testing.T) {
	dir := t.TempDir()
	all := captured(t)
	w := newWriter(t, Options{Dir: dir, MaxFileBytes: 64 << 10, Compress: true, MaxAge: 24 * time.Hour})
	const rounds = 40
	var wg sync.WaitGroup
	want := map[telemetry.Signal][]telemetry.Request{}
	for _, sig := range telemetry.Signals {
		for i := range rounds {
			want[sig] = append(want[sig], all[sig][i%len(all[sig])])
		}
		reqs := want[sig]
		wg.Go(func() {
			for _, r := range reqs {
				if err := w.Write(context.Background(), r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	closeWriter(t, w)
	files := readDir(t, dir)
	if len(files) <= 3 {
		t.Errorf("files %q: expected rotations at 64 KiB", fileNames(files))
	}
	requireEqual(t, decodeAll(t, files), want)
}

func TestWriteErrors(t *testing.T) {
	r := captured(t)[telemetry.Logs][0]
	for _, tc := range []struct {
		name    string
		break_  func(dir string) error
		restore func(dir string) error
	}{
		{
			name: "folder replaced by a file",
			break_: func(dir string) error {
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
				return os.WriteFile(dir, []byte("not a folder"), 0o600)
			},
			restore: func(dir string) error {
				if err := os.Remove(dir); err != nil {
					return err
				}
				return os.Mkdir(dir, 0o700)
			},
		},
		{
			name:    "folder removed",
			break_:  os.RemoveAll,
			restore: func(dir string) error { return os.Mkdir(dir, 0o700) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "telemetry")
			clk := newClock(t0)
			w := newWriter(t, Options{Dir: dir, MaxFileAge: time.Hour, Now: clk.now})
			write(t, w, r)
			if err := tc.break_(dir); err != nil {
				t.Fatal(err)
			}
			err := w.Write(context.Background(), r)
			if err == nil {
				t.Fatal("Write into a broken folder succeeded")
			}
			if sinks.IsPermanent(err) {
				t.Errorf("Write error %v is permanent; the engine must retry it", err)
			}
			if err := tc.restore(dir); err != nil {
				t.Fatal(err)
			}
			write(t, w, r) // the engine's retry
			closeWriter(t, w)
			if got := decodeAll(t, readDir(t, dir))[telemetry.Logs]; len(got) == 0 {
				t.Error("nothing written once the folder was usable again")
			}
		})
	}
}

func TestFileRemovedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(t0)
	w := newWriter(t, Options{Dir: dir, Now: clk.now})
	reqs := captured(t)[telemetry.Logs]
	write(t, w, reqs[0])
	if err := os.Remove(filepath.Join(dir, "logs-20261125T204808.450Z.jsonl")); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Second)
	write(t, w, reqs[1])
	closeWriter(t, w)
	files := readDir(t, dir)
	if got, want := fileNames(files), []string{"logs-20261125T204809.450Z.jsonl"}; !slices.Equal(got, want) {
		t.Fatalf("files = %q, want the next line in a new file %q", got, want)
	}
	requireEqual(t, decodeAll(t, files), map[telemetry.Signal][]telemetry.Request{telemetry.Logs: reqs[1:2]})
}

func TestRefusesForGood(t *testing.T) {
	w := newWriter(t, Options{Dir: t.TempDir()})
	if err := w.Write(context.Background(), telemetry.Request{}); !sinks.IsPermanent(err) {
		t.Errorf("Write of an empty request = %v, want a permanent error", err)
	}
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dirs := []string{"", file, filepath.Join(file, "sub")}
	if os.Geteuid() != 0 { // root writes anywhere
		readOnly := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(readOnly, 0o500); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, readOnly)
	}
	for _, dir := range dirs {
		if w, err := New(Options{Dir: dir}); err == nil {
			w.Close()
			t.Errorf("New(Dir: %q) succeeded", dir)
		}
	}
}

// The file sink behind the engine: what the router puts in is on disk after Shutdown. The
// engine merges queued requests into batches, so a line may hold several of them: the records,
// in order, are what must match.
func TestBehindTheEngine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	w, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("New made the folder (%v): building a sink, as --check does, must touch nothing", err)
	}
	s := sinks.New(w, sinks.Options{Name: "local"})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := captured(t)
	for _, sig := range telemetry.Signals {
		for _, r := range want[sig] {
			n := len(fmt.Sprint(sig)) // any size fits the default queue
			if err := s.Reserve(n); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(context.Background(), r, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	got := decodeAll(t, readDir(t, dir))
	for _, sig := range telemetry.Signals {
		if !proto.Equal(telemetry.Merge(got[sig]).Message(), telemetry.Merge(want[sig]).Message()) {
			t.Errorf("%s: the records read back differ from those put in", sig)
		}
	}
}
