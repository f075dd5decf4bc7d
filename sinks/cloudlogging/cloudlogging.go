// Package cloudlogging is the cloud_logging destination: it writes each OTLP log record as one
// Cloud Logging entry, through the synchronous WriteLogEntries call of Google's client library
// (cloud.google.com/go/logging/apiv2), so that the delivery engine sees every failure and owns
// the retries.
//
// An entry carries the record's time, its severity mapped onto Cloud Logging's, a jsonPayload
// with the body and the attributes (nested values kept as nested JSON), the resource and scope,
// a few configured attributes as labels, and the trace and span it belongs to. Its insertId is
// derived from the record, so a request written again after a failure does not duplicate the
// entries that got through the first time.
//
// Each Write is one attempt: the library's own retries are turned off. A request is split into
// calls within the API's limits (1000 entries, 10 MB); an entry too large for the API is
// truncated to fit and says so, rather than refused forever. Entries Cloud Logging refuses in a
// partial success are counted and logged, and the rest are written.
//
// It is not for queueing, batching, retrying or redacting: the sinks engine and the redaction
// layer in front of it do that. It takes logs only; metrics and traces go to their own sinks.
package cloudlogging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	logging "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	"github.com/googleapis/gax-go/v2"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/monitoredres"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
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

// DefaultLogName is the log entries are written to when Options.LogName is empty.
const DefaultLogName = "claude_code"

// The API's limits, and what the writer keeps to below them.
const (
	// maxEntries is the most entries one WriteLogEntries call takes.
	maxEntries = 1000
	// maxRequestBytes caps a call's serialized size: Cloud Logging takes 10 MB, and the
	// margin is for what the library and the transport add around the entries.
	maxRequestBytes = 9 << 20
	// maxEntryBytes caps one entry as Cloud Logging measures it (with the log name and
	// resource it is stored with): the API refuses an entry over 256 KiB.
	maxEntryBytes = 250_000
	// maxLogIDLen is the longest log id Cloud Logging takes, before URL-encoding.
	maxLogIDLen = 512
)

// logEvery bounds how often refused and truncated entries are logged.
const logEvery = time.Minute

// Options configure a Writer.
type Options struct {
	Name   string      // the sink's name, for logs and metric labels
	Google gcp.Options // project, credentials, endpoint
	// LogName is the log id: entries go to projects/<project>/logs/<LogName>, URL-escaped
	// (a '/' in it becomes %2F). Default "claude_code".
	LogName string
	// Labels are attribute keys (looked up on the record, then on its resource) whose values
	// become entry labels; a value that is not a string is formatted.
	Labels []string
	// Resource is the monitored resource entries are written against: "generic_node" (node
	// id "" is the host name) or "global".
	Resource gcp.Resource
	Metrics  *admin.Metrics // RejectedRecords{sink,"logs"} for entries refused in a partial success
	Logger   *slog.Logger
}

// Writer writes log records to Cloud Logging. It is safe for concurrent use once started.
type Writer struct {
	name       string
	google     gcp.Options
	logID      string // URL-escaped
	labels     []string
	resource   gcp.Resource
	clientOpts []option.ClientOption
	log        *slog.Logger
	rejected   prometheus.Counter

	rejectLog   logevery.Limiter
	truncateLog logevery.Limiter
	truncated   atomic.Int64 // entries truncated since the last log line about it

	target atomic.Pointer[target] // set by Start

	mu     sync.Mutex // Start and Close
	closed bool
}

// target is where a started Writer writes.
type target struct {
	client   *logging.Client
	project  string
	logName  string
	resource *monitoredres.MonitoredResource
	// envelope is what each entry's size grows by when Cloud Logging stores it with the
	// request's log name and resource.
	envelope int
}

// New checks the options and the credentials file. It dials nothing and reads no credentials
// beyond checking the file: Start builds the client.
func New(o Options) (*Writer, error) {
	w, err := newWriter(o)
	if err != nil {
		return nil, fmt.Errorf("cloud_logging sink %q: %w", o.Name, err)
	}
	return w, nil
}

func newWriter(o Options) (*Writer, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := o.Metrics
	if m == nil {
		m = admin.NewMetrics(prometheus.NewRegistry(), "", "")
	}
	if o.LogName == "" {
		o.LogName = DefaultLogName
	}
	if !config.ValidLogName(o.LogName) {
		return nil, fmt.Errorf("log_name %q: want at most %d letters, digits and / _ - .", o.LogName, maxLogIDLen)
	}
	res, err := checkResource(o.Resource)
	if err != nil {
		return nil, err
	}
	for _, k := range o.Labels {
		if k == "" {
			return nil, errors.New("labels: an attribute key is empty")
		}
	}
	if o.Google.Project != "" && !projectRE.MatchString(o.Google.Project) {
		return nil, fmt.Errorf("project %q is not a Google Cloud project id", o.Google.Project)
	}
	// Checks the endpoint and the credentials file, offline.
	opts, err := gcp.GRPCClientOptions(o.Google)
	if err != nil {
		return nil, err
	}
	return &Writer{
		name:        o.Name,
		google:      o.Google,
		logID:       url.PathEscape(o.LogName),
		labels:      append([]string(nil), o.Labels...),
		resource:    res,
		clientOpts:  opts,
		log:         log,
		rejected:    m.RejectedRecords.WithLabelValues(o.Name, telemetry.Logs.String()),
		rejectLog:   logevery.Limiter{Every: logEvery},
		truncateLog: logevery.Limiter{Every: logEvery},
	}, nil
}

