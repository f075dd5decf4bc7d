package route

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"

	"github.com/prometheus/client_golang/prometheus/testutil"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// recorder is a Target that keeps what it is given, or refuses when full is set.
type recorder struct {
	name     string
	full     bool
	mu       sync.Mutex
	reserved int
	got      []telemetry.Request
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Reserve(size int) error {
	if r.full {
		return &telemetry.ThrottledError{Sink: r.name, Reason: "queue full"}
	}
	r.mu.Lock()
	r.reserved += size
	r.mu.Unlock()
	return nil
}
func (r *recorder) Unreserve(size int) {
	r.mu.Lock()
	r.reserved -= size
	r.mu.Unlock()
}
func (r *recorder) Put(_ context.Context, req telemetry.Request, size int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reserved -= size
	r.got = append(r.got, req)
	return nil
}

// upper is a Redactor that upper-cases every log body string, copy-on-write, and counts calls.
type upper struct {
	calls int
	fail  bool
}

func (u *upper) Redact(r telemetry.Request) (telemetry.Request, error) {
	u.calls++
	if u.fail {
		return telemetry.Request{}, errors.New("cannot finish")
	}
	if r.Logs == nil {
		return r, nil
	}
	out := proto.Clone(r.Logs).(*collogspb.ExportLogsServiceRequest)
	for _, rl := range out.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				lr.Body = &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: strings.ToUpper(lr.Body.GetStringValue())}}
			}
		}
	}
	return telemetry.Request{Logs: out}, nil
}

func load(t testing.TB, name string) telemetry.Request {
	t.Helper()
	p, err := capture.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Request
}

