package admin

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's own metrics, every one of them defined here so that names, help
// texts and label sets stay consistent. Each layer is handed the one *Metrics and updates what it
// owns: ingest the received and refused counts, route the routed and dropped counts, redact the
// redaction counts, the sinks the rest. Labels come from small fixed sets (signal, transport,
// reason, route, sink, detector), never from user data.
type Metrics struct {
	// ReceivedRecords counts records (log records, data points, spans) accepted from clients.
	ReceivedRecords *prometheus.CounterVec // signal, transport
	// RefusedRequests counts export requests answered with an error, by why.
	RefusedRequests *prometheus.CounterVec // transport, reason
	// RefusedRecords counts the records in refused requests that could be decoded.
	RefusedRecords *prometheus.CounterVec // signal, reason
	// RoutedRecords counts records a route selected.
	RoutedRecords *prometheus.CounterVec // route, signal
	// DroppedRecords counts records the gateway let go on purpose or had to let go: by a sink
	// (a full queue evicting, a shutdown, a dead letter that could not be written), or before
	// any sink (sink="": no route, a drop rule, a failed redaction).
	DroppedRecords *prometheus.CounterVec // sink, signal, reason
	// Redactions counts values changed by a redaction profile.
	Redactions *prometheus.CounterVec // profile, detector
	// SentRecords counts records a sink delivered to its destination.
	SentRecords *prometheus.CounterVec // sink, signal
	// FailedRecords counts records a sink gave up on.
	FailedRecords *prometheus.CounterVec // sink, signal
	// SendErrors counts failed delivery attempts (each may be retried).
	SendErrors *prometheus.CounterVec // sink
	// SendDuration observes how long delivery attempts take.
	SendDuration *prometheus.HistogramVec // sink
	// RetriedRecords counts records sent again after a failed attempt.
	RetriedRecords *prometheus.CounterVec // sink, signal
	// DeadLetterRecords counts records written to a sink's dead-letter folder.
	DeadLetterRecords *prometheus.CounterVec // sink, signal
	// RejectedRecords counts records a destination refused in a partial success.
	RejectedRecords *prometheus.CounterVec // sink, signal
	// ReplayedRequests counts export requests a durable queue found undelivered at start, and
	// of those the ones that may have been delivered before a crash (possible duplicates).
	ReplayedRequests *prometheus.CounterVec // sink, kind ("undelivered" | "possible_duplicate")
	// QueueRecords, QueueBytes and QueueCapacityBytes describe each sink's queue: what waits
	// and what is being delivered. For a durable queue the capacity is its disk budget.
	QueueRecords       *prometheus.GaugeVec // sink
	QueueBytes         *prometheus.GaugeVec // sink
	QueueCapacityBytes *prometheus.GaugeVec // sink
	// SpoolBytes is the size on disk of a durable queue's spool.
	SpoolBytes *prometheus.GaugeVec // sink
	// QueueOldestAge is the age of the oldest record a sink has not delivered yet.
	QueueOldestAge *prometheus.GaugeVec // sink
	// ConfigReloadSuccess is 1 when the last configuration load succeeded.
	ConfigReloadSuccess prometheus.Gauge
}

const namespace = "claude_otel_gw"

// NewMetrics creates the gateway's metrics and registers them, with build information and the
// Go and process collectors, on reg. Pass a fresh registry; the global one is never used.
func NewMetrics(reg prometheus.Registerer, version, revision string) *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, labels)
		reg.MustRegister(g)
		return g
	}
	m := &Metrics{
		ReceivedRecords: counter("received_records_total", "Records (log records, metric data points, spans) accepted from clients.", "signal", "transport"),
		RefusedRequests: counter("refused_requests_total", "Export requests refused, by reason.", "transport", "reason"),
		RefusedRecords:  counter("refused_records_total", "Records in refused export requests that could be decoded, by reason.", "signal", "reason"),
		RoutedRecords:   counter("routed_records_total", "Records selected by a route.", "route", "signal"),
		DroppedRecords:  counter("dropped_records_total", "Records dropped, by sink (empty before any sink) and reason.", "sink", "signal", "reason"),
		Redactions:      counter("redactions_total", "Values redacted, by profile and detector.", "profile", "detector"),
		SentRecords:     counter("sent_records_total", "Records delivered by a sink.", "sink", "signal"),
		FailedRecords:   counter("failed_records_total", "Records a sink gave up delivering.", "sink", "signal"),
		SendErrors:      counter("send_errors_total", "Failed delivery attempts.", "sink"),
		SendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "send_duration_seconds", Help: "Duration of delivery attempts.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 30},
		}, []string{"sink"}),
		RetriedRecords:     counter("retried_records_total", "Records sent again after a failed delivery attempt.", "sink", "signal"),
		DeadLetterRecords:  counter("dead_letter_records_total", "Records written to a sink's dead-letter folder.", "sink", "signal"),
		RejectedRecords:    counter("rejected_records_total", "Records a destination refused in a partial success.", "sink", "signal"),
		ReplayedRequests:   counter("replayed_requests_total", "Export requests a durable queue found undelivered at start; kind=possible_duplicate for those that may have been delivered before a crash.", "sink", "kind"),
		QueueRecords:       gauge("queue_records", "Records in a sink's queue, waiting or being delivered.", "sink"),
		QueueBytes:         gauge("queue_bytes", "Bytes in a sink's queue, waiting or being delivered.", "sink"),
		QueueCapacityBytes: gauge("queue_capacity_bytes", "Capacity of a sink's queue in bytes (for a durable queue, its disk budget).", "sink"),
		SpoolBytes:         gauge("spool_bytes", "Size on disk of a durable queue's spool.", "sink"),
		QueueOldestAge:     gauge("queue_oldest_age_seconds", "Age of the oldest record a sink has not delivered yet.", "sink"),
		ConfigReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_successful", Help: "Whether the last configuration load succeeded (1) or failed (0).",
		}),
	}
	reg.MustRegister(m.SendDuration, m.ConfigReloadSuccess)
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info", Help: "Build information; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	})
	build.Set(1)
	reg.MustRegister(build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// NewTestMetrics returns metrics on a registry of their own, for tests and benchmarks.
func NewTestMetrics() *Metrics {
	return NewMetrics(prometheus.NewRegistry(), "test", "")
}
