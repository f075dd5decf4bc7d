package otlp

import (
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/telemetry"
)

// newResponse returns an empty export response of the signal, to decode an answer into.
func newResponse(sig telemetry.Signal) proto.Message {
	switch sig {
	case telemetry.Logs:
		return &collogspb.ExportLogsServiceResponse{}
	case telemetry.Metrics:
		return &colmetricspb.ExportMetricsServiceResponse{}
	}
	return &coltracepb.ExportTraceServiceResponse{}
}

// partialSuccess reads the partial_success of an export response of any signal.
func partialSuccess(resp proto.Message) answer {
	switch r := resp.(type) {
	case *collogspb.ExportLogsServiceResponse:
		p := r.GetPartialSuccess()
		return answer{rejected: p.GetRejectedLogRecords(), message: p.GetErrorMessage()}
	case *colmetricspb.ExportMetricsServiceResponse:
		p := r.GetPartialSuccess()
		return answer{rejected: p.GetRejectedDataPoints(), message: p.GetErrorMessage()}
	case *coltracepb.ExportTraceServiceResponse:
		p := r.GetPartialSuccess()
		return answer{rejected: p.GetRejectedSpans(), message: p.GetErrorMessage()}
	}
	return answer{}
}

// report accounts for what the destination said about a request it accepted. Rejected records
// are counted; the destination's reason is logged, a line a minute at most, since a destination
// that rejects some records usually rejects them in every batch.
func (w *Writer) report(sig telemetry.Signal, a answer) {
	if a.rejected > 0 {
		w.rejected[sig].Add(float64(a.rejected))
	}
	switch {
	case a.rejected > 0:
		if ok, suppressed := w.partialLog.Allow(time.Now()); ok {
			w.log.Warn("otlp sink: the destination rejected part of a batch", "sink", w.name, "signal", sig.String(),
				"rejected", a.rejected, "reason", w.scrub.excerpt(a.message), "earlier_not_logged", suppressed)
		}
	case a.message != "":
		// The specification's way for a destination to warn about data it accepted.
		if ok, suppressed := w.partialLog.Allow(time.Now()); ok {
			w.log.Warn("otlp sink: the destination accepted a batch with a warning", "sink", w.name, "signal", sig.String(),
				"warning", w.scrub.excerpt(a.message), "earlier_not_logged", suppressed)
		}
	case a.unreadable != nil:
		// A 2xx is delivery as far as OTLP goes, but an answer that is not an OTLP response
		// often means the endpoint is not an OTLP receiver (a wrong base path caught by a web
		// app, a captive portal), and then the data is going nowhere.
		if ok, suppressed := w.responseLog.Allow(time.Now()); ok {
			w.log.Warn("otlp sink: the destination's answer is not an OTLP export response; is the endpoint right?",
				"sink", w.name, "signal", sig.String(), "content_type", a.contentType, "err", a.unreadable,
				"earlier_not_logged", suppressed)
		}
	}
}
