// Package promsink is the prometheus destination: it keeps the usage metrics Claude Code sends
// (cost, tokens, sessions, lines of code, commits, pull requests, edit decisions, active time)
// as Prometheus metrics and serves them at /metrics on a listener of its own, for teams that
// scrape Prometheus rather than receive OTLP.
//
// What is exported:
//
//   - Monotonic sums become counters. DELTA points (Claude Code's default) are added to running
//     totals. CUMULATIVE points are passed through: each source series contributes its latest
//     value, and when a source restarts (a new start time, or a lower value) what it had
//     counted stays in the total, so an exported counter never goes down while the gateway runs.
//     DELTA points carry nothing to tell a repeated delivery from a new one: a request written
//     twice counts twice (the delivery engine writes each once, short of a crash).
//   - Gauges become gauges holding the latest point. Non-monotonic sums become gauges too:
//     DELTA points are added up, CUMULATIVE sources contribute their latest value.
//   - Explicit-bucket histograms become histograms with only their count and sum (a single
//     +Inf bucket); bucket bounds are not kept. Exponential histograms and summaries are not
//     exported (counted as rejected and logged at debug level).
//
// Names follow the OpenTelemetry Collector's translation: claude_code.cost.usage in USD is
// claude_code_cost_usage_USD_total. The allow-listed attribute keys (looked up on the data
// point, then on the resource) become labels, sanitised (user.id is user_id); a missing
// attribute is an absent label; tool_name also takes the tool attribute older Claude Code
// versions sent. Every other attribute (session.id, for one) is summed away: the series is the
// sum over the sources it merges.
//
// Memory is bounded by MaxSeries: beyond it no series (and no cumulative source) is created,
// and the points that would need one are counted as rejected and logged, at most once a minute.
// A cumulative source quiet for 15 minutes (its process has ended) makes room for a new one.
// State lives in memory only: a restart of the gateway restarts every counter, which Prometheus
// handles as a counter reset.
//
// It is not for the gateway's own metrics (the admin listener serves those) and not a general
// OTLP-to-Prometheus bridge: no exemplars, no native histograms, no expiry of idle series.
package promsink

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"claude-otel-gw/admin"
	"claude-otel-gw/internal/logevery"
	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
)

var (
	_ sinks.Writer  = (*Writer)(nil)
	_ sinks.Limiter = (*Writer)(nil)
	_ sinks.Starter = (*Writer)(nil)
)

// DefaultMaxSeries is the cardinality cap when Options.MaxSeries is 0.
const DefaultMaxSeries = 10000

// Options configure a Writer.
type Options struct {
	Name   string   // the sink's name, for logs and the gateway's metrics
	Listen string   // host:port to serve /metrics on
	Labels []string // attribute keys kept as labels: looked up on the data point, then on the resource
	// Metrics are the gateway's own metrics; points not exported count in RejectedRecords.
	// Nil counts nothing.
	Metrics   *admin.Metrics
	Logger    *slog.Logger     // nil discards; the caller adds the sink's name to it
	MaxSeries int              // cardinality cap on series (and on tracked cumulative sources); 0: DefaultMaxSeries
	Now       func() time.Time // for tests; nil: time.Now
}

// Writer keeps the metrics it is given and serves them. Write and the scrapes may run
// concurrently; Limits asks the delivery engine for one Write at a time, in queue order, which
// the cumulative pass-through needs.
type Writer struct {
	o   Options
	log *slog.Logger
	reg *prometheus.Registry

	mu    sync.Mutex // guards state
	state *store

	rejected prometheus.Counter // nil without Options.Metrics
	logs     [numReasons]logevery.Limiter

	life   sync.Mutex // guards the listener's lifecycle
	ln     net.Listener
	srv    *http.Server
	served chan struct{} // closed when the server goroutine is done
	closed bool
}

