package gcs

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"claude-otel-gw/telemetry"
)

func ns(t time.Time) uint64 { return uint64(t.UnixNano()) }

var (
	t0 = time.Date(2026, 11, 25, 20, 48, 8, 0, time.UTC)
	t1 = t0.Add(-3 * time.Hour) // 2026-11-25 17:48
	t2 = t0.Add(-24 * time.Hour)
)

func logsOf(records ...*logspb.LogRecord) telemetry.Request {
	return telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{
		{ScopeLogs: []*logspb.ScopeLogs{{LogRecords: records[:len(records)/2]}}},
		{ScopeLogs: []*logspb.ScopeLogs{{LogRecords: records[len(records)/2:]}}},
	}}}
}

func TestObjectName(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		prefix string
		sig    telemetry.Signal
		want   string
	}{
		{"claude-code", telemetry.Logs, "claude-code/signal=logs/date=2026-03-04/hour=04/host-0123.jsonl.gz"},
		{"a/b", telemetry.Metrics, "a/b/signal=metrics/date=2026-03-04/hour=04/host-0123.jsonl.gz"},
		{"", telemetry.Traces, "signal=traces/date=2026-03-04/hour=04/host-0123.jsonl.gz"},
	} {
		if got := objectName(tc.prefix, tc.sig, at, "host", "0123"); got != tc.want {
			t.Errorf("objectName(%q, %s) = %q, want %q (UTC)", tc.prefix, tc.sig, got, tc.want)
		}
	}
}

func TestSanitizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"dev-laptop.corp.example.com": "dev-laptop.corp.example.com",
		"Jane's MacBook Pro":          "Jane-s-MacBook-Pro",
		"a/b\\c":                      "a-b-c",
		"héllo":                       "h--llo",
		"..":                          "host",
		"":                            "host",
		strings.Repeat("x", 300):      strings.Repeat("x", maxHostLen),
	} {
		if got := sanitizeHost(in); got != want {
			t.Errorf("sanitizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// The partition is the hour of the batch's earliest record, by the time each signal's records
// carry; records without a time do not count.
func TestEarliest(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    telemetry.Request
		want time.Time // zero: none
	}{
		{"logs: time, else observed time", logsOf(
			&logspb.LogRecord{TimeUnixNano: ns(t0)},
			&logspb.LogRecord{ObservedTimeUnixNano: ns(t1)},
			&logspb.LogRecord{TimeUnixNano: ns(t0), ObservedTimeUnixNano: ns(t2)},
			&logspb.LogRecord{},
		), t1},
		{"logs: none dated", logsOf(&logspb.LogRecord{}, &logspb.LogRecord{Body: nil}), time.Time{}},
		{"logs: beyond what a time holds", logsOf(&logspb.LogRecord{TimeUnixNano: math.MaxUint64}, &logspb.LogRecord{TimeUnixNano: ns(t0)}), t0},
		{"metrics: every kind of point", telemetry.Request{Metrics: &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
			ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: []*metricspb.Metric{
				{Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{DataPoints: []*metricspb.NumberDataPoint{{TimeUnixNano: ns(t0), StartTimeUnixNano: ns(t2)}}}}},
				{Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{{TimeUnixNano: ns(t0)}}}}},
				{Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: []*metricspb.HistogramDataPoint{{TimeUnixNano: ns(t0)}}}}},
				{Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &metricspb.ExponentialHistogram{DataPoints: []*metricspb.ExponentialHistogramDataPoint{{TimeUnixNano: ns(t0)}}}}},
				{Data: &metricspb.Metric_Summary{Summary: &metricspb.Summary{DataPoints: []*metricspb.SummaryDataPoint{{TimeUnixNano: ns(t1)}}}}},
			}}},
		}}}}, t1},
		{"traces: span start", telemetry.Request{Traces: &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
			ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{
				{StartTimeUnixNano: ns(t0), EndTimeUnixNano: ns(t0.Add(time.Second))},
				{StartTimeUnixNano: ns(t1), EndTimeUnixNano: ns(t0)},
			}}},
		}}}}, t1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := earliest(tc.r)
			if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
				t.Errorf("earliest = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}
}

// A captured session lands in the hour Claude Code ran it.
func TestCapturedPartition(t *testing.T) {
	f := newFakeGCS(t)
	w := started(t, f.options())
	if err := w.Write(context.Background(), loadCaptured(t, "03-jwt-ip-http-json/logs.http.json")); err != nil {
		t.Fatal(err)
	}
	objs := f.objects(t)
	if len(objs) != 1 {
		t.Fatalf("%d objects", len(objs))
	}
	if !strings.HasPrefix(objs[0].attrs.Name, "claude-code/signal=logs/date=2026-11-25/hour=20/dev-laptop-") {
		t.Errorf("object %s: want it under claude-code/signal=logs/date=2026-11-25/hour=20/", objs[0].attrs.Name)
	}
}

// A batch with no time at all is partitioned by when it was first written, and a retry of it
// keeps that name however late it comes, so it still makes one object.
func TestUndatedBatch(t *testing.T) {
	f := newFakeGCS(t)
	w := started(t, f.options())
	now := t0
	w.now = func() time.Time { return now }
	undated := logsOf(&logspb.LogRecord{Body: nil}, &logspb.LogRecord{SeverityText: "INFO"})

	f.fail(failure{status: http.StatusServiceUnavailable, after: true})
	if err := w.Write(context.Background(), undated); err == nil {
		t.Fatal("first Write succeeded")
	}
	now = t0.Add(2 * time.Hour)
	if err := w.Write(context.Background(), undated); err != nil {
		t.Fatal(err)
	}
	other := logsOf(&logspb.LogRecord{SeverityText: "WARN"}, &logspb.LogRecord{})
	if err := w.Write(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	objs := f.objects(t)
	if len(objs) != 2 {
		t.Fatalf("%d objects; want 2", len(objs))
	}
	hours := map[string]bool{}
	for _, o := range objs {
		hours[o.parsed.date+" "+o.parsed.hour] = true
	}
	if !hours["2026-11-25 20"] || !hours["2026-11-25 22"] {
		t.Errorf("partitions %v; want the retried batch in hour 20 and the later one in hour 22", hours)
	}
}

// The memory of names is bounded and forgets the oldest first; a batch written is forgotten at
// once; the same content in another request is another batch.
func TestPendingNames(t *testing.T) {
	p := newPending(2)
	n := 0
	fresh := func() string { n++; return fmt.Sprint("name", n) }
	a, b, c := pendingKey{1, "x"}, pendingKey{2, "y"}, pendingKey{3, "z"}
	if got := p.name(a, fresh); got != "name1" {
		t.Fatalf("a = %s", got)
	}
	p.name(b, fresh)
	if got := p.name(a, fresh); got != "name1" {
		t.Errorf("a tried again = %s, want name1", got)
	}
	if got := p.name(pendingKey{9, "x"}, fresh); got == "name1" {
		t.Error("the same content in another request got the same name")
	}
	p.name(c, fresh) // forgets the oldest
	if len(p.names) != 2 || p.order.Len() != 2 {
		t.Errorf("holds %d (%d in order); want 2", len(p.names), p.order.Len())
	}
	p.done(c)
	if got := p.name(c, fresh); got == "name4" {
		t.Errorf("c after it was written kept its name %s", got)
	}
}
