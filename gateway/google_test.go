package gateway

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"claude-otel-gw/config"
	"claude-otel-gw/internal/capture"
	fakelogging "claude-otel-gw/internal/fakegcp/logging"
	fakemonitoring "claude-otel-gw/internal/fakegcp/monitoring"
	faketrace "claude-otel-gw/internal/fakegcp/trace"
	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// The seed's setup end to end: every captured request replayed twice through the gateway, to
// Cloud Logging, Monitoring and Trace (redacted, blocked_on_user spans dropped) and to a GCS
// audit bucket (unredacted), each a fake of the Google service behind the real client library.
// Logging gets every record, Trace every span but the dropped ones, Monitoring cumulative series
// that grow between the replays with stable start times and never a DELTA, GCS every record in
// full fidelity in partitioned objects; nothing unredacted reaches a redacted sink.
func TestGoogleDestinations(t *testing.T) {
	payloads, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	logs := fakelogging.Start(t)
	traces := faketrace.Start(t)
	const interval = 100 * time.Millisecond
	mon, err := fakemonitoring.Start(fakemonitoring.Options{MinInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mon.Close)
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	gcs.CreateBucket("acme-claude-audit")
	gcsHTTP := httptest.NewServer(gcs.HTTPHandler())
	t.Cleanup(func() { gcsHTTP.Close(); gcs.Stop() })

	dir := t.TempDir()
	cfg := loopbackConfig(t, dir, fmt.Sprintf(`
[[route]]
name = "gcp"
sinks = ["gcp_logs", "gcp_metrics", "gcp_traces"]
[[route.drop]]
name = "claude_code.tool.blocked_on_user"

[[route]]
name = "audit"
redaction = "none"
sinks = ["audit"]

[sink.audit]
type = "gcs"
project = "acme-prod"
bucket = "acme-claude-audit"
endpoint = %q
insecure = true
kms_key = "projects/acme-prod/locations/us/keyRings/claude/cryptoKeys/audit"
[sink.audit.batch]
max_wait = "50ms"

[sink.gcp_logs]
type = "cloud_logging"
project = "acme-prod"
endpoint = %q
insecure = true
node_id = "dev-laptop"

[sink.gcp_metrics]
type = "cloud_monitoring"
project = "acme-prod"
endpoint = %q
insecure = true
node_id = "dev-laptop"

[sink.gcp_traces]
type = "cloud_trace"
project = "acme-prod"
endpoint = %q
insecure = true
`, gcsHTTP.URL+"/storage/v1/", logs.Addr(), mon.Addr(), traces.Addr()))
	// Cloud Monitoring's 5s sampling period, shortened for the test on both sides (the config
	// refuses less than 5s; the writer takes what it is given).
	cfg.Sinks["gcp_metrics"].WriteInterval = config.Duration(interval)
	g := start(t, cfg)
	c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	sent := map[telemetry.Signal]int{}
	blocked := 0
	for _, p := range payloads {
		sent[p.Signal] += p.Request.Records()
		if p.Signal == telemetry.Traces {
			blocked += countSpans(p.Request, "claude_code.tool.blocked_on_user")
		}
	}
	replay := func() {
		t.Helper()
		for _, p := range payloads {
			if err := c.Send(ctx, p); err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
		}
	}
	want := deltaTotals(payloads)

	replay()
	waitFor(t, "every log entry, span and metric of the first replay", func() bool {
		return len(logs.Entries()) == sent[telemetry.Logs] && len(traces.Spans()) == sent[telemetry.Traces]-blocked &&
			totalsMatch(mon, want, 1) == nil
	})
	first := mon.Series()

	replay()
	waitFor(t, "every log entry, span and metric of the second replay", func() bool {
		return len(logs.Entries()) == 2*sent[telemetry.Logs] && len(traces.Spans()) == 2*(sent[telemetry.Traces]-blocked) &&
			totalsMatch(mon, want, 2) == nil
	})
	if err := g.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// Cloud Logging: one entry per record, in the configured log, on the machine's resource.
	for _, e := range logs.Entries() {
		if e.LogName != "projects/acme-prod/logs/claude_code" || e.Resource.GetLabels()["node_id"] != "dev-laptop" {
			t.Fatalf("entry in %q on %v", e.LogName, e.Resource)
		}
	}
	if len(logs.Entries()) != 2*sent[telemetry.Logs] {
		t.Errorf("Cloud Logging has %d entries, want %d", len(logs.Entries()), 2*sent[telemetry.Logs])
	}

	// Cloud Trace: every span but the dropped ones, twice.
	for _, s := range traces.Spans() {
		if s.GetDisplayName().GetValue() == "claude_code.tool.blocked_on_user" {
			t.Fatalf("a blocked_on_user span reached Cloud Trace: %s", s.Name)
		}
	}
	if got, want := len(traces.Spans()), 2*(sent[telemetry.Traces]-blocked); got != want {
		t.Errorf("Cloud Trace has %d spans, want %d (%d dropped as blocked_on_user)", got, want, 2*blocked)
	}

	// Cloud Monitoring: never a DELTA, start times stable, every series grew or stayed.
	if v := mon.Violations(); len(v) > 0 {
		t.Errorf("the fake refused writes: %q", v)
	}
	for _, r := range mon.Requests() {
		for _, ts := range r.TimeSeries {
			if ts.MetricKind == metric.MetricDescriptor_DELTA {
				t.Fatalf("a DELTA series was written: %s", ts.Metric.Type)
			}
		}
	}
	second := mon.Series()
	grew := 0
	for key, before := range first {
		after := second[key]
		if after == nil {
			t.Errorf("series %s vanished", key)
			continue
		}
		if !proto.Equal(before.Points[0].Interval.StartTime, after.Points[0].Interval.StartTime) && after.MetricKind == metric.MetricDescriptor_CUMULATIVE {
			t.Errorf("series %s: start time moved from %v to %v", key, before.Points[0].Interval.StartTime.AsTime(), after.Points[0].Interval.StartTime.AsTime())
		}
		if value(after) < value(before) {
			t.Errorf("series %s went down from %v to %v", key, value(before), value(after))
		}
		if value(after) > value(before) {
			grew++
		}
	}
	if grew == 0 {
		t.Error("no series grew between the replays")
	}
	if err := totalsMatch(mon, want, 2); err != nil {
		t.Error(err)
	}

	// GCS: every record, unredacted, in objects named by signal, date and hour.
	objs, _, err := gcs.ListObjects("acme-claude-audit", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^claude-code/signal=(logs|metrics|traces)/date=\d{4}-\d{2}-\d{2}/hour=\d{2}/[A-Za-z0-9._-]+-[0-9a-f]+\.jsonl\.gz$`)
	archived := map[telemetry.Signal]int{}
	var raw bytes.Buffer
	for _, o := range objs {
		m := name.FindStringSubmatch(o.Name)
		if m == nil {
			t.Errorf("object %q is not named <prefix>/signal=/date=/hour=/<host>-<id>.jsonl.gz", o.Name)
			continue
		}
		sig, _ := telemetry.ParseSignal(m[1])
		obj, err := gcs.GetObject("acme-claude-audit", o.Name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(obj.Content))
		if err != nil {
			t.Fatalf("%s: %v", o.Name, err)
		}
		content, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", o.Name, err)
		}
		raw.Write(content)
		sc := bufio.NewScanner(bytes.NewReader(content))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			r := telemetry.Empty(sig)
			if err := otlpjson.Unmarshal(sc.Bytes(), r.Message()); err != nil {
				t.Fatalf("%s: a line is not OTLP/JSON: %v", o.Name, err)
			}
			archived[sig] += r.Records()
		}
	}
	for _, sig := range telemetry.Signals {
		if archived[sig] != 2*sent[sig] {
			t.Errorf("GCS holds %d %s records, want %d", archived[sig], sig, 2*sent[sig])
		}
	}
	for _, s := range capture.Secrets {
		if !bytes.Contains(raw.Bytes(), []byte(s)) && !bytes.Contains(raw.Bytes(), []byte(jsonEscape(s))) {
			t.Errorf("the audit archive lacks %q: it must be full fidelity", s)
		}
	}

	// Nothing unredacted in what went to the redacted sinks.
	var redacted strings.Builder
	for _, r := range logs.Requests() {
		redacted.WriteString(protojson.Format(r))
	}
	for _, r := range traces.Requests() {
		redacted.WriteString(protojson.Format(r))
	}
	for _, r := range mon.Requests() {
		redacted.WriteString(protojson.Format(r))
	}
	for _, s := range capture.Secrets {
		if strings.Contains(redacted.String(), s) || strings.Contains(redacted.String(), jsonEscape(s)) {
			t.Errorf("%q reached a redacted Google sink", s)
		}
	}
	if !strings.Contains(redacted.String(), "[REDACTED:email]") {
		t.Error("no email mask in what reached Cloud Logging")
	}
}

func countSpans(r telemetry.Request, name string) int {
	n := 0
	for _, rs := range r.Traces.GetResourceSpans() {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				if s.Name == name {
					n++
				}
			}
		}
	}
	return n
}

// totals are, per metric name, what the sums of the captured requests add up to: the DELTA
// points' sum (which doubles with each replay) and the latest value of each CUMULATIVE source
// (which a replay does not change).
type totals struct{ delta, cumulative map[string]float64 }

func deltaTotals(payloads []capture.Payload) totals {
	t := totals{delta: map[string]float64{}, cumulative: map[string]float64{}}
	type source struct {
		name, labels string
		start        uint64
	}
	latest := map[source]*metricspb.NumberDataPoint{}
	for _, p := range payloads {
		if p.Signal != telemetry.Metrics {
			continue
		}
		for _, rm := range p.Request.Metrics.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					sum := m.GetSum()
					if sum == nil || !sum.IsMonotonic {
						continue
					}
					for _, dp := range sum.DataPoints {
						if sum.AggregationTemporality == metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA {
							t.delta[m.Name] += number(dp)
							continue
						}
						k := source{m.Name, fmt.Sprint(dp.Attributes), dp.StartTimeUnixNano}
						if old := latest[k]; old == nil || dp.TimeUnixNano > old.TimeUnixNano {
							latest[k] = dp
						}
					}
				}
			}
		}
	}
	for k, dp := range latest {
		t.cumulative[k.name] += number(dp)
	}
	return t
}

func number(dp *metricspb.NumberDataPoint) float64 {
	if _, ok := dp.Value.(*metricspb.NumberDataPoint_AsInt); ok {
		return float64(dp.GetAsInt())
	}
	return dp.GetAsDouble()
}

// totalsMatch checks that the latest written points of each metric add up to replays times the
// DELTA sums plus the latest CUMULATIVE values.
func totalsMatch(mon *fakemonitoring.Server, want totals, replays int) error {
	got := map[string]float64{}
	for _, ts := range mon.Series() {
		got[ts.Metric.Type] += value(ts)
	}
	for name := range want.delta {
		typ := "workload.googleapis.com/" + strings.ReplaceAll(name, ".", "/")
		w := float64(replays)*want.delta[name] + want.cumulative[name]
		if math.Abs(got[typ]-w) > 1e-9*math.Max(1, math.Abs(w)) {
			return fmt.Errorf("%s totals %v, want %v", typ, got[typ], w)
		}
	}
	return nil
}

func value(ts *monitoringpb.TimeSeries) float64 {
	v := ts.Points[0].Value
	if d := v.GetDistributionValue(); d != nil {
		return float64(d.Count)
	}
	if _, ok := v.Value.(*monitoringpb.TypedValue_Int64Value); ok {
		return float64(v.GetInt64Value())
	}
	return v.GetDoubleValue()
}
