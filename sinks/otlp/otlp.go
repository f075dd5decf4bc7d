// Package otlp is the OTLP destination: it exports batches to any OTLP endpoint (an
// OpenTelemetry Collector, a vendor's intake) over gRPC, OTLP/HTTP with protobuf, or OTLP/HTTP
// with OTLP/JSON; plaintext for http:// endpoints and TLS for https:// ones (the system roots or
// a CA file of its own, and a client certificate for mTLS); with headers and gzip.
//
// Each Write is one attempt. It reports how the attempt went in the terms of the sinks engine,
// following the OTLP specification's rules for which answers may be retried, with one
// deliberate exception: a destination refusing the sink's credentials is retried, not
// dead-lettered (see grpcExporter.classify and httpExporter.refused). A TLS failure, a refused
// connection and a timeout are retried too. A partial success is not an error: the rejected
// records are counted and the destination's reason is logged, a line a minute at most. An HTTP
// redirect is followed only when it keeps the batch and the headers where they were going (a
// 307 or 308 to the same host); a request larger than gRPC's default message limit is sent in
// parts.
//
// Header values are secrets (API keys, bearer tokens): they go to the destination and nowhere
// else, not into logs, not into errors, not even when a destination quotes them back.
//
// It is not for queueing, batching, retrying or backing off: the sinks engine in front of it
// does that, and Write never sleeps or retries by itself. HTTPS_PROXY and NO_PROXY from the
// environment are honoured, over HTTP and gRPC alike, as OpenTelemetry's own exporters do.
package otlp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/admin"
	"claude-otel-gw/internal/logevery"
	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
)

var (
	_ sinks.Writer  = (*Writer)(nil)
	_ sinks.Limiter = (*Writer)(nil)
)

// The protocols, as the config spells them.
const (
	GRPC         = "grpc"
	HTTPProtobuf = "http/protobuf"
	HTTPJSON     = "http/json"
)

// maxBatchBytes caps a batch, in protobuf bytes, for every protocol. gRPC servers refuse a
// message over 4 MiB unless configured otherwise, and the margin leaves room for what a batch
// gains in framing. OTLP/HTTP has no such limit of its own, but its receivers have one (the
// Collector's is 20 MiB, this gateway's 16 MiB by default), and OTLP/JSON is two to three times
// the size of the protobuf it encodes.
const maxBatchBytes = 4<<20 - 64<<10

// logEvery bounds how often what destinations say about delivered data is logged.
const logEvery = time.Minute

// Options configure a Writer.
type Options struct {
	Name        string            // the sink's name, for logs and metric labels
	Endpoint    string            // http://host:port[/base] (plaintext) or https://... (TLS)
	Protocol    string            // "grpc" | "http/protobuf" | "http/json"
	Headers     map[string]string // sent with every export (gRPC metadata / HTTP headers)
	Compression string            // "gzip" | "none" ("": none)
	CAFile      string            // replaces the system roots for https
	CertFile    string            // client certificate (mTLS), with KeyFile
	KeyFile     string
	UserAgent   string         // e.g. "claude-otel-gw/<version>"; "": "claude-otel-gw"
	Metrics     *admin.Metrics // RejectedRecords{sink,signal} for partial success
	Logger      *slog.Logger
}

// Writer exports batches to one OTLP endpoint. It is safe for concurrent use: the gRPC
// connection and the HTTP client are shared by every Write.
type Writer struct {
	name     string
	exp      exporter
	scrub    scrubber
	log      *slog.Logger
	rejected [telemetry.Traces + 1]prometheus.Counter // by signal

	partialLog  logevery.Limiter // partial successes and warnings
	responseLog logevery.Limiter // answers that are not OTLP responses

	closeOnce sync.Once
	closeErr  error
}

// exporter sends one request over one protocol and classifies the outcome.
type exporter interface {
	export(ctx context.Context, r telemetry.Request) (answer, error)
	close() error
}

