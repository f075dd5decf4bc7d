// Package cloudtrace is the cloud_trace destination: it writes OTLP spans to Google Cloud
// Trace with the Cloud Trace API v2 (BatchWriteSpans), through Google's own client library.
//
// Each OTLP span becomes one Cloud Trace span named projects/P/traces/T/spans/S, shaped to
// fit what the API takes (span.go, attributes.go): a display name of at most 128 bytes, at
// most 32 attributes (the most useful kept, the rest counted as dropped), string values of at
// most 256 bytes, status, kind, parent, links, and span events as annotations. A span without
// a valid trace or span id cannot be named, so it is not sent: it is counted in the gateway's
// rejected_records_total and logged, a line a minute at most.
//
// Each Write is one attempt: the client library's own retries are turned off, so that the
// delivery engine in front of the writer sees an outage and retries with its own backoff. A
// request larger than one call takes is sent in parts.
//
// It is not for queueing, batching or retrying (the sinks engine does that), nor for logs or
// metrics: a request of either is accepted and ignored.
package cloudtrace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	trace "cloud.google.com/go/trace/apiv2"
	"cloud.google.com/go/trace/apiv2/tracepb"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/api/option"

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

// Options configure a Writer.
type Options struct {
	Name    string      // the sink's name, for logs and metric labels
	Google  gcp.Options // project, credentials, endpoint
	Metrics *admin.Metrics
	Logger  *slog.Logger
}

// Writer writes spans to Cloud Trace. Write may be called from several goroutines at once: the
// client is shared.
type Writer struct {
	name     string
	google   gcp.Options
	clientOp []option.ClientOption
	agent    string
	log      *slog.Logger
	rejected prometheus.Counter // spans that could not be sent; nil counts nothing
	badLog   logevery.Limiter
	// maxRequest is maxRequestBytes; a field so tests can split small requests.
	maxRequest int

	live atomic.Pointer[client] // set by Start

	mu    sync.Mutex // guards the lifecycle
	state lifecycle
}

type lifecycle uint8

const (
	created lifecycle = iota
	running
	closed
)

// client is what Start makes: the library's client and the project it writes to.
type client struct {
	c       *trace.Client
	project string
}

var (
	errNotStarted = errors.New("not started")
	errClosed     = errors.New("closed")
)

