package sinks

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"claude-otel-gw/admin"
	"claude-otel-gw/telemetry"
)

// perSignal is one series per signal, indexed by telemetry.Signal.
type perSignal [telemetry.Traces + 1]prometheus.Counter

// sinkMetrics are the sink's series, resolved once so the hot path does no label lookups.
type sinkMetrics struct {
	queueRecords, queueBytes, spoolBytes, oldestAge prometheus.Gauge

	sendErrors   prometheus.Counter
	sendDuration prometheus.Observer

	sent, failed, retried, deadLettered         perSignal
	droppedFull, droppedStop, droppedDeadLetter perSignal
	droppedCorrupt                              prometheus.Counter
	replayed, duplicates                        prometheus.Counter
}

func newSinkMetrics(m *admin.Metrics, name string, capacity int64) sinkMetrics {
	sm := sinkMetrics{
		queueRecords:   m.QueueRecords.WithLabelValues(name),
		queueBytes:     m.QueueBytes.WithLabelValues(name),
		spoolBytes:     m.SpoolBytes.WithLabelValues(name),
		oldestAge:      m.QueueOldestAge.WithLabelValues(name),
		sendErrors:     m.SendErrors.WithLabelValues(name),
		sendDuration:   m.SendDuration.WithLabelValues(name),
		droppedCorrupt: m.DroppedRecords.WithLabelValues(name, "unknown", "spool_corrupt"),
		replayed:       m.ReplayedRequests.WithLabelValues(name, "undelivered"),
		duplicates:     m.ReplayedRequests.WithLabelValues(name, "possible_duplicate"),
	}
	m.QueueCapacityBytes.WithLabelValues(name).Set(float64(capacity))
	for _, sig := range telemetry.Signals {
		sm.sent[sig] = m.SentRecords.WithLabelValues(name, sig.String())
		sm.failed[sig] = m.FailedRecords.WithLabelValues(name, sig.String())
		sm.retried[sig] = m.RetriedRecords.WithLabelValues(name, sig.String())
		sm.deadLettered[sig] = m.DeadLetterRecords.WithLabelValues(name, sig.String())
		sm.droppedFull[sig] = m.DroppedRecords.WithLabelValues(name, sig.String(), "queue_full")
		sm.droppedStop[sig] = m.DroppedRecords.WithLabelValues(name, sig.String(), "shutdown")
		sm.droppedDeadLetter[sig] = m.DroppedRecords.WithLabelValues(name, sig.String(), "dead_letter_failed")
	}
	return sm
}

// refreshQueue sets the queue's length and size gauges from the queue itself, so they are
// right whatever order puts and deliveries finish in.
func (s *Sink) refreshQueue() {
	switch {
	case s.mem != nil:
		records, bytes, _ := s.mem.stats()
		s.m.queueRecords.Set(float64(records))
		s.m.queueBytes.Set(float64(bytes))
	case s.disk != nil:
		records, bytes, disk := s.disk.sizes()
		s.m.queueRecords.Set(float64(records))
		s.m.queueBytes.Set(float64(bytes))
		s.m.spoolBytes.Set(float64(disk))
	}
}

// refreshNow sets every gauge, the oldest age included.
func (s *Sink) refreshNow() {
	s.refreshQueue()
	var oldest time.Time
	switch {
	case s.mem != nil:
		_, _, oldest = s.mem.stats()
	case s.disk != nil:
		oldest = s.disk.oldest()
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(time.Since(oldest).Seconds(), 0)
	}
	s.m.oldestAge.Set(age)
}

// refreshGauges keeps the gauges that change with time alone (the oldest age) current.
func (s *Sink) refreshGauges(ctx context.Context) {
	t := time.NewTicker(gaugeEvery)
	defer t.Stop()
	for {
		s.refreshNow()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
