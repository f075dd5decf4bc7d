// Package cloudmonitoring is the cloud_monitoring destination: it writes Claude Code's metrics
// to Google Cloud Monitoring as user-defined metrics (workload.googleapis.com/ or
// custom.googleapis.com/) with CreateTimeSeries, through Google's own client library.
//
// Cloud Monitoring refuses DELTA points for these metrics, and Claude Code sends DELTA sums by
// default, so the writer keeps state. Each written series (a metric type and a label set, on
// the sink's monitored resource) is the sum over the source series the sender sent (before
// labels were dropped): the running total of every DELTA source, plus the latest value of
// every CUMULATIVE source. What is written:
//
//   - Monotonic sums: CUMULATIVE, INT64 when the metric's first points are integers, DOUBLE
//     otherwise (Claude Code's are doubles), with a start time that stays put: the earliest
//     start among the points of the series' first write, but not before the writer started.
//     When a cumulative source restarts (a new start time, or a lower value) what it had
//     counted stays in the total, so a written value never goes down and its start never has
//     to move. A cumulative point not newer than its source's latest is ignored: a client's
//     retry or a replay does not count twice. A DELTA point carries nothing that tells a
//     repeat from new counts and is added each time it is written (the delivery engine writes
//     each once, short of a crash).
//   - Non-monotonic sums: GAUGE of the same total (cumulative sources contributing their
//     latest value, which a restart replaces). Gauges: GAUGE of the sum of the sources'
//     latest values.
//   - Explicit-bucket histograms: CUMULATIVE DISTRIBUTION, DELTA points accumulated into bucket
//     counts, count and sum; the mean is computed, the sum of squared deviations is 0 (not in
//     OpenTelemetry's data). Points whose bounds differ from the series' first are dropped
//     (counted).
//   - Exponential histograms and summaries are not written: counted in DroppedRecords
//     {reason="unsupported"}. Claude Code sends neither; an exponential histogram would map to
//     Cloud Monitoring's exponential buckets only for positive values and one scale, while
//     OpenTelemetry's rescale from point to point, so accumulating their DELTA points would need
//     re-bucketing that loses what the type is for.
//
// Metric types are the prefix, then each dot-separated segment of the name sanitised to
// [a-z][a-z0-9_]*, joined with '/' (see metricType). Labels are the data point's attributes
// and then the resource's (service.name always, when present), their keys sanitised the same
// way (user.id is user_id), at most 30: the excess is left out, which merges series, and
// logged once a minute at most. DropLabels (session.id by default) are left out on purpose,
// before aggregation: series differing only in them are summed.
//
// Cloud Monitoring takes one point per series per request, 200 series per request, and one
// point per series every 5 seconds (measured between end times). Writes are Serial: a Write
// folds its request into copies of the series it touches, writes those that may be written
// now in requests of at most 200, waits for the others (or, when the attempt's deadline would
// come first, ends the attempt asking the engine to retry when they may be written), and
// commits each series once a request holding it succeeds. When a request fails, what was folded into
// the series it held is discarded; the engine's retry of the same request folds it again into
// those series only (the others are remembered by the request's content as written). A point's
// end time is the latest point time folded in, pushed forward to at least the sampling period
// after the series' previous point.
//
// Per-series refusals (INVALID_ARGUMENT in a CreateTimeSeriesSummary) are for good: counted in
// RejectedRecords and logged; the series' totals keep what was folded in. Other per-series
// failures fail the attempt, which the engine retries. Everything else is classified by
// gcp.Classify. The client library neither retries CreateTimeSeries nor times it out on its
// own: its defaults for the method (no retries, a 12 s timeout when the context has no
// deadline) are cleared, so the engine's retries and per-attempt deadline are the only ones.
//
// State lives in memory: a restarted gateway starts its totals again, after a wait of one
// sampling period, with start times after everything the previous run wrote, which Cloud
// Monitoring takes as a reset. A cumulative source quiet for 15 minutes is forgotten, its
// count kept. At most 20000 series are kept; points of further series are dropped and counted.
//
// It is not for logs or traces (a Write of either is accepted and ignored), not for the
// gateway's own metrics, and not for creating metric descriptors: Cloud Monitoring creates
// them on the first write.
package cloudmonitoring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/monitoredres"

	"claude-otel-gw/admin"
	"claude-otel-gw/internal/logevery"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

var (
	_ sinks.Writer  = (*Writer)(nil)
	_ sinks.Limiter = (*Writer)(nil)
	_ sinks.Starter = (*Writer)(nil)
)

// The metric type prefixes a sink may write under.
const (
	WorkloadPrefix = "workload.googleapis.com/"
	CustomPrefix   = "custom.googleapis.com/"
)

