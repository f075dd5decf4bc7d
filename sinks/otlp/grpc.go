package otlp

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"time"
	"unicode"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
)

// reconnectMaxDelay caps grpc-go's wait between reconnection attempts (120 s by default).
// While the connection is down every export fails at once, so a destination that comes back
// would otherwise see no data for up to two minutes after the sinks engine's own backoff (30 s
// at most by default) has long asked for another try.
const reconnectMaxDelay = 30 * time.Second

// grpcExporter exports over gRPC through one lazily connected client.
type grpcExporter struct {
	conn    *grpc.ClientConn
	logs    collogspb.LogsServiceClient
	metrics colmetricspb.MetricsServiceClient
	traces  coltracepb.TraceServiceClient
	md      metadata.MD // the headers; nil when there are none
	where   string      // the endpoint, as errors name it
	scrub   scrubber
}

func newGRPC(ep endpoint, tlsConf *tls.Config, headers map[string]string, gzip bool, userAgent string, scrub scrubber) (*grpcExporter, error) {
	creds := insecure.NewCredentials()
	if tlsConf != nil {
		creds = credentials.NewTLS(tlsConf)
	}
	bo := backoff.DefaultConfig
	bo.MaxDelay = reconnectMaxDelay
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent(userAgent),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: 20 * time.Second}),
	}
	if gzip {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.UseCompressor(grpcgzip.Name)))
	}
	conn, err := grpc.NewClient(ep.grpcTarget, opts...)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", ep.display, err)
	}
	g := &grpcExporter{
		conn:    conn,
		logs:    collogspb.NewLogsServiceClient(conn),
		metrics: colmetricspb.NewMetricsServiceClient(conn),
		traces:  coltracepb.NewTraceServiceClient(conn),
		where:   ep.display + " (grpc)",
		scrub:   scrub,
	}
	if len(headers) > 0 {
		g.md = metadata.New(headers) // lower-cases the keys, as HTTP/2 requires
	}
	return g, nil
}

func (g *grpcExporter) export(ctx context.Context, r telemetry.Request) (answer, error) {
	if g.md != nil {
		ctx = metadata.NewOutgoingContext(ctx, g.md)
	}
	var (
		resp proto.Message
		err  error
	)
	switch {
	case r.Logs != nil:
		resp, err = g.logs.Export(ctx, r.Logs)
	case r.Metrics != nil:
		resp, err = g.metrics.Export(ctx, r.Metrics)
	case r.Traces != nil:
		resp, err = g.traces.Export(ctx, r.Traces)
	}
	if err != nil {
		return answer{}, g.classify(ctx, r.Signal(), err)
	}
	return partialSuccess(resp), nil
}

func (g *grpcExporter) close() error { return g.conn.Close() }

// classify turns a failed export into the error the sinks engine acts on, per the OTLP
// specification: retryable codes are returned plain (with the delay a RetryInfo asks for), the
// rest marked permanent, with one exception below.
func (g *grpcExporter) classify(ctx context.Context, sig telemetry.Signal, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return &exportError{msg: fmt.Sprintf("export %s to %s: %v", sig, g.where, err), cause: err}
	}
	code := st.Code()
	msg := fmt.Sprintf("export %s to %s: %s", sig, g.where, codeName(code))
	if ex := g.scrub.excerpt(st.Message()); ex != "" {
		msg += fmt.Sprintf(": %q", ex)
	}
	e := &exportError{msg: msg}
	delay, hasDelay := retryInfo(st)
	switch code {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.Canceled, codes.OutOfRange, codes.DataLoss:
		if m := st.Message(); code == codes.Unavailable && (strings.Contains(m, "handshake failed") || strings.Contains(m, "remote error: tls:")) {
			// A certificate the gateway does not trust, or a client certificate the destination
			// does not: configuration, not data, so retried until an operator fixes it.
			e.msg += " (TLS handshake failed: check the endpoint, ca_file, cert_file and key_file)"
		}
		if code == codes.DeadlineExceeded || code == codes.Canceled {
			e.cause = ctx.Err() // nil unless this attempt's own context ended
		}
		if hasDelay {
			return sinks.RetryAfter(e, delay)
		}
		return e
	case codes.ResourceExhausted:
		// Retryable only when the destination says when: without RetryInfo it is refusing this
		// batch (too large, over a quota that will not reset), not asking for patience.
		if hasDelay {
			return sinks.RetryAfter(e, delay)
		}
		return sinks.Permanent(e)
	case codes.Unauthenticated, codes.PermissionDenied:
		// The one exception to the specification, which calls these permanent: they say nothing
		// about the data, only that the key in the headers is wrong, expired or lacks a grant.
		// An operator will fix that, and the data queued meanwhile must still be delivered then,
		// not dead-lettered by the thousand in the meantime.
		e.msg += " (check the sink's headers; retrying until the destination accepts them)"
		return e
	}
	return sinks.Permanent(e)
}

// retryInfo finds the delay a RetryInfo detail asks for, if the status carries one.
func retryInfo(st *status.Status) (time.Duration, bool) {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return max(ri.GetRetryDelay().AsDuration(), 0), true
		}
	}
	return 0, false
}

// codeName spells a code as the gRPC and OTLP specifications do: UNAVAILABLE, DEADLINE_EXCEEDED.
func codeName(c codes.Code) string {
	if c == codes.Canceled {
		return "CANCELLED" // grpc-go spells it the American way
	}
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
