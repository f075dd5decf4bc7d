package gcs

import (
	"container/list"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"claude-otel-gw/telemetry"
)

const (
	// objectSuffix: BigQuery and most tools tell gzip from the name, not the metadata.
	objectSuffix = ".jsonl.gz"
	// uniqueLen is the length of <unique> in a name: 16 bytes of the content's SHA-256 in hex,
	// a '-', and 4 random bytes in hex that tell apart batches of the same content received
	// apart (the same export sent twice).
	uniqueLen = 2*contentHashBytes + 1 + 8
	// contentHashBytes is how much of the content's SHA-256 a name carries.
	contentHashBytes = 16
	// maxHostLen keeps names short; a DNS name is at most 253 bytes anyway.
	maxHostLen = 128
	// maxObjectName is Cloud Storage's limit on an object name, in bytes.
	maxObjectName = 1024
	// pendingMemory is how many batches tried and not yet written keep their names: at most a
	// few are in flight at a time; the rest are ones a shutdown abandoned.
	pendingMemory = 1024
)

// objectName is where a batch of sig, whose partition time is t, with content hash unique,
// is written: <prefix>/signal=<sig>/date=YYYY-MM-DD/hour=HH/<host>-<unique>.jsonl.gz (UTC).
func objectName(prefix string, sig telemetry.Signal, t time.Time, host, unique string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(host) + uniqueLen + 64)
	if prefix != "" {
		b.WriteString(prefix)
		b.WriteByte('/')
	}
	t = t.UTC()
	fmt.Fprintf(&b, "signal=%s/date=%04d-%02d-%02d/hour=%02d/%s-%s%s",
		sig, t.Year(), int(t.Month()), t.Day(), t.Hour(), host, unique, objectSuffix)
	return b.String()
}

// checkNameLength refuses a prefix and host whose longest object name would pass Cloud
// Storage's limit, so that it shows at --check and not at the first upload.
func checkNameLength(prefix, host string) error {
	longest := objectName(prefix, telemetry.Metrics, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), host, strings.Repeat("0", uniqueLen))
	if len(longest) > maxObjectName {
		return fmt.Errorf("prefix of %d bytes: object names would be longer than Cloud Storage's %d bytes", len(prefix), maxObjectName)
	}
	return nil
}

// sanitizeHost keeps a host name to [A-Za-z0-9._-], so that it is one path segment and no
// tool has to quote it; other characters become '-'.
func sanitizeHost(h string) string {
	b := []byte(h)
	if len(b) > maxHostLen {
		b = b[:maxHostLen]
	}
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			b[i] = '-'
		}
	}
	// "." and ".." are not names a path tool treats as names.
	if s := strings.Trim(string(b), "."); s != "" {
		return string(b)
	}
	return "host"
}

// earliest is the time of the batch's earliest record: a log's time (or its observed time when
// it has none), a data point's time, a span's start. A record without one does not count; ok
// is false when no record has one.
func earliest(r telemetry.Request) (t time.Time, ok bool) {
	var least uint64 = math.MaxUint64
	see := func(ns uint64) {
		// Zero is "unknown"; past MaxInt64 a time.Time cannot hold it (the year 2262).
		if ns != 0 && ns <= math.MaxInt64 && ns < least {
			least = ns
		}
	}
	switch r.Signal() {
	case telemetry.Logs:
		for _, rl := range r.Logs.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				for _, l := range sl.GetLogRecords() {
					see(logTime(l))
				}
			}
		}
	case telemetry.Metrics:
		for _, rm := range r.Metrics.GetResourceMetrics() {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					pointTimes(m, see)
				}
			}
		}
	case telemetry.Traces:
		for _, rs := range r.Traces.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					see(s.GetStartTimeUnixNano())
				}
			}
		}
	}
	if least == math.MaxUint64 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(least)).UTC(), true
}

func logTime(l *logspb.LogRecord) uint64 {
	if t := l.GetTimeUnixNano(); t != 0 {
		return t
	}
	return l.GetObservedTimeUnixNano()
}

// pointTimes calls see with the time of each of m's data points.
func pointTimes(m *metricspb.Metric, see func(uint64)) {
	switch d := m.GetData().(type) {
	case *metricspb.Metric_Gauge:
		for _, p := range d.Gauge.GetDataPoints() {
			see(p.GetTimeUnixNano())
		}
	case *metricspb.Metric_Sum:
		for _, p := range d.Sum.GetDataPoints() {
			see(p.GetTimeUnixNano())
		}
	case *metricspb.Metric_Histogram:
		for _, p := range d.Histogram.GetDataPoints() {
			see(p.GetTimeUnixNano())
		}
	case *metricspb.Metric_ExponentialHistogram:
		for _, p := range d.ExponentialHistogram.GetDataPoints() {
			see(p.GetTimeUnixNano())
		}
	case *metricspb.Metric_Summary:
		for _, p := range d.Summary.GetDataPoints() {
			see(p.GetTimeUnixNano())
		}
	}
}

// pending remembers the object name of each batch that has been tried and not yet written, so
// that the engine's retry of it (the same request, tried again) names the same object, and its
// does-not-exist precondition finds the object an earlier attempt may have created. A batch is
// known by its request's address together with its content hash: the engine hands every retry
// the same request, while a batch of the same content received again (Claude Code sending the
// same export twice) is another request, and another object. Entries go when the batch is
// written or refused for good; the few a shutdown abandons are forgotten oldest first.
type pending struct {
	mu    sync.Mutex
	max   int
	names map[pendingKey]*list.Element // of pendingEntry
	order *list.List                   // oldest first
}

type pendingKey struct {
	addr    uintptr // of the request's message; not a reference: it keeps nothing alive
	content string
}

type pendingEntry struct {
	key  pendingKey
	name string
}

func newPending(max int) *pending {
	return &pending{max: max, names: make(map[pendingKey]*list.Element), order: list.New()}
}

// name returns the name given to key's batch at its first attempt, or gives it fresh().
func (p *pending) name(key pendingKey, fresh func() string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.names[key]; ok {
		return e.Value.(pendingEntry).name
	}
	if p.order.Len() >= p.max {
		oldest := p.order.Front()
		delete(p.names, oldest.Value.(pendingEntry).key)
		p.order.Remove(oldest)
	}
	n := fresh()
	p.names[key] = p.order.PushBack(pendingEntry{key, n})
	return n
}

// done forgets key's batch: it is written, or will never be.
func (p *pending) done(key pendingKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.names[key]; ok {
		delete(p.names, key)
		p.order.Remove(e)
	}
}
