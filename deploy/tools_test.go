package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// requireTools, when set (CI sets it), turns a missing external tool into a failure instead of
// a skip, so that a check cannot silently stop running.
const requireTools = "CLAUDE_OTEL_GW_REQUIRE_TOOLS"

// tool finds an external program a test needs, or skips the test, saying so, unless
// CLAUDE_OTEL_GW_REQUIRE_TOOLS is set, in which case it fails it.
func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv(requireTools) != "" {
		t.Fatalf("%s is needed and %s is set, but: %v", name, requireTools, err)
	}
	t.Skipf("%s not found, so this check did not run (set %s to make that a failure): %v", name, requireTools, err)
	return ""
}

// repoRoot is the module's root folder, where the Makefile and config.toml.example are.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
