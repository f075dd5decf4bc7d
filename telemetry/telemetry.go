// Package telemetry holds the few types every layer of the gateway shares: the signal kinds and
// the OTLP export request that flows from ingest through routing and redaction to the sinks.
//
// The in-memory form is the OTLP protobuf request types themselves; there is no conversion
// layer. A Request is read-only once ingest hands it on: whoever wants to change it (a filter,
// a redaction) builds its own copy and leaves the original as it was, so one request can be
// shared by many routes and sinks without locks.
//
// It is not for behaviour: no routing, no encoding, no delivery.
package telemetry

import (
	"fmt"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"
)

// Signal is one of the three OTLP signals.
type Signal uint8

// The signals, in the order the gateway lists them.
const (
	Logs Signal = iota + 1
	Metrics
	Traces
)

// Signals lists every signal.
var Signals = []Signal{Logs, Metrics, Traces}

// String returns the signal's name as written in configs, paths and metric labels.
func (s Signal) String() string {
	switch s {
	case Logs:
		return "logs"
	case Metrics:
		return "metrics"
	case Traces:
		return "traces"
	}
	return fmt.Sprintf("signal(%d)", uint8(s))
}

// ParseSignal turns "logs", "metrics" or "traces" into a Signal.
func ParseSignal(s string) (Signal, bool) {
	switch s {
	case "logs":
		return Logs, true
	case "metrics":
		return Metrics, true
	case "traces":
		return Traces, true
	}
	return 0, false
}

// Request is one OTLP export request. Exactly one of its fields is set. It is a small value
// (three pointers) and is passed by value; the messages it points to are shared and must not be
// modified by anyone who receives it.
type Request struct {
	Logs    *collogspb.ExportLogsServiceRequest
	Metrics *colmetricspb.ExportMetricsServiceRequest
	Traces  *coltracepb.ExportTraceServiceRequest
}

// Signal reports which signal the request carries (0 for an empty Request).
func (r Request) Signal() Signal {
	switch {
	case r.Logs != nil:
		return Logs
	case r.Metrics != nil:
		return Metrics
	case r.Traces != nil:
		return Traces
	}
	return 0
}

// Message returns the request as a protobuf message (nil for an empty Request).
func (r Request) Message() proto.Message {
	switch {
	case r.Logs != nil:
		return r.Logs
	case r.Metrics != nil:
		return r.Metrics
	case r.Traces != nil:
		return r.Traces
	}
	return nil
}

// NewRequest wraps an export request message of any signal. It panics on any other message type:
// that is a programming error, not bad input.
func NewRequest(m proto.Message) Request {
	switch m := m.(type) {
	case *collogspb.ExportLogsServiceRequest:
		return Request{Logs: m}
	case *colmetricspb.ExportMetricsServiceRequest:
		return Request{Metrics: m}
	case *coltracepb.ExportTraceServiceRequest:
		return Request{Traces: m}
	}
	panic(fmt.Sprintf("telemetry: %T is not an OTLP export request", m))
}

// Empty returns a new, empty export request of the given signal.
func Empty(s Signal) Request {
	switch s {
	case Logs:
		return Request{Logs: &collogspb.ExportLogsServiceRequest{}}
	case Metrics:
		return Request{Metrics: &colmetricspb.ExportMetricsServiceRequest{}}
	case Traces:
		return Request{Traces: &coltracepb.ExportTraceServiceRequest{}}
	}
	panic(fmt.Sprintf("telemetry: no such signal %d", s))
}

// Records counts what the gateway calls records: log records, metric data points, spans.
func (r Request) Records() int {
	n := 0
	switch {
	case r.Logs != nil:
		for _, rl := range r.Logs.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				n += len(sl.LogRecords)
			}
		}
	case r.Metrics != nil:
		for _, rm := range r.Metrics.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					n += DataPoints(m)
				}
			}
		}
	case r.Traces != nil:
		for _, rs := range r.Traces.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				n += len(ss.Spans)
			}
		}
	}
	return n
}

// DataPoints counts the data points of one metric, whatever its type.
func DataPoints(m *metricspb.Metric) int {
	switch d := m.Data.(type) {
	case *metricspb.Metric_Gauge:
		return len(d.Gauge.GetDataPoints())
	case *metricspb.Metric_Sum:
		return len(d.Sum.GetDataPoints())
	case *metricspb.Metric_Histogram:
		return len(d.Histogram.GetDataPoints())
	case *metricspb.Metric_ExponentialHistogram:
		return len(d.ExponentialHistogram.GetDataPoints())
	case *metricspb.Metric_Summary:
		return len(d.Summary.GetDataPoints())
	}
	return 0
}

// ThrottledError tells a client the gateway cannot take its data now and that it should send it
// again after RetryAfter. Ingest answers it with RESOURCE_EXHAUSTED and RetryInfo over gRPC and
// 429 with Retry-After over HTTP.
type ThrottledError struct {
	Sink       string        // the sink that had no room
	Reason     string        // what was exhausted, e.g. "queue full"
	RetryAfter time.Duration // a hint for the client
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("sink %q cannot take more data now (%s); retry after %s", e.Sink, e.Reason, e.RetryAfter)
}

// Merge concatenates requests of one signal into one request, in order: what decoding their
// encodings concatenated would give. The result shares the requests' resource entries (they are
// read-only, like every request). One request is returned as it is; none gives an empty Request.
func Merge(rs []Request) Request {
	switch len(rs) {
	case 0:
		return Request{}
	case 1:
		return rs[0]
	}
	out := Empty(rs[0].Signal())
	for _, r := range rs {
		switch {
		case out.Logs != nil:
			out.Logs.ResourceLogs = append(out.Logs.ResourceLogs, r.Logs.GetResourceLogs()...)
		case out.Metrics != nil:
			out.Metrics.ResourceMetrics = append(out.Metrics.ResourceMetrics, r.Metrics.GetResourceMetrics()...)
		default:
			out.Traces.ResourceSpans = append(out.Traces.ResourceSpans, r.Traces.GetResourceSpans()...)
		}
	}
	return out
}
