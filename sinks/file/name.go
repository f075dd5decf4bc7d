package file

import (
	"regexp"
	"strconv"
	"time"

	"claude-otel-gw/telemetry"
)

// timeLayout is the UTC timestamp in file names: it sorts in time order as text.
const timeLayout = "20060102T150405.000Z"

const (
	ext   = ".jsonl"
	gzExt = ".jsonl.gz"
	// tmpExt marks a compression in progress; a leftover one was interrupted and is removed.
	tmpExt = ".jsonl.gz.tmp"
)

var namePattern = regexp.MustCompile(`^(logs|metrics|traces)-(\d{8}T\d{6}\.\d{3}Z)(?:-([1-9]\d*))?(\.jsonl|\.jsonl\.gz|\.jsonl\.gz\.tmp)$`)

// baseName names a signal's file started at t: logs-20261125T204808.450Z, with "-<seq>" added
// when seq > 0 to tell apart files started in the same millisecond.
func baseName(sig telemetry.Signal, t time.Time, seq int) string {
	b := make([]byte, 0, len("metrics-")+len(timeLayout)+4)
	b = append(b, sig.String()...)
	b = append(b, '-')
	b = t.UTC().AppendFormat(b, timeLayout)
	if seq > 0 {
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(seq), 10)
	}
	return string(b)
}

// name is what a file name of this package says about the file.
type name struct {
	signal  telemetry.Signal
	started time.Time
	seq     int
	ext     string // ext, gzExt or tmpExt
}

// parseName reads a file name written by this package; ok is false for any other name, and
// such files are never touched.
func parseName(s string) (n name, ok bool) {
	m := namePattern.FindStringSubmatch(s)
	if m == nil {
		return name{}, false
	}
	n.signal, _ = telemetry.ParseSignal(m[1])
	t, err := time.Parse(timeLayout, m[2])
	if err != nil {
		return name{}, false
	}
	n.started = t
	if m[3] != "" {
		if n.seq, err = strconv.Atoi(m[3]); err != nil {
			return name{}, false
		}
	}
	n.ext = m[4]
	return n, true
}
