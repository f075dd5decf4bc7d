package testpki

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFile writes data to dir/name readable by its owner only, as the gateway demands of key
// and token files, and returns the path. The file must not exist yet: two fixtures given one
// name would otherwise leave a test reading the wrong one.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("testpki: %v", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		t.Fatalf("testpki: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("testpki: %v", err)
	}
	return path
}
