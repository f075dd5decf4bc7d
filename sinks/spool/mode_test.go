package spool

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestModes(t *testing.T) {
	t.Run("new", func(t *testing.T) {
		root := t.TempDir()
		dir := filepath.Join(root, "state", "spool", "otlp")
		var log logBuffer
		s, _ := mustOpen(t, opts(dir, &log))
		mustAppend(t, s, []byte("x"))
		s.Ack(mustNext(t, s).ID)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{dir, filepath.Dir(dir), filepath.Dir(filepath.Dir(dir))} {
			if m := mode(t, d); m != 0o700 {
				t.Errorf("%s is %v; want 0700", d, m)
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(files) < 3 {
			t.Fatalf("files %v; want a segment, the state and the lock at least", files)
		}
		for _, f := range files {
			if m := mode(t, f); m != 0o600 {
				t.Errorf("%s is %v; want 0600", f, m)
			}
		}
	})
	t.Run("tightened at open", func(t *testing.T) {
		dir := t.TempDir()
		var log logBuffer
		s, _ := mustOpen(t, opts(dir, &log))
		mustAppend(t, s, []byte("x"))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if err := os.Chmod(f, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s, _ = mustOpen(t, opts(dir, &log))
		if m := mode(t, dir); m != 0o700 {
			t.Errorf("folder left %v; want 0700", m)
		}
		for _, f := range files {
			if m := mode(t, f); m != 0o600 {
				t.Errorf("%s left %v; want 0600", f, m)
			}
		}
		if got := drain(t, s); len(got) != 1 {
			t.Errorf("%d records after tightening; want 1", len(got))
		}
	})
}
