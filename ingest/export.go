package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"claude-otel-gw/telemetry"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// settle finishes an export request the same way for both transports: a request that decoded
// (err == nil) goes to the consumer; the outcome is counted and, if the request is refused,
// logged. It returns the refusal to answer with, or nil when the request is acknowledged.
func (s *Server) settle(ctx context.Context, t transport, sig telemetry.Signal, r telemetry.Request, err error) *refusal {
	if err == nil {
		err = s.consume(ctx, r)
	}
	if err != nil {
		ref := s.refused(t, sig, r, err)
		return &ref
	}
	if n := r.Records(); n > 0 {
		s.counters.received[sig][t].Add(float64(n))
	}
	return nil
}

// consume hands r to the consumer, turning a panic into an error so that one bad request, or one
// bug downstream, costs that request and not the process.
func (s *Server) consume(ctx context.Context, r telemetry.Request) (err error) {
	if empty(r) {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			if ok, suppressed := s.panicLog.Allow(time.Now()); ok {
				s.log.Error("consumer panicked; the request was refused and the gateway carries on",
					"signal", r.Signal().String(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()),
					"suppressed", suppressed)
			}
			err = errPanic
		}
	}()
	return s.next.Consume(ctx, r)
}

// empty reports whether r carries no resources at all: there is nothing to hand on, and the
// client is simply acknowledged.
func empty(r telemetry.Request) bool {
	switch {
	case r.Logs != nil:
		return len(r.Logs.ResourceLogs) == 0
	case r.Metrics != nil:
		return len(r.Metrics.ResourceMetrics) == 0
	case r.Traces != nil:
		return len(r.Traces.ResourceSpans) == 0
	}
	return true
}

// refused counts and logs a refusal and returns the answer for it. sig is 0 when the request
// was refused before its signal was known; r is the decoded request, if it got that far.
func (s *Server) refused(t transport, sig telemetry.Signal, r telemetry.Request, err error) refusal {
	ref := refuse(err)
	s.counters.refusedRequests[t][ref.reason].Inc()
	attrs := []slog.Attr{slog.String("transport", t.String()), slog.String("reason", ref.reason.String())}
	if sig != 0 {
		attrs = append(attrs, slog.String("signal", sig.String()))
	}
	if ref.reason == reasonUnauthenticated {
		// A client left without the token, or given an old one, loses everything it sends, and
		// only the gateway's log can tell its operator why. The message names no token.
		ok, suppressed := s.authLog.Allow(time.Now())
		level := slog.LevelDebug
		if ok {
			level = slog.LevelWarn
			attrs = append(attrs, slog.Int("suppressed", suppressed))
		}
		s.log.LogAttrs(context.Background(), level, "export refused: the client did not present the bearer token",
			append(attrs, slog.String("error", ref.msg))...)
		return ref
	}
	if !ref.reason.retryable() {
		// The client's own mistake: it gets the details in the answer.
		s.log.LogAttrs(context.Background(), slog.LevelDebug, "export refused", append(attrs, slog.String("error", ref.msg))...)
		return ref
	}
	n := r.Records()
	if sig != 0 {
		s.counters.refusedRecords[sig][ref.reason].Add(float64(n))
	}
	attrs = append(attrs, slog.Int("records", n), slog.String("error", err.Error()))
	ok, suppressed := s.refusalLog.Allow(time.Now())
	if !ok {
		s.log.LogAttrs(context.Background(), slog.LevelDebug, "export refused", attrs...)
		return ref
	}
	s.log.LogAttrs(context.Background(), slog.LevelWarn,
		"export refused: the client was told to retry, and its data is lost if it gives up first",
		append(attrs, slog.Int("suppressed", suppressed))...)
	return ref
}

// emptyResponse is the acknowledgement of an export request: an empty Export*ServiceResponse
// (no partial success: ingest takes a request whole or not at all).
func emptyResponse(sig telemetry.Signal) proto.Message {
	switch sig {
	case telemetry.Logs:
		return &collogspb.ExportLogsServiceResponse{}
	case telemetry.Metrics:
		return &colmetricspb.ExportMetricsServiceResponse{}
	}
	return &coltracepb.ExportTraceServiceResponse{}
}
