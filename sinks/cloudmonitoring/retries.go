package cloudmonitoring

import (
	"crypto/sha256"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/protobuf/proto"
)

// maxRemembered bounds the requests whose partly written attempts are remembered. The engine
// retries one batch until it is delivered or given up before it takes the next (the writer is
// Serial), so one would do; a few more cover batches given up on (their entries are never
// claimed) without letting them grow.
const maxRemembered = 16

// requestHash identifies a request by its content: the engine's retry of a batch is the same
// request, and a request that comes again after it was fully written is new data (a DELTA
// point sent twice counts twice; nothing in it tells a repeat from new counts).
type requestHash [sha256.Size]byte

func hashRequest(r *colmetricspb.ExportMetricsServiceRequest) (requestHash, bool) {
	enc, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	if err != nil {
		return requestHash{}, false
	}
	return sha256.Sum256(enc), true
}

// retryMemory remembers, for each request whose last attempt failed after writing part of it,
// the series written for it. A retry folds the request's points into the other series only:
// the written ones hold its points already, and DELTA points folded twice would count twice.
type retryMemory struct {
	order []requestHash
	done  map[requestHash]map[string]struct{}
}

func (m *retryMemory) len() int { return len(m.done) }

// get returns the series written by earlier attempts for the request with hash h, nil if none.
func (m *retryMemory) get(h requestHash) map[string]struct{} { return m.done[h] }

// put remembers the series written so far for the request with hash h, forgetting the oldest
// request beyond maxRemembered.
func (m *retryMemory) put(h requestHash, series map[string]struct{}) {
	if m.done == nil {
		m.done = map[requestHash]map[string]struct{}{}
	}
	if _, ok := m.done[h]; !ok {
		m.order = append(m.order, h)
		if len(m.order) > maxRemembered {
			delete(m.done, m.order[0])
			m.order = m.order[1:]
		}
	}
	m.done[h] = series
}

// forget drops what is remembered for the request with hash h: it was written in full, or
// refused for good.
func (m *retryMemory) forget(h requestHash) {
	if _, ok := m.done[h]; !ok {
		return
	}
	delete(m.done, h)
	for i, x := range m.order {
		if x == h {
			m.order = append(m.order[:i], m.order[i+1:]...)
			break
		}
	}
}