// New checks the options, and the credentials file if one is named, and returns a Writer. It
// dials nothing and looks for no credentials: Start does.
func New(o Options) (*Writer, error) {
	if err := checkProject(o.Google.Project); err != nil {
		return nil, fmt.Errorf("cloud_trace sink %q: %w", o.Name, err)
	}
	opts, err := gcp.GRPCClientOptions(o.Google)
	if err != nil {
		return nil, fmt.Errorf("cloud_trace sink %q: %w", o.Name, err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{
		name:     o.Name,
		google:   o.Google,
		clientOp: opts,
		agent:    agentLabel(o.Google.UserAgent),
		log:      log,
		badLog:   logevery.Limiter{Every: time.Minute},

		maxRequest: maxRequestBytes,
	}
	if o.Metrics != nil {
		w.rejected = o.Metrics.RejectedRecords.WithLabelValues(o.Name, telemetry.Traces.String())
	}
	return w, nil
}

// checkProject refuses a project id that would change the meaning of the resource names it is
// written into. The config checks the form of a project id; this is the writer's own guard.
func checkProject(p string) error {
	if strings.ContainsAny(p, "/ \t\r\n") {
		return fmt.Errorf("project %q is not a Google Cloud project id", p)
	}
	return nil
}

// agentLabel is the g.co/agent attribute, which Cloud Trace shows as what sent a span:
// "claude-otel-gw 1.2.3" for the user agent "claude-otel-gw/1.2.3".
func agentLabel(userAgent string) string {
	if userAgent == "" {
		return "claude-otel-gw"
	}
	if name, version, ok := strings.Cut(userAgent, "/"); ok && name != "" && !strings.ContainsAny(version, " /") {
		return name + " " + version
	}
	return userAgent
}

// Start finds the project (from the options, or else from the credentials) and builds the
// client. The connection is made by the first Write.
func (w *Writer) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch w.state {
	case running:
		return errors.New("cloud_trace: already started")
	case closed:
		return fmt.Errorf("cloud_trace: %w", errClosed)
	}
	project := w.google.Project
	if project == "" {
		p, err := gcp.ProjectFromCredentials(ctx, w.google)
		if err != nil {
			return fmt.Errorf("cloud_trace: %w", err)
		}
		if err := checkProject(p); err != nil {
			return fmt.Errorf("cloud_trace: credentials: %w", err)
		}
		project = p
	}
	// The client outlives ctx, which is for starting only.
	c, err := trace.NewClient(context.WithoutCancel(ctx), w.clientOp...)
	if err != nil {
		return fmt.Errorf("cloud_trace: client: %w", err)
	}
	// The library would retry UNAVAILABLE and DEADLINE_EXCEEDED for up to its own 120 s
	// timeout inside one Write, hiding an outage from the delivery engine, whose backoff,
	// attempt timeout and health report are the ones that count. With no call options a
	// call is one attempt, bounded by the engine's context.
	c.CallOptions.BatchWriteSpans = nil
	w.live.Store(&client{c: c, project: project})
	w.state = running
	w.log.Info("cloud_trace sink writing", "sink", w.name, "project", project, "endpoint", endpointForLog(w.google.Endpoint))
	return nil
}

func endpointForLog(e string) string {
	if e == "" {
		return "cloudtrace.googleapis.com:443"
	}
	return e
}

// Limits keeps a batch within one BatchWriteSpans call (see maxRequestBytes). Writes may run
// concurrently.
func (w *Writer) Limits() sinks.Limits { return sinks.Limits{MaxBytes: maxRequestBytes} }

// Write sends the spans of r in one attempt, in parts if one call cannot take them all. If a
// part fails, the error says which, and a retry sends the parts before it again: Cloud Trace
// keeps one span per name, so a span written twice is still one span. Requests of other
// signals are accepted and ignored.
func (w *Writer) Write(ctx context.Context, r telemetry.Request) error {
	if r.Traces == nil {
		return nil
	}
	c := w.live.Load()
	if c == nil {
		w.mu.Lock()
		st := w.state
		w.mu.Unlock()
		if st == closed {
			return fmt.Errorf("cloud_trace: %w", errClosed)
		}
		return fmt.Errorf("cloud_trace: %w", errNotStarted)
	}
	spans, invalid := convert(r.Traces, c.project, w.agent)
	if invalid > 0 {
		w.countInvalid(invalid)
	}
	if len(spans) == 0 {
		return nil
	}
	parts := split(c.project, spans, w.maxRequest)
	for i, part := range parts {
		req := &tracepb.BatchWriteSpansRequest{Name: "projects/" + c.project, Spans: part}
		if err := c.c.BatchWriteSpans(ctx, req); err != nil {
			what := fmt.Sprintf("write %d spans to project %s", len(part), c.project)
			if len(parts) > 1 {
				what = fmt.Sprintf("part %d of %d: %s", i+1, len(parts), what)
			}
			return gcp.Classify(ctx, what, err)
		}
	}
	return nil
}

// countInvalid counts spans that cannot be named and says so in the log, once a minute at most.
func (w *Writer) countInvalid(n int) {
	if w.rejected != nil {
		w.rejected.Add(float64(n))
	}
	if ok, suppressed := w.badLog.Allow(time.Now()); ok {
		w.log.Warn("spans without a valid trace id or span id were not sent to Cloud Trace",
			"sink", w.name, "spans", n, "earlier_warnings_not_logged", suppressed)
	}
}

// Close closes the client. It is safe before Start and safe twice.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state == closed {
		return nil
	}
	w.state = closed
	c := w.live.Swap(nil)
	if c == nil {
		return nil
	}
	if err := c.c.Close(); err != nil {
		return fmt.Errorf("cloud_trace: close: %w", err)
	}
	return nil
}
