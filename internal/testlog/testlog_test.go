package testlog

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentWrites writes from many goroutines while reading, as a component's workers and
// its test do; under -race it fails if Buffer is not safe for that.
func TestConcurrentWrites(t *testing.T) {
	var b Buffer
	log := b.Logger()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				log.Debug("delivered", "worker", g, "i", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := len(b.Lines("msg=delivered")); got != 8*50 {
		t.Errorf("%d lines, want %d", got, 8*50)
	}
	for _, line := range b.Lines("") {
		if !strings.HasPrefix(line, "time=") || !strings.Contains(line, "level=DEBUG") {
			t.Fatalf("a line torn or not at debug level: %q", line)
		}
	}
}

func TestLines(t *testing.T) {
	for _, tc := range []struct {
		name    string
		written string
		s       string
		want    []string
	}{
		{"nothing written", "", "", nil},
		{"every line", "a one\nb two\n", "", []string{"a one", "b two"}},
		{"matching lines", "a one\nb two\na three\n", "a ", []string{"a one", "a three"}},
		{"no match", "a one\n", "zzz", nil},
		{"a last line without its end", "a one\na two", "two", []string{"a two"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b Buffer
			fmt.Fprint(&b, tc.written)
			if got := b.Lines(tc.s); !slices.Equal(got, tc.want) {
				t.Errorf("Lines(%q) = %q, want %q", tc.s, got, tc.want)
			}
			if got := b.String(); got != tc.written {
				t.Errorf("String() = %q, want %q", got, tc.written)
			}
		})
	}
}
