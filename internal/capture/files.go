package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// Output is what a file sink wrote: the requests per signal, in file and line order, and every
// byte of every file (decompressed) for searching.
type Output struct {
	Requests map[telemetry.Signal][]telemetry.Request
	Raw      []byte
	Files    []string
}

// ReadFileSink reads every <signal>-<timestamp>.jsonl[.gz] file under dir.
func ReadFileSink(dir string) (*Output, error) {
	out := &Output{Requests: map[telemetry.Signal][]telemetry.Request{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".jsonl") || strings.HasSuffix(e.Name(), ".jsonl.gz")) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		sigName, _, _ := strings.Cut(name, "-")
		sig, ok := telemetry.ParseSignal(sigName)
		if !ok {
			return nil, fmt.Errorf("%s: not a file sink file", name)
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		out.Files = append(out.Files, name)
		out.Raw = append(out.Raw, data...)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<20)
		for line := 1; sc.Scan(); line++ {
			r := telemetry.Empty(sig)
			if err := otlpjson.Unmarshal(sc.Bytes(), r.Message()); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			out.Requests[sig] = append(out.Requests[sig], r)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

// Records counts the records of every request of a signal.
func (o *Output) Records(sig telemetry.Signal) int {
	n := 0
	for _, r := range o.Requests[sig] {
		n += r.Records()
	}
	return n
}
