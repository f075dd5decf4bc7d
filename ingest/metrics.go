package ingest

import (
	"claude-otel-gw/admin"
	"claude-otel-gw/telemetry"

	"github.com/prometheus/client_golang/prometheus"
)

// transport is how a request arrived, as written in the metrics' transport label.
type transport uint8

const (
	transportGRPC transport = iota
	transportHTTP
	numTransports
)

func (t transport) String() string {
	if t == transportGRPC {
		return "grpc"
	}
	return "http"
}

// counters are ingest's admin.Metrics children, resolved once so that counting a request costs
// an atomic add, not a label lookup. Resolving them up front also makes every series visible at
// zero from the start, which is what an alert on "refusals went up" needs.
type counters struct {
	received        [telemetry.Traces + 1][numTransports]prometheus.Counter
	refusedRequests [numTransports][numReasons]prometheus.Counter
	refusedRecords  [telemetry.Traces + 1][numReasons]prometheus.Counter // retryable reasons only
}

func newCounters(m *admin.Metrics) *counters {
	c := &counters{}
	for t := range numTransports {
		for _, s := range telemetry.Signals {
			c.received[s][t] = m.ReceivedRecords.WithLabelValues(s.String(), t.String())
		}
		for r := range numReasons {
			c.refusedRequests[t][r] = m.RefusedRequests.WithLabelValues(t.String(), r.String())
		}
	}
	for _, s := range telemetry.Signals {
		for r := range numReasons {
			if r.retryable() {
				c.refusedRecords[s][r] = m.RefusedRecords.WithLabelValues(s.String(), r.String())
			}
		}
	}
	return c
}