// DefaultMinInterval is Cloud Monitoring's sampling period for user-defined metrics.
const DefaultMinInterval = 5 * time.Second

// defaultDropLabels are left out when Options.DropLabels is nil: a session id makes a series
// per session, and with it a descriptor full of one-point series.
var defaultDropLabels = []string{"session.id"}

// Options configure a Writer.
type Options struct {
	Name         string        // the sink's name, for logs and the gateway's metrics
	Google       gcp.Options   // project, credentials, endpoint
	MetricPrefix string        // WorkloadPrefix ("" means it) or CustomPrefix
	DropLabels   []string      // attribute keys left out before aggregation; nil: session.id; empty: none
	Resource     gcp.Resource  // the monitored resource every series is written against
	MinInterval  time.Duration // no series written more often; 0: DefaultMinInterval
	// Metrics are the gateway's own metrics: points refused by Cloud Monitoring count in
	// RejectedRecords, points not written in DroppedRecords by reason. Nil counts nothing.
	Metrics *admin.Metrics
	Logger  *slog.Logger // nil discards
}

// Writer writes metrics to Cloud Monitoring. Write must not be called concurrently (Limits
// says Serial); Close waits for a Write in progress.
type Writer struct {
	name        string
	google      gcp.Options
	clientOpts  []option.ClientOption
	prefix      string
	minInterval time.Duration
	res         gcp.Resource
	log         *slog.Logger

	rejected prometheus.Counter
	dropped  [numReasons]prometheus.Counter
	logs     [numLogs]logevery.Limiter

	mu        sync.Mutex // guards everything below, held through a Write
	client    *monitoring.MetricClient
	closed    bool
	project   string
	resource  *monitoredres.MonitoredResource
	started   time.Time
	startedNs uint64

	labels     *labeler
	byName     map[metricID]*metricInfo
	byType     map[string]*metricInfo
	series     map[string]*series // committed: as last written
	retries    retryMemory
	lastExpire time.Time
}

// The rate-limited log lines, one limiter each.
const (
	logRefused = iota
	logExcessLabels
	logDropped // + reason
	numLogs    = logDropped + int(numReasons)
)

// New checks the options, including the credentials file, and prepares the writer. It dials
// nothing and looks up no credentials: Start does.
func New(o Options) (*Writer, error) {
	w, err := newWriter(o)
	if err != nil {
		return nil, fmt.Errorf("cloud_monitoring sink %q: %w", o.Name, err)
	}
	return w, nil
}

func newWriter(o Options) (*Writer, error) {
	switch o.MetricPrefix {
	case "":
		o.MetricPrefix = WorkloadPrefix
	case WorkloadPrefix, CustomPrefix:
	default:
		return nil, fmt.Errorf("metric prefix %q: want %s or %s", o.MetricPrefix, WorkloadPrefix, CustomPrefix)
	}
	switch {
	case o.MinInterval < 0:
		return nil, fmt.Errorf("minimum write interval %s is negative", o.MinInterval)
	case o.MinInterval == 0:
		o.MinInterval = DefaultMinInterval
	}
	switch o.Resource.Type {
	case "", "generic_node", "global":
	default:
		return nil, fmt.Errorf("resource type %q: want generic_node or global", o.Resource.Type)
	}
	if o.DropLabels == nil {
		o.DropLabels = defaultDropLabels
	}
	for _, k := range o.DropLabels {
		if k == "" {
			return nil, errors.New("drop_labels: an empty attribute key")
		}
	}
	copts, err := gcp.GRPCClientOptions(o.Google)
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = admin.NewMetrics(prometheus.NewRegistry(), "", "")
	}
	w := &Writer{
		name:        o.Name,
		google:      o.Google,
		clientOpts:  copts,
		prefix:      o.MetricPrefix,
		minInterval: o.MinInterval,
		res:         o.Resource,
		log:         o.Logger,
		rejected:    o.Metrics.RejectedRecords.WithLabelValues(o.Name, telemetry.Metrics.String()),
		labels:      newLabeler(o.DropLabels),
		byName:      map[metricID]*metricInfo{},
		byType:      map[string]*metricInfo{},
		series:      map[string]*series{},
	}
	for r := range numReasons {
		w.dropped[r] = o.Metrics.DroppedRecords.WithLabelValues(o.Name, telemetry.Metrics.String(), reasonNames[r])
	}
	for i := range w.logs {
		w.logs[i].Every = time.Minute
	}
	return w, nil
}

var (
	errNotStarted = errors.New("cloud_monitoring sink: not started")
	errClosed     = errors.New("cloud_monitoring sink: closed")
)

