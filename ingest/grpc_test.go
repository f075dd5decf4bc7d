package ingest

import (
	"context"
	"strings"
	"testing"

	"claude-otel-gw/telemetry"

	"github.com/prometheus/client_golang/prometheus/testutil"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const logsExport = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"

// Every kind of bad request over gRPC gets the code OTLP asks for with a message naming the
// problem, is counted under its reason, and the server goes on serving after each.
func TestGRPCRefusals(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxRequestBytes = 64 << 10
	rec := &recorder{}
	h := start(t, cfg, rec)
	good := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").request(t)

	invoke := func(method string, payload []byte) error {
		var reply []byte
		return h.conn.Invoke(context.Background(), method, &payload, &reply, grpc.ForceCodecV2(rawCodec{}))
	}
	export := func(r telemetry.Request) func() error {
		return func() error { _, err := h.exportGRPC(context.Background(), r); return err }
	}
	for _, tc := range []struct {
		name     string
		send     func() error
		code     codes.Code
		reason   string
		msg      string
		consumed bool
	}{
		{"malformed protobuf", func() error { return invoke(logsExport, []byte{0x0a, 0xff, 0xff, 0xff}) },
			codes.InvalidArgument, "malformed", "not a valid protobuf logs export request", false},
		{"too large", export(logsWith(&logspb.LogRecord{Body: stringValue(strings.Repeat("x", 70<<10))})),
			codes.ResourceExhausted, "too_large", "larger than max", false},
		{"nesting too deep", export(logsWith(&logspb.LogRecord{Attributes: attr(nestedKvlist(cfg.MaxNestingDepth + 1))})),
			codes.InvalidArgument, "malformed", "logRecords[1].attributes[1].value: values nested deeper than 8", false},
		{"bad trace id", export(spansWith(&tracepb.Span{TraceId: bytesOf(12), SpanId: bytesOf(8)})),
			codes.InvalidArgument, "malformed", "resourceSpans[0].scopeSpans[0].spans[0].traceId: 12 bytes, want 16", false},
		{"bad exemplar span id", export(metricWith(&metricspb.Metric{Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{
			DataPoints: []*metricspb.NumberDataPoint{{Exemplars: []*metricspb.Exemplar{{SpanId: bytesOf(2)}}}}}}})),
			codes.InvalidArgument, "malformed", "gauge.dataPoints[0].exemplars[0].spanId: 2 bytes", false},
		{"unknown method", func() error { return invoke("/opentelemetry.proto.collector.logs.v1.LogsService/Import", nil) },
			codes.Unimplemented, "not_found", "LogsService/Import", false},
		{"unknown service", func() error { return invoke("/acme.Telemetry/Export", nil) },
			codes.Unimplemented, "not_found", "/acme.Telemetry/Export", false},
		{"nesting at the limit", export(logsWith(&logspb.LogRecord{Body: nestedArray(cfg.MaxNestingDepth)})),
			codes.OK, "", "", true},
		{"empty request", export(telemetry.Empty(telemetry.Traces)), codes.OK, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var refusals float64
			if tc.reason != "" {
				refusals = testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues("grpc", tc.reason))
			}
			n := rec.count()
			err := tc.send()
			st := status.Convert(err)
			if st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
				t.Fatalf("got %v %q, want %v with a message containing %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
			if got := rec.count() - n; (got == 1) != tc.consumed || got > 1 {
				t.Errorf("the consumer got %d requests, want consumed=%v", got, tc.consumed)
			}
			if tc.reason != "" {
				if d := testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues("grpc", tc.reason)) - refusals; d != 1 {
					t.Errorf("refused_requests_total{transport=grpc,reason=%s} went up by %v, want 1", tc.reason, d)
				}
			}
			if _, err := h.exportGRPC(context.Background(), good); err != nil {
				t.Fatalf("a good request after it: %v", err)
			}
		})
	}
}

// A payload that claims to be gzip but is not is answered by grpc-go itself; it is still counted
// as malformed, and the server carries on.
func TestGRPCBadGzip(t *testing.T) {
	t.Parallel()
	h := start(t, testConfig(), &recorder{})
	code, msg := grpcFrame(t, h.srv.GRPCAddr().String(), logsExport, "gzip", []byte("this is not gzip"))
	if codes.Code(code) == codes.OK {
		t.Fatalf("a request with a broken gzip payload was accepted")
	}
	t.Logf("answer: %v %q", codes.Code(code), msg)
	if got := refusedSoon(h, "grpc", "malformed", 1); got != 1 {
		t.Errorf("refused_requests_total{transport=grpc,reason=malformed} = %v, want 1", got)
	}
	code, msg = grpcFrame(t, h.srv.GRPCAddr().String(), logsExport, "gzip", gzipped(t, fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").data))
	if codes.Code(code) != codes.OK {
		t.Fatalf("a good gzip request after it: %v %q", codes.Code(code), msg)
	}
}