// New checks the options and prepares the state. It binds nothing: Start does.
func New(o Options) (*Writer, error) {
	if o.Listen == "" {
		return nil, fmt.Errorf("prometheus sink %q: no listen address", o.Name)
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return nil, fmt.Errorf("prometheus sink %q: listen address: %w", o.Name, err)
	}
	switch {
	case o.MaxSeries < 0:
		return nil, fmt.Errorf("prometheus sink %q: max series must not be negative (%d)", o.Name, o.MaxSeries)
	case o.MaxSeries == 0:
		o.MaxSeries = DefaultMaxSeries
	}
	labels, err := labelSet(o.Labels)
	if err != nil {
		return nil, fmt.Errorf("prometheus sink %q: %w", o.Name, err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	w := &Writer{
		o:     o,
		log:   o.Logger,
		reg:   prometheus.NewRegistry(),
		state: newStore(labels, o.MaxSeries),
	}
	for i := range w.logs {
		w.logs[i].Every = time.Minute
	}
	if o.Metrics != nil {
		w.rejected = o.Metrics.RejectedRecords.WithLabelValues(o.Name, telemetry.Metrics.String())
	}
	w.reg.MustRegister(collector{w})
	return w, nil
}

// maxLabels is how many labels fit the mask that tells which are present on a series.
const maxLabels = 64

// labelSet turns the allow-listed attribute keys into labels, refusing two keys that would
// become one label.
func labelSet(keys []string) ([]label, error) {
	if len(keys) > maxLabels {
		return nil, fmt.Errorf("%d labels asked for; at most %d", len(keys), maxLabels)
	}
	var out []label
	byName := map[string]string{}
	for _, k := range keys {
		n, err := labelName(k)
		if err != nil {
			return nil, err
		}
		if prev, ok := byName[n]; ok {
			if prev == k {
				return nil, fmt.Errorf("attribute %q is listed twice", k)
			}
			return nil, fmt.Errorf("attributes %q and %q would both become label %q", prev, k, n)
		}
		byName[n] = k
		out = append(out, label{key: k, alias: aliases[k], name: n})
	}
	return out, nil
}

// Limits asks for Serial writes: cumulative points must be applied in the order they were sent.
func (w *Writer) Limits() sinks.Limits { return sinks.Limits{Serial: true} }

// Write folds a metrics request into the exported state; logs and traces are not this sink's
// business and are accepted as they are. It never fails: data points that cannot be exported
// are counted and logged, and sending them again would not change that.
func (w *Writer) Write(_ context.Context, r telemetry.Request) error {
	if r.Metrics == nil {
		return nil
	}
	now := w.o.Now()
	w.mu.Lock()
	t := w.state.apply(r.Metrics, now)
	series := w.state.nSeries
	w.mu.Unlock()
	w.report(&t, series, now)
	return nil
}

// report counts and logs, rate-limited, the points a Write did not export.
func (w *Writer) report(t *tally, series int, now time.Time) {
	for r, n := range t.points {
		if n == 0 {
			continue
		}
		if w.rejected != nil {
			w.rejected.Add(float64(n))
		}
		ok, suppressed := w.logs[r].Allow(now)
		if !ok {
			continue
		}
		attrs := []any{"points", n, "metric", t.metric[r], "suppressed", suppressed}
		switch reason(r) {
		case reasonSeriesLimit:
			w.log.Warn("prometheus sink: series limit reached; new series are not exported",
				append(attrs, "max_series", w.o.MaxSeries, "series", series)...)
		case reasonUnsupported:
			w.log.Debug("prometheus sink: metric type not exported (exponential histogram or summary)", attrs...)
		case reasonInvalid:
			w.log.Warn("prometheus sink: invalid data points not exported (no name, value or temporality, NaN, or a negative counter value)", attrs...)
		case reasonConflict:
			w.log.Warn("prometheus sink: metric name taken by a metric of another type; not exported", attrs...)
		}
	}
}