// answer is what a destination said about a request it accepted.
type answer struct {
	rejected int64  // records it refused (a partial success)
	message  string // its error_message: why, or a warning when nothing was rejected
	// unreadable says why the answer could not be read as an OTLP export response, if it
	// could not: a 2xx from something that is not an OTLP receiver looks like this.
	unreadable  error
	contentType string // of an unreadable answer
}

// New checks the options, reads the CA and client certificate files, and builds the client. It
// dials nothing: the first Write connects.
func New(o Options) (*Writer, error) {
	w, err := newWriter(o)
	if err != nil {
		return nil, fmt.Errorf("otlp sink %q: %w", o.Name, err)
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
	if o.UserAgent == "" {
		o.UserAgent = "claude-otel-gw"
	}
	ep, err := parseEndpoint(o.Endpoint)
	if err != nil {
		return nil, err
	}
	var gzip bool
	switch o.Compression {
	case "", "none":
	case "gzip":
		gzip = true
	default:
		return nil, fmt.Errorf("compression %q: want gzip or none", o.Compression)
	}
	var tlsConf *tls.Config
	switch {
	case ep.tls:
		if tlsConf, err = clientTLS(o.CAFile, o.CertFile, o.KeyFile, log); err != nil {
			return nil, err
		}
	case o.CAFile != "" || o.CertFile != "" || o.KeyFile != "":
		return nil, fmt.Errorf("ca_file, cert_file and key_file need an https:// endpoint (%s)", ep.display)
	}
	if err := checkHeaders(o.Headers, o.Protocol == GRPC); err != nil {
		return nil, err
	}
	scrub := newScrubber(o.Headers)
	var exp exporter
	switch o.Protocol {
	case GRPC:
		if ep.path != "" {
			log.Warn("otlp sink: gRPC ignores the path of the endpoint", "sink", o.Name, "endpoint", ep.display)
		}
		exp, err = newGRPC(ep, tlsConf, o.Headers, gzip, o.UserAgent, scrub)
	case HTTPProtobuf, HTTPJSON:
		exp = newHTTP(ep, tlsConf, o.Headers, gzip, o.Protocol == HTTPJSON, o.UserAgent, scrub)
	default:
		return nil, fmt.Errorf("protocol %q: want grpc, http/protobuf or http/json", o.Protocol)
	}
	if err != nil {
		return nil, err
	}
	w := &Writer{
		name:        o.Name,
		exp:         exp,
		scrub:       scrub,
		log:         log,
		partialLog:  logevery.Limiter{Every: logEvery},
		responseLog: logevery.Limiter{Every: logEvery},
	}
	for _, sig := range telemetry.Signals {
		w.rejected[sig] = m.RejectedRecords.WithLabelValues(o.Name, sig.String())
	}
	return w, nil
}

// Limits caps batches below what the protocol takes. Writes may run concurrently.
func (w *Writer) Limits() sinks.Limits { return sinks.Limits{MaxBytes: maxBatchBytes} }

// errEmpty is returned for a request that carries no signal: a caller's mistake, not data.
var errEmpty = errors.New("empty request")

// Write exports r in one attempt. A request larger than Limits allows is sent in parts, one
// after the other; if a part fails, the error says which, and a retry of the whole request sends
// the parts before it again.
func (w *Writer) Write(ctx context.Context, r telemetry.Request) error {
	sig := r.Signal()
	if sig == 0 {
		return sinks.Permanent(errEmpty)
	}
	if proto.Size(r.Message()) <= maxBatchBytes {
		a, err := w.exp.export(ctx, r)
		if err != nil {
			return err
		}
		w.report(sig, a)
		return nil
	}
	parts := split(r, maxBatchBytes)
	for i, p := range parts {
		a, err := w.exp.export(ctx, p)
		if err != nil {
			return fmt.Errorf("part %d of %d: %w", i+1, len(parts), err)
		}
		w.report(sig, a)
	}
	return nil
}

// Close releases the connections. It is safe to call more than once.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() { w.closeErr = w.exp.close() })
	return w.closeErr
}