// projectRE accepts project ids, including the legacy domain-scoped ones
// ("example.com:project"); what matters is that it cannot break the resource names built on it.
var projectRE = regexp.MustCompile(`^[a-z0-9.:-]+$`)

// checkResource fills a generic_node's node id with the host name and checks the rest.
func checkResource(r gcp.Resource) (gcp.Resource, error) {
	switch r.Type {
	case "global":
		return r, nil
	case "generic_node":
	default:
		return r, fmt.Errorf("resource %q: want generic_node or global", r.Type)
	}
	if r.Location == "" {
		return r, errors.New("a generic_node resource needs a location (a zone, a region or \"global\")")
	}
	if r.Namespace == "" {
		return r, errors.New("a generic_node resource needs a namespace")
	}
	if r.NodeID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			return r, fmt.Errorf("node_id is empty and the host name is unknown (%v): set node_id", err)
		}
		r.NodeID = host
	}
	return r, nil
}

// Start finds the project (from the options, else from the credentials) and builds the client.
func (w *Writer) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("cloud_logging sink: closed")
	}
	if w.target.Load() != nil {
		return errors.New("cloud_logging sink: already started")
	}
	project := w.google.Project
	if project == "" {
		p, err := gcp.ProjectFromCredentials(ctx, w.google)
		if err != nil {
			return err
		}
		if !projectRE.MatchString(p) {
			return fmt.Errorf("the credentials name project %q, which is not a Google Cloud project id: set project", p)
		}
		project = p
	}
	client, err := logging.NewClient(ctx, w.clientOpts...)
	if err != nil {
		return fmt.Errorf("cloud logging client: %w", err)
	}
	t := &target{
		client:   client,
		project:  project,
		logName:  "projects/" + project + "/logs/" + w.logID,
		resource: w.resource.Proto(project),
	}
	t.envelope = envelopeSize(t.logName, t.resource)
	w.target.Store(t)
	w.log.Info("cloud_logging sink ready", "sink", w.name, "log", t.logName, "resource", t.resource.GetType())
	return nil
}

// Limits keeps batches within one WriteLogEntries call where the records allow it; the writer
// splits what still does not fit. Writes may run concurrently.
func (w *Writer) Limits() sinks.Limits {
	return sinks.Limits{MaxRecords: maxEntries, MaxBytes: maxRequestBytes}
}

// errNotStarted is returned by a Write before Start: retryable, since the sink's Start is what
// fixes it.
var errNotStarted = errors.New("cloud_logging sink: not started")

// Write writes the log records of r as entries, in as many calls as the API's limits need, one
// after the other. A call that fails ends the attempt: the engine retries the whole request,
// and the entries of the calls before it are sent again with the same insertIds, which Cloud
// Logging recognises. Requests of other signals are accepted and ignored.
func (w *Writer) Write(ctx context.Context, r telemetry.Request) error {
	if r.Logs == nil {
		return nil
	}
	t := w.target.Load()
	if t == nil {
		return errNotStarted
	}
	c := convert(r.Logs, t, w.labels)
	if c.truncated > 0 {
		w.noteTruncated(c.truncated)
	}
	parts := split(c, t.envelope)
	for i, p := range parts {
		req := &loggingpb.WriteLogEntriesRequest{
			LogName:        t.logName,
			Resource:       t.resource,
			Entries:        p.entries,
			PartialSuccess: true,
		}
		// The generated client retries UNAVAILABLE, INTERNAL and DEADLINE_EXCEEDED for as
		// long as the context lets it; the engine must see those failures to back off, keep
		// the data queued and report the sink's health, so the library gets one attempt.
		_, err := t.client.WriteLogEntries(ctx, req, gax.WithRetry(nil))
		if err == nil {
			continue
		}
		if w.partial(err, p.offset) {
			continue
		}
		what := fmt.Sprintf("write %d log entries to %s", len(p.entries), t.logName)
		if len(parts) > 1 {
			what = fmt.Sprintf("write %d log entries (part %d of %d) to %s", len(p.entries), i+1, len(parts), t.logName)
		}
		return gcp.Classify(ctx, what, err)
	}
	return nil
}

// noteTruncated logs, a line a minute at most, that entries were cut down to fit the API.
func (w *Writer) noteTruncated(n int) {
	total := w.truncated.Add(int64(n))
	if ok, _ := w.truncateLog.Allow(time.Now()); ok {
		w.truncated.Add(-total)
		w.log.Warn("log records too large for Cloud Logging were truncated to fit (marked \"truncated\": true in the payload)",
			"sink", w.name, "entries", total, "max_entry_bytes", maxEntryBytes)
	}
}

// Close releases the client. It is safe to call more than once, and before Start.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if t := w.target.Load(); t != nil {
		if err := t.client.Close(); err != nil {
			return fmt.Errorf("cloud_logging sink %q: closing the client: %w", w.name, err)
		}
	}
	return nil
}