func newRouter(t *testing.T, routes []*config.Route, profiles map[string]Redactor, targets ...*recorder) (*Router, *admin.Metrics) {
	t.Helper()
	m := admin.NewTestMetrics()
	ts := map[string]Target{}
	for _, r := range targets {
		ts[r.name] = r
	}
	r, err := New(routes, profiles, ts, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return r, m
}

// names lists the record names in a request: event names, metric names per data point, span names.
func names(r telemetry.Request) []string {
	var out []string
	eachRecord(r, func(_ int, n recordName, _ attrs) { out = append(out, n.name) })
	return out
}

func TestUnredactedRouteSharesTheRequest(t *testing.T) {
	req := load(t, "01-prompt-pii-grpc/logs.grpc.pb")
	sink := &recorder{name: "audit"}
	r, m := newRouter(t, []*config.Route{{Name: "audit", Redaction: "none", Sinks: []string{"audit"}}}, nil, sink)
	if err := r.Consume(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 1 || sink.got[0].Logs != req.Logs {
		t.Fatalf("sink got %d requests; want the ingested request itself, uncopied", len(sink.got))
	}
	if got, want := testutil.ToFloat64(m.RoutedRecords.WithLabelValues("audit", "logs")), float64(req.Records()); got != want {
		t.Errorf("routed = %v, want %v", got, want)
	}
	if sink.reserved != 0 {
		t.Errorf("reservations left: %d bytes", sink.reserved)
	}
}

func TestSelection(t *testing.T) {
	logs := load(t, "01-prompt-pii-grpc/logs.grpc.pb")
	metrics := load(t, "01-prompt-pii-grpc/metrics.grpc.pb")
	traces := load(t, "01-prompt-pii-grpc/traces.grpc.pb")
	tests := []struct {
		name  string
		route config.Route
		req   telemetry.Request
		want  func(n string) bool // which record names must arrive; all others must not
		none  bool                // nothing at all arrives
	}{
		{
			name:  "event by bare name",
			route: config.Route{Names: []string{"user_prompt"}},
			req:   logs, want: func(n string) bool { return n == "user_prompt" },
		},
		{
			name:  "events by qualified glob",
			route: config.Route{Names: []string{"claude_code.tool_*"}},
			req:   logs, want: func(n string) bool { return strings.HasPrefix(n, "tool_") },
		},
		{
			name:  "metric glob",
			route: config.Route{Names: []string{"claude_code.*.usage"}},
			req:   metrics, want: func(n string) bool { return n == "claude_code.cost.usage" || n == "claude_code.token.usage" },
		},
		{
			name:  "data points by attribute",
			route: config.Route{Names: []string{"claude_code.token.usage"}, Match: map[string]config.Value{"type": {Text: "input"}}},
			req:   metrics, want: func(n string) bool { return n == "claude_code.token.usage" },
		},
		{
			name:  "resource attribute",
			route: config.Route{Match: map[string]config.Value{"service.name": {Text: "claude-code"}}},
			req:   traces, want: func(string) bool { return true },
		},
		{
			name:  "resource attribute mismatch",
			route: config.Route{Match: map[string]config.Value{"team": {Text: "finance"}}},
			req:   traces, none: true,
		},
		{
			name:  "drop spans by name",
			route: config.Route{Drop: []*config.DropRule{{Name: "claude_code.tool.blocked_on_user"}}},
			req:   traces, want: func(n string) bool { return n != "claude_code.tool.blocked_on_user" },
		},
		{
			name:  "drop events by attribute equality, integer written as text",
			route: config.Route{Drop: []*config.DropRule{{Attribute: "event.sequence", Equals: &config.Value{Text: "0", Kind: config.IntValue}}}},
			req:   logs, want: func(n string) bool { return true }, // checked by count below
		},
		{
			name:  "signals exclude",
			route: config.Route{Signals: []string{"metrics"}},
			req:   logs, none: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := proto.Clone(tt.req.Message())
			sink := &recorder{name: "s"}
			rc := tt.route
			rc.Name, rc.Redaction, rc.Sinks = "r", "none", []string{"s"}
			r, m := newRouter(t, []*config.Route{&rc}, nil, sink)
			if err := r.Consume(context.Background(), tt.req); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(before, tt.req.Message()) {
				t.Fatal("the ingested request was modified")
			}
			if tt.none {
				if len(sink.got) != 0 {
					t.Fatalf("got %d requests, want none", len(sink.got))
				}
				return
			}
			if len(sink.got) != 1 {
				t.Fatalf("got %d requests, want 1", len(sink.got))
			}
			all, got := names(tt.req), names(sink.got[0])
			var want []string
			for _, n := range all {
				if tt.want(n) {
					want = append(want, n)
				}
			}
			if rc.Match["type"].Text == "input" {
				if len(got) != 1 {
					t.Fatalf("got %v, want the one input-token data point", got)
				}
				return
			}
			if len(rc.Drop) > 0 && rc.Drop[0].Attribute == "event.sequence" {
				want = want[1:] // the record with sequence 0 is the first
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
			sig := tt.req.Signal().String()
			dropped := testutil.ToFloat64(m.DroppedRecords.WithLabelValues("", sig, reasonDropRule)) +
				testutil.ToFloat64(m.DroppedRecords.WithLabelValues("", sig, reasonNoRoute))
			if int(dropped) != len(all)-len(got) {
				t.Errorf("dropped = %v, want %d", dropped, len(all)-len(got))
			}
		})
	}
}

func TestOneCopyPerProfile(t *testing.T) {
	req := load(t, "01-prompt-pii-grpc/logs.grpc.pb")
	red := &upper{}
	a, b, audit := &recorder{name: "a"}, &recorder{name: "b"}, &recorder{name: "audit"}
	r, _ := newRouter(t, []*config.Route{
		{Name: "prompts", Names: []string{"user_prompt"}, Redaction: "default", Sinks: []string{"a"}},
		{Name: "everything", Redaction: "default", Sinks: []string{"a", "b"}},
		{Name: "audit", Redaction: "none", Sinks: []string{"audit"}},
	}, map[string]Redactor{"default": red}, a, b, audit)
	before := proto.Clone(req.Logs)
	if err := r.Consume(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if red.calls != 1 {
		t.Errorf("redactor ran %d times, want once for the profile", red.calls)
	}
	if !proto.Equal(before, req.Logs) {
		t.Fatal("ingested request modified")
	}
	if len(a.got) != 1 || len(b.got) != 1 || len(audit.got) != 1 {
		t.Fatalf("deliveries: a %d, b %d, audit %d; want one each", len(a.got), len(b.got), len(audit.got))
	}
	if a.got[0].Logs != b.got[0].Logs {
		t.Error("sinks of one profile with the same records should share one copy")
	}
	if a.got[0].Records() != req.Records() {
		t.Errorf("a got %d records (a record must reach a sink once, however many routes select it), want %d", a.got[0].Records(), req.Records())
	}
	body := a.got[0].Logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0].Body.GetStringValue()
	if body != strings.ToUpper(body) {
		t.Errorf("redacted sink got %q, not the redacted copy", body)
	}
	if audit.got[0].Logs != req.Logs {
		t.Error(`the "none" route should get the original`)
	}
}

func TestAllOrNothing(t *testing.T) {
	req := load(t, "01-prompt-pii-grpc/traces.grpc.pb")
	ok, full := &recorder{name: "ok"}, &recorder{name: "full", full: true}
	r, m := newRouter(t, []*config.Route{{Name: "both", Redaction: "none", Sinks: []string{"ok", "full"},
		Drop: []*config.DropRule{{Name: "claude_code.tool.blocked_on_user"}}}}, nil, ok, full)
	err := r.Consume(context.Background(), req)
	var te *telemetry.ThrottledError
	if !errors.As(err, &te) || te.Sink != "full" {
		t.Fatalf("err = %v, want a ThrottledError from sink full", err)
	}
	if len(ok.got) != 0 || ok.reserved != 0 {
		t.Errorf("sink ok kept %d requests and %d reserved bytes; a refused request must go nowhere", len(ok.got), ok.reserved)
	}
	if got := testutil.ToFloat64(m.RoutedRecords.WithLabelValues("both", "traces")); got != 0 {
		t.Errorf("routed = %v for a refused request", got)
	}
	if got := testutil.ToFloat64(m.DroppedRecords.WithLabelValues("", "traces", reasonDropRule)); got != 0 {
		t.Errorf("dropped{drop_rule} = %v for a refused request, which the client will send again", got)
	}
}

func TestRedactionFailsClosed(t *testing.T) {
	req := load(t, "01-prompt-pii-grpc/logs.grpc.pb")
	gcp, audit := &recorder{name: "gcp"}, &recorder{name: "audit"}
	r, m := newRouter(t, []*config.Route{
		{Name: "gcp", Redaction: "default", Sinks: []string{"gcp"}},
		{Name: "audit", Redaction: "none", Sinks: []string{"audit"}},
	}, map[string]Redactor{"default": &upper{fail: true}}, gcp, audit)
	if err := r.Consume(context.Background(), req); err != nil {
		t.Fatalf("a redaction failure is not the client's to retry: %v", err)
	}
	if len(gcp.got) != 0 {
		t.Fatal("redacted sink got data its profile could not redact")
	}
	if len(audit.got) != 1 {
		t.Fatal("unredacted sink lost its data")
	}
	if got := testutil.ToFloat64(m.DroppedRecords.WithLabelValues("", "logs", reasonRedactionFailed)); int(got) != req.Records() {
		t.Errorf("dropped{redaction_failed} = %v, want %d", got, req.Records())
	}
}

func TestUndefinedReferences(t *testing.T) {
	m := admin.NewTestMetrics()
	if _, err := New([]*config.Route{{Name: "r", Sinks: []string{"nope"}, Redaction: "none"}}, nil, map[string]Target{}, m, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), `sink "nope"`) {
		t.Errorf("missing sink: err = %v", err)
	}
	if _, err := New([]*config.Route{{Name: "r", Sinks: []string{"s"}}}, nil, map[string]Target{"s": &recorder{name: "s"}}, m, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), `profile "default"`) {
		t.Errorf("missing profile: err = %v", err)
	}
}

