//go:build unix

package file

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"claude-otel-gw/telemetry"
)

// Modes must not depend on the umask the gateway was started with.
func TestModes(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o077} {
		t.Run(fmt.Sprintf("umask %03o", umask), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)

			root := t.TempDir()
			created := filepath.Join(root, "state", "telemetry")
			loose := filepath.Join(root, "loose")
			if err := os.Mkdir(loose, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(loose, 0o755); err != nil {
				t.Fatal(err)
			}
			r := captured(t)[telemetry.Logs][0]
			for _, dir := range []string{created, loose} {
				w := newWriter(t, Options{Dir: dir, MaxFileBytes: 1, Compress: true})
				write(t, w, r)
				write(t, w, r) // rotates, so a .gz is made too
				closeWriter(t, w)
				fi, err := os.Stat(dir)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o700 {
					t.Errorf("%s: folder mode %v, want 0700", dir, fi.Mode().Perm())
				}
				files := readDir(t, dir)
				if len(files) != 2 {
					t.Fatalf("%s: files %q, want a .gz and a .jsonl", dir, fileNames(files))
				}
				for _, f := range files {
					fi, err := os.Stat(filepath.Join(dir, f.file))
					if err != nil {
						t.Fatal(err)
					}
					if fi.Mode().Perm() != 0o600 {
						t.Errorf("%s: mode %v, want 0600", f.file, fi.Mode().Perm())
					}
				}
			}
		})
	}
}