// Start finds the project (from the options, or else from the credentials) and builds the
// client. The connection is made by the first Write.
func (w *Writer) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return errClosed
	case w.client != nil:
		return errors.New("cloud_monitoring sink: already started")
	}
	project := w.google.Project
	if project == "" {
		p, err := gcp.ProjectFromCredentials(ctx, w.google)
		if err != nil {
			return err
		}
		project = p
	}
	c, err := monitoring.NewMetricClient(ctx, w.clientOpts...)
	if err != nil {
		return fmt.Errorf("cloud monitoring client: %w", err)
	}
	// No library retries and no library timeout: the engine retries, and bounds each attempt
	// with its context.
	c.CallOptions.CreateTimeSeries = nil
	w.client = c
	w.project = project
	w.resource = w.res.Proto(project)
	w.started = time.Now()
	w.startedNs = uint64(w.started.UnixNano())
	w.lastExpire = w.started
	w.log.Info("cloud_monitoring sink started", "project", project, "metric_prefix", w.prefix,
		"resource", w.resource.GetType(), "min_interval", w.minInterval)
	return nil
}

// Limits asks for Serial writes: the running totals need batches one at a time, in order. A
// batch of any size is cut into requests of at most 200 series by the writer.
func (w *Writer) Limits() sinks.Limits { return sinks.Limits{Serial: true} }

// Write folds a metrics request into the series and writes the series it changed, waiting
// (within ctx) for those written less than the minimum interval ago. Logs and traces are not
// this sink's business: accepted as they are.
func (w *Writer) Write(ctx context.Context, r telemetry.Request) error {
	if r.Metrics == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return errClosed
	case w.client == nil:
		return errNotStarted
	}
	now := time.Now()
	w.expire(now)
	var h requestHash
	hashed := false
	var skip map[string]struct{}
	if w.retries.len() > 0 {
		// Hashing costs a marshal of the request: only worth it when an attempt is pending.
		h, hashed = hashRequest(r.Metrics)
		skip = w.retries.get(h)
	}
	b := w.fold(r.Metrics, skip, now)
	w.report(&b.tally, now)
	done := maps.Clone(skip)
	if done == nil {
		done = map[string]struct{}{}
	}
	err := w.send(ctx, b, done)
	switch {
	case err == nil || sinks.IsPermanent(err):
		if hashed {
			w.retries.forget(h)
		}
	case len(done) > 0:
		if !hashed {
			h, hashed = hashRequest(r.Metrics)
		}
		if hashed {
			w.retries.put(h, done)
		}
	}
	return err
}

// expire forgets quiet sources, once a minute at most.
func (w *Writer) expire(now time.Time) {
	if now.Sub(w.lastExpire) < time.Minute {
		return
	}
	w.lastExpire = now
	cutoff := now.Add(-sourceIdle)
	for _, s := range w.series {
		s.expire(cutoff)
	}
}

// report counts and logs, a line a minute at most per reason, what a Write did not write.
func (w *Writer) report(t *tally, now time.Time) {
	for r, n := range t.points {
		if n == 0 {
			continue
		}
		w.dropped[r].Add(float64(n))
		ok, suppressed := w.logs[logDropped+r].Allow(now)
		if !ok {
			continue
		}
		attrs := []any{"points", n, "metric", t.metric[r], "earlier_not_logged", suppressed}
		switch reason(r) {
		case reasonUnsupported:
			w.log.Debug("cloud_monitoring sink: metric type not written (exponential histogram or summary)", attrs...)
		case reasonInvalid:
			w.log.Warn("cloud_monitoring sink: invalid data points not written (no value or temporality, NaN, a monotonic sum going down, malformed buckets, or no usable name)", attrs...)
		case reasonConflict:
			w.log.Warn("cloud_monitoring sink: data points not written: their metric type is written as another kind, or their histogram bounds changed", attrs...)
		case reasonSeriesLimit:
			w.log.Warn("cloud_monitoring sink: series limit reached; new series are not written", append(attrs, "max_series", maxSeries)...)
		}
	}
	if l := w.labels; l.excess > 0 {
		if ok, suppressed := w.logs[logExcessLabels].Allow(now); ok {
			w.log.Warn("cloud_monitoring sink: data points with more than 30 labels; the excess is left out and their series merged",
				"points", l.excess, "metric", l.excessOf, "earlier_not_logged", suppressed)
			l.excess = 0
		}
	}
}

// Close closes the client. Further Writes fail; it is safe to call twice.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.client == nil {
		return nil
	}
	if err := w.client.Close(); err != nil {
		return fmt.Errorf("cloud_monitoring sink %q: closing the client: %w", w.name, err)
	}
	return nil
}
