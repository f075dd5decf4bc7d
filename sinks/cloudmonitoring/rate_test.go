package cloudmonitoring

import (
	"context"
	"errors"
	"testing"
	"time"

	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
)

// rateInterval is long enough next to a Write's own duration that a write too soon would show.
const rateInterval = 200 * time.Millisecond

// costPoint is a one-point DELTA request of claude_code.cost.usage for each model.
func costPoint(v float64, at time.Time, models ...string) telemetry.Request {
	m := sum("claude_code.cost.usage", deltaT, true)
	for _, model := range models {
		m.GetSum().DataPoints = append(m.GetSum().DataPoints, dp(v, at.Add(-time.Second), at, "model", model))
	}
	return request(m)
}

func modelLabels(m string) map[string]string {
	return map[string]string{"model": m, "service_name": "claude-code"}
}

// A series written less than MinInterval ago waits; a series that may be written now does not
// wait for it. The fake refuses points closer than its sampling period, as Cloud Monitoring
// does, measured between end times; the test checks the wall clock too.
func TestSeriesWaitForTheirInterval(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{MinInterval: rateInterval})
	at := time.Now()
	e.write(t, costPoint(1, at, "opus"))
	e.write(t, costPoint(2, at, "opus", "haiku")) // opus must wait; haiku is new
	e.noViolations(t)

	opus := e.fake.History(key(costType, modelLabels("opus")))
	haiku := e.fake.History(key(costType, modelLabels("haiku")))
	if len(opus) != 2 || len(haiku) != 1 {
		t.Fatalf("opus written %d times and haiku %d; want 2 and 1", len(opus), len(haiku))
	}
	if gap := opus[1].Received.Sub(opus[0].Received); gap < rateInterval {
		t.Errorf("opus written twice %s apart; want at least %s", gap, rateInterval)
	}
	if gap := opus[1].End.Sub(opus[0].End); gap < rateInterval {
		t.Errorf("opus points end %s apart; want at least %s", gap, rateInterval)
	}
	if !haiku[0].Received.Before(opus[1].Received) {
		t.Error("haiku, which could be written at once, waited for opus")
	}
	if v := number(opus[1].Series); v != 3 {
		t.Errorf("opus = %v; want 3", v)
	}
}

// The wait is bounded by the attempt's context: an attempt that would end before a series may
// be written ends at once, asking the engine to come back then. What it wrote is not written
// again by the retry, and nothing is lost.
func TestWaitBoundedByContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{MinInterval: rateInterval})
	at := time.Now()
	e.write(t, costPoint(1, at, "opus"))
	r := costPoint(2, at, "opus", "haiku")
	ctx, cancel := context.WithTimeout(context.Background(), rateInterval/4)
	err := e.w.Write(ctx, r)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || sinks.IsPermanent(err) {
		t.Fatalf("Write with too little time to wait = %v; want a retryable deadline error", err)
	}
	if d, ok := sinks.RetryDelay(err); !ok || d <= 0 || d > rateInterval {
		t.Errorf("retry delay %v, %v; want the time left until opus may be written", d, ok)
	}
	if n := len(e.fake.History(key(costType, modelLabels("haiku")))); n != 1 {
		t.Errorf("haiku written %d times by the attempt; want once: it did not have to wait", n)
	}
	e.write(t, r)
	e.noViolations(t)
	if v := number(e.latest(t, costType, modelLabels("opus"))); v != 3 {
		t.Errorf("opus = %v; want 3", v)
	}
	haiku := e.fake.History(key(costType, modelLabels("haiku")))
	if len(haiku) != 1 || number(haiku[0].Series) != 2 {
		t.Errorf("haiku written %d times, last %v; want once, 2", len(haiku), haiku)
	}
}

// Requests carry at most 200 series, each once with one point; the fake refuses anything
// else.
func TestRequestsWithinLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.write(t, request(wide(401, time.Now())...))
	e.noViolations(t)
	n := 0
	for _, req := range e.fake.Requests() {
		if len(req.GetTimeSeries()) > 200 {
			t.Errorf("a request of %d series", len(req.GetTimeSeries()))
		}
		n += len(req.GetTimeSeries())
	}
	if n != 401 || len(e.fake.Requests()) != 3 {
		t.Errorf("%d series in %d requests; want 401 in 3", n, len(e.fake.Requests()))
	}
}
