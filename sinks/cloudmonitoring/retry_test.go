package cloudmonitoring

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fakemonitoring "claude-otel-gw/internal/fakegcp/monitoring"
	"claude-otel-gw/sinks"
)

const tokenType = "workload.googleapis.com/claude_code/token/usage"

// wide is a request of n DELTA points of claude_code.token.usage, each of its own series
// (label n), point i worth i+1.
func wide(n int, at time.Time) []*metricspb.Metric {
	dps := make([]*metricspb.NumberDataPoint, n)
	for i := range dps {
		dps[i] = dp(float64(i+1), at.Add(-time.Second), at, "n", strconv.Itoa(i))
	}
	return []*metricspb.Metric{sum("claude_code.token.usage", deltaT, true, dps...)}
}

func wideLabels(i int) map[string]string {
	return map[string]string{"n": strconv.Itoa(i), "service_name": "claude-code"}
}

// checkWide asserts every series of a wide request of n holds times × its point.
func checkWide(t *testing.T, e *env, n int, times float64) {
	t.Helper()
	got := e.fake.Series()
	if len(got) != n {
		t.Fatalf("%d series written; want %d", len(got), n)
	}
	for i := range n {
		ts := got[key(tokenType, wideLabels(i))]
		if v := number(ts); v != times*float64(i+1) {
			t.Errorf("series n=%d = %v; want %v", i, v, times*float64(i+1))
		}
	}
}

// A batch of 450 series goes in requests of at most 200. When the second request fails, the
// engine's retry of the batch writes what the first did not, and counts nothing twice.
func TestRetryAfterFailedChunk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	r := request(wide(450, time.Now())...)
	e.fake.FailNext(nil, status.New(codes.Unavailable, "backend down"))
	err := e.w.Write(context.Background(), r)
	if err == nil || sinks.IsPermanent(err) {
		t.Fatalf("Write with its second request failing = %v; want a retryable error", err)
	}
	if n := len(e.fake.Series()); n != 200 {
		t.Fatalf("%d series written by the first attempt; want the first request's 200", n)
	}
	e.write(t, r) // the engine's retry: the same request
	checkWide(t, e, 450, 1)
	for k := range e.fake.Series() {
		if h := e.fake.History(k); len(h) != 1 {
			t.Errorf("series %s written %d times; want once", k, len(h))
		}
	}
	var sizes []int
	for _, req := range e.fake.Requests() {
		sizes = append(sizes, len(req.GetTimeSeries()))
	}
	if fmt.Sprint(sizes) != "[200 200 200 50]" {
		t.Errorf("requests of %v series; want [200 200 200 50]: the first attempt's two, then the retry's rest", sizes)
	}
	// Written in full, the request is new data when it comes again.
	e.write(t, r)
	checkWide(t, e, 450, 2)
	e.noViolations(t)
}

// A retry that fails again, after writing more, still counts each point once.
func TestRetryFailingTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	r := request(wide(650, time.Now())...)
	unavailable := status.New(codes.Unavailable, "backend down")
	e.fake.FailNext(nil, unavailable, nil, unavailable)
	for attempt := 1; attempt <= 2; attempt++ {
		if err := e.w.Write(context.Background(), r); err == nil {
			t.Fatalf("attempt %d succeeded; want it to fail", attempt)
		}
	}
	e.write(t, r)
	checkWide(t, e, 650, 1)
	e.noViolations(t)
}

// Series Cloud Monitoring refuses for good (INVALID_ARGUMENT in a partial failure) are
// counted and do not fail the batch; the others are written; and what the refused series
// folded in is not lost: once they are taken, their totals carry it.
func TestSeriesRefusedForGood(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	refuse := true
	e.fake.FailSeries(func(ts *monitoringpb.TimeSeries) *status.Status {
		if refuse && ts.GetMetric().GetLabels()["n"] == "3" {
			return status.New(codes.InvalidArgument, `Field timeSeries[3].metric.labels[0] had an invalid value of "secret@example.com"`)
		}
		return nil
	})
	base := time.Now()
	e.write(t, request(wide(5, base)...))
	if got := testutil.ToFloat64(e.m.RejectedRecords.WithLabelValues("gcm", "metrics")); got != 1 {
		t.Errorf("RejectedRecords = %v; want 1", got)
	}
	if _, ok := e.fake.Series()[key(tokenType, wideLabels(3))]; ok {
		t.Error("the refused series was written")
	}
	if lines := e.log.Lines("refused time series for good"); len(lines) != 1 {
		t.Errorf("log lines about the refusal: %q; want 1", lines)
	}
	if got := e.log.String(); strings.Contains(got, "secret@example.com") {
		t.Errorf("the log quotes a label value: %s", got)
	}
	refuse = false
	e.write(t, request(wide(5, base.Add(time.Second))...))
	checkWide(t, e, 5, 2)
}

// When some series fail for a reason that may pass, the attempt fails and the engine
// retries; the series written the first time are refused then (their end time is not later
// than their last), which settles them, and the totals come out exact.
func TestSeriesFailingForNow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	fail := true
	e.fake.FailSeries(func(ts *monitoringpb.TimeSeries) *status.Status {
		if fail && ts.GetMetric().GetLabels()["n"] == "1" {
			return status.New(codes.Internal, "transient")
		}
		return nil
	})
	r := request(wide(4, time.Now())...)
	err := e.w.Write(context.Background(), r)
	if err == nil || sinks.IsPermanent(err) {
		t.Fatalf("Write with a series failing INTERNAL = %v; want a retryable error", err)
	}
	fail = false
	e.write(t, r)
	checkWide(t, e, 4, 1)
	for k := range e.fake.Series() {
		if h := e.fake.History(k); len(h) != 1 {
			t.Errorf("series %s written %d times; want once", k, len(h))
		}
	}
}

// A whole request refused as invalid is permanent: the engine dead-letters the batch.
func TestInvalidRequestIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.fake.FailNext(status.New(codes.InvalidArgument, "bad request"))
	err := e.w.Write(context.Background(), request(wide(1, time.Now())...))
	if !sinks.IsPermanent(err) {
		t.Fatalf("Write = %v; want a permanent error", err)
	}
}

// RetryInfo from Cloud Monitoring reaches the engine.
func TestRetryInfoHonoured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.fake.FailNext(fakemonitoring.WithRetryDelay(status.New(codes.ResourceExhausted, "quota"), 3*time.Second))
	err := e.w.Write(context.Background(), request(wide(1, time.Now())...))
	if d, ok := sinks.RetryDelay(err); !ok || d != 3*time.Second {
		t.Fatalf("Write = %v (retry delay %v, %v); want a retry after 3s", err, d, ok)
	}
}
