package sinks

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// deadLetters is a sink's dead-letter folder, <state dir>/deadletter/<sink>: one JSON file
// per batch the destination refused for good (or that ran out of max_elapsed), holding why,
// when and the batch itself as OTLP/JSON, so an operator can read it, fix the cause and
// replay it (the "request" field is an export request any OTLP/HTTP JSON endpoint takes).
type deadLetters struct {
	dir string
	seq atomic.Uint64
}

// deadLetter is one file's content.
type deadLetter struct {
	Time     time.Time       `json:"time"`
	Sink     string          `json:"sink"`
	Signal   string          `json:"signal"`
	Records  int             `json:"records"`
	Attempts int             `json:"attempts"`
	Error    string          `json:"error"`
	Request  json.RawMessage `json:"request"`
}

// write stores one refused batch and returns the file's path. The file is written under a
// temporary name, synced and renamed, so a file with the final name is always whole.
func (d *deadLetters) write(sink string, req telemetry.Request, records, attempts int, cause error, now time.Time) (string, error) {
	body, err := otlpjson.Marshal(req.Message())
	if err != nil {
		return "", fmt.Errorf("encoding a dead letter: %w", err)
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return "", fmt.Errorf("dead-letter folder: %w", err)
	}
	sig := req.Signal().String()
	name := fmt.Sprintf("%s-%s-%d-%s.json", sig, now.UTC().Format("20060102T150405.000000000Z"),
		os.Getpid(), strconv.FormatUint(d.seq.Add(1), 10))
	path := filepath.Join(d.dir, name)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("dead letter: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err = enc.Encode(deadLetter{
		Time: now.UTC(), Sink: sink, Signal: sig, Records: records, Attempts: attempts,
		Error: cause.Error(), Request: body,
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("dead letter: %w", err)
	}
	return path, nil
}
