package promsink

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"
)

// collector exposes the Writer's state as constant metrics at each scrape. It is unchecked (it
// describes nothing up front) because its families come and go with the data, and within a
// family the labels present differ from series to series.
type collector struct{ w *Writer }

var _ prometheus.Collector = collector{}

func (collector) Describe(chan<- *prometheus.Desc) {}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.w.snapshot() {
		ch <- m
	}
}

// snapshot builds one constant metric per series, under the lock, so that a scrape sees the
// state between two Writes and never holds the lock while the registry consumes it.
func (w *Writer) snapshot() []prometheus.Metric {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]prometheus.Metric, 0, w.state.nSeries)
	for _, f := range w.state.families {
		for _, s := range f.series {
			var m prometheus.Metric
			var err error
			switch f.kind {
			case kindCounter:
				// The created timestamp lets a Prometheus that ingests it count the first
				// increase of a series that appears with a value already.
				m, err = prometheus.NewConstMetricWithCreatedTimestamp(s.desc, prometheus.CounterValue, s.value, s.created, s.values...)
			case kindGauge:
				m, err = prometheus.NewConstMetric(s.desc, prometheus.GaugeValue, s.value, s.values...)
			case kindHistogram:
				// Only the +Inf bucket: the count and sum are exact, the bucket bounds are not
				// kept (see the package comment).
				n := uint64(s.count)
				m, err = prometheus.NewConstHistogramWithCreatedTimestamp(s.desc, n, s.value,
					map[float64]uint64{math.Inf(1): n}, s.created, s.values...)
			}
			if err != nil {
				m = prometheus.NewInvalidMetric(s.desc, err)
			}
			out = append(out, m)
		}
	}
	return out
}
