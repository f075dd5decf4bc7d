package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/telemetry"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// retryDelay finds the RetryInfo among a status's details.
func retryDelay(t *testing.T, details []any) time.Duration {
	t.Helper()
	for _, d := range details {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	t.Fatalf("no RetryInfo among the details %v", details)
	return 0
}

// A consumer's answer reaches the client as OTLP says: no room is RESOURCE_EXHAUSTED / 429 with
// the consumer's retry hint, any other failure UNAVAILABLE / 503, a panic UNAVAILABLE / 503 too;
// each is counted, with the records it carried.
func TestConsumerErrors(t *testing.T) {
	t.Parallel()
	throttled := &telemetry.ThrottledError{Sink: "gcs", Reason: "queue full", RetryAfter: 2500 * time.Millisecond}
	for _, tc := range []struct {
		name       string
		err        error
		panics     bool
		code       codes.Code
		status     int
		reason     string
		retryAfter string
		delay      time.Duration
		msg        string
	}{
		{name: "throttled", err: throttled, code: codes.ResourceExhausted, status: 429, reason: "throttled",
			retryAfter: "3", delay: 2500 * time.Millisecond, msg: `sink "gcs" cannot take more data now (queue full)`},
		{name: "throttled, wrapped", err: fmt.Errorf("route audit: %w", throttled), code: codes.ResourceExhausted, status: 429,
			reason: "throttled", retryAfter: "3", delay: 2500 * time.Millisecond, msg: "route audit: sink"},
		{name: "throttled without a hint", err: &telemetry.ThrottledError{Sink: "file", Reason: "disk budget spent"},
			code: codes.ResourceExhausted, status: 429, reason: "throttled", retryAfter: "1", delay: time.Second, msg: "disk budget spent"},
		{name: "failed", err: errors.New("spool: disk on fire"), code: codes.Unavailable, status: 503, reason: "unavailable",
			retryAfter: "1", delay: time.Second, msg: "spool: disk on fire"},
		{name: "cancelled", err: context.Canceled, code: codes.Unavailable, status: 503, reason: "unavailable",
			retryAfter: "1", delay: time.Second, msg: "context canceled"},
		{name: "panicked", panics: true, code: codes.Unavailable, status: 503, reason: "unavailable",
			retryAfter: "1", delay: time.Second, msg: "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, testConfig(), ConsumerFunc(func(context.Context, telemetry.Request) error {
				if tc.panics {
					panic("route table is nil")
				}
				return tc.err
			}))
			f := fixtureNamed(t, "02-secrets-http-protobuf/traces.http.pb")
			req := f.request(t)
			records := float64(req.Records())

			_, err := h.exportGRPC(context.Background(), req)
			st := status.Convert(err)
			if st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
				t.Errorf("gRPC: %v %q, want %v with a message containing %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
			if d := retryDelay(t, st.Details()); d != tc.delay {
				t.Errorf("gRPC RetryInfo delay %v, want %v", d, tc.delay)
			}

			r := h.post(t, "/v1/traces", mediaProtobuf, "", f.data)
			if r.status != tc.status || r.header.Get("Retry-After") != tc.retryAfter {
				t.Errorf("HTTP: status %d, Retry-After %q; want %d, %q", r.status, r.header.Get("Retry-After"), tc.status, tc.retryAfter)
			}
			body := r.rpcStatus(t)
			if codes.Code(body.Code) != tc.code || !strings.Contains(body.Message, tc.msg) {
				t.Errorf("HTTP body: %v %q, want %v with a message containing %q", codes.Code(body.Code), body.Message, tc.code, tc.msg)
			}
			var details []any
			for _, a := range body.Details {
				m, err := anypb.UnmarshalNew(a, proto.UnmarshalOptions{})
				if err != nil {
					t.Fatal(err)
				}
				details = append(details, m)
			}
			if d := retryDelay(t, details); d != tc.delay {
				t.Errorf("HTTP body RetryInfo delay %v, want %v", d, tc.delay)
			}

			for _, tr := range []string{"grpc", "http"} {
				if got := testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues(tr, tc.reason)); got != 1 {
					t.Errorf("refused_requests_total{transport=%s,reason=%s} = %v, want 1", tr, tc.reason, got)
				}
				if got := testutil.ToFloat64(h.metrics.ReceivedRecords.WithLabelValues("traces", tr)); got != 0 {
					t.Errorf("received_records_total{signal=traces,transport=%s} = %v, want 0", tr, got)
				}
			}
			if got := testutil.ToFloat64(h.metrics.RefusedRecords.WithLabelValues("traces", tc.reason)); got != 2*records {
				t.Errorf("refused_records_total{signal=traces,reason=%s} = %v, want %v", tc.reason, got, 2*records)
			}

			// Two refusals in quick succession: one warning (or one panic report), not two.
			want, other := "level=WARN msg=\"export refused", "level=ERROR"
			if tc.panics {
				want, other = "level=ERROR msg=\"consumer panicked", "level=WARN msg=\"export refused"
			}
			log := h.log.String()
			if n := strings.Count(log, want); n != 1 {
				t.Errorf("%d log lines with %q, want 1; log:\n%s", n, want, log)
			}
			if tc.panics && !strings.Contains(log, "route table is nil") {
				t.Errorf("the panic's value is not in the log:\n%s", log)
			}
			if !tc.panics && strings.Contains(log, other) {
				t.Errorf("unexpected %q in the log:\n%s", other, log)
			}
		})
	}
}