func TestFilterKeepsEveryField(t *testing.T) {
	req := load(t, "01-prompt-pii-grpc/metrics.grpc.pb")
	n := req.Records()
	all := newBitset(n)
	for i := range n {
		all.set(i)
	}
	got := filter(req, all)
	if got.Metrics == req.Metrics {
		t.Fatal("filter should build new containers")
	}
	if !proto.Equal(got.Metrics, req.Metrics) {
		t.Error("filtering with every record kept changed the request")
	}
	none := filter(req, newBitset(n))
	if none.Records() != 0 || len(none.Metrics.ResourceMetrics) != 0 {
		t.Errorf("filtering with nothing kept left %d records", none.Records())
	}
}

// picky is a recorder that takes one signal only, as a Cloud Trace sink does.
type picky struct {
	*recorder
	sig telemetry.Signal
}

func (p picky) Takes(s telemetry.Signal) bool { return s == p.sig }

// One route to sinks that each take one signal gives each only its own; a signal none of them
// takes is the route's no longer, so it counts as not routed.
func TestSinksGetOnlyTheSignalsTheyTake(t *testing.T) {
	logsSink := picky{&recorder{name: "gcp_logs"}, telemetry.Logs}
	traceSink := picky{&recorder{name: "gcp_traces"}, telemetry.Traces}
	m := admin.NewTestMetrics()
	r, err := New([]*config.Route{{Name: "gcp", Sinks: []string{"gcp_logs", "gcp_traces"}}},
		map[string]Redactor{config.DefaultProfile: &upper{}},
		map[string]Target{"gcp_logs": logsSink, "gcp_traces": traceSink}, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"logs", "metrics", "traces"} {
		if err := r.Consume(context.Background(), load(t, "01-prompt-pii-grpc/"+f+".grpc.pb")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		sink *recorder
		want telemetry.Signal
	}{{logsSink.recorder, telemetry.Logs}, {traceSink.recorder, telemetry.Traces}} {
		if len(c.sink.got) != 1 || c.sink.got[0].Signal() != c.want {
			var got []string
			for _, g := range c.sink.got {
				got = append(got, g.Signal().String())
			}
			t.Errorf("%s got %v; want one %s request", c.sink.name, got, c.want)
		}
	}
	metrics := load(t, "01-prompt-pii-grpc/metrics.grpc.pb")
	if got, want := testutil.ToFloat64(m.DroppedRecords.WithLabelValues("", "metrics", reasonNoRoute)), float64(metrics.Records()); got != want {
		t.Errorf("metrics dropped as no_route = %v, want %v", got, want)
	}
	if got := testutil.ToFloat64(m.RoutedRecords.WithLabelValues("gcp", "metrics")); got != 0 {
		t.Errorf("metrics routed by gcp = %v, want 0", got)
	}
}
