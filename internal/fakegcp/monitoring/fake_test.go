package fakemonitoring

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/distribution"
	metricpb "google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const period = DefaultMinInterval

// start runs a fake with Google's sampling period and a real client of it.
func start(t *testing.T) (*Server, *monitoring.MetricClient) {
	t.Helper()
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c, err := monitoring.NewMetricClient(context.Background(),
		option.WithEndpoint(s.Addr()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

var t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

// series is a valid CUMULATIVE DOUBLE point of value v from t0 to end.
func series(v float64, end time.Time, labels ...string) *monitoringpb.TimeSeries {
	l := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return &monitoringpb.TimeSeries{
		Metric:     &metricpb.Metric{Type: "workload.googleapis.com/claude_code/cost/usage", Labels: l},
		Resource:   &monitoredres.MonitoredResource{Type: "global", Labels: map[string]string{"project_id": "p"}},
		MetricKind: metricpb.MetricDescriptor_CUMULATIVE,
		ValueType:  metricpb.MetricDescriptor_DOUBLE,
		Points: []*monitoringpb.Point{{
			Interval: &monitoringpb.TimeInterval{StartTime: timestamppb.New(t0), EndTime: timestamppb.New(end)},
			Value:    &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: v}},
		}},
	}
}

func create(c *monitoring.MetricClient, ts ...*monitoringpb.TimeSeries) error {
	return c.CreateTimeSeries(context.Background(), &monitoringpb.CreateTimeSeriesRequest{Name: "projects/p", TimeSeries: ts})
}

// Every rule on a single series refuses it with INVALID_ARGUMENT and a summary, writes
// nothing, and is reported as a violation.
func TestSeriesRules(t *testing.T) {
	end := t0.Add(time.Minute)
	cases := []struct {
		name   string
		change func(ts *monitoringpb.TimeSeries)
		want   string
	}{
		{"delta", func(ts *monitoringpb.TimeSeries) { ts.MetricKind = metricpb.MetricDescriptor_DELTA }, "metric kind DELTA not supported"},
		{"no kind", func(ts *monitoringpb.TimeSeries) { ts.MetricKind = 0 }, "metricKind had an invalid value"},
		{"prefix", func(ts *monitoringpb.TimeSeries) { ts.Metric.Type = "external.googleapis.com/x" }, "not under workload.googleapis.com/"},
		{"type segment", func(ts *monitoringpb.TimeSeries) { ts.Metric.Type = "workload.googleapis.com/claude_code.cost" }, `path segment "claude_code.cost"`},
		{"label key", func(ts *monitoringpb.TimeSeries) { ts.Metric.Labels["user.id"] = "u" }, `invalid key "user.id"`},
		{"long label key", func(ts *monitoringpb.TimeSeries) { ts.Metric.Labels[strings.Repeat("k", 101)] = "v" }, "at most 100 characters"},
		{"long label value", func(ts *monitoringpb.TimeSeries) { ts.Metric.Labels["k"] = strings.Repeat("v", 1025) }, "at most 1024 are allowed"},
		{"31 labels", func(ts *monitoringpb.TimeSeries) {
			for i := range 30 {
				ts.Metric.Labels[fmt.Sprintf("l%d", i)] = "v"
			}
		}, "31 labels; at most 30"},
		{"two points", func(ts *monitoringpb.TimeSeries) { ts.Points = append(ts.Points, ts.Points[0]) }, "Only one point can be written per TimeSeries per request"},
		{"no end", func(ts *monitoringpb.TimeSeries) { ts.Points[0].Interval.EndTime = nil }, "endTime is required"},
		{"empty interval", func(ts *monitoringpb.TimeSeries) { ts.Points[0].Interval.StartTime = timestamppb.New(end) }, "start time must be before the end time"},
		{"gauge interval", func(ts *monitoringpb.TimeSeries) { ts.MetricKind = metricpb.MetricDescriptor_GAUGE }, "start time must be equal to the end time"},
		{"value type", func(ts *monitoringpb.TimeSeries) { ts.ValueType = metricpb.MetricDescriptor_INT64 }, "not the series' value type INT64"},
		{"resource", func(ts *monitoringpb.TimeSeries) { ts.Resource.Type = "gce_instance" }, `resource.type had an invalid value of "gce_instance"`},
		{"project", func(ts *monitoringpb.TimeSeries) { ts.Resource.Labels["project_id"] = "q" }, `"q", not the request's project "p"`},
		{"distribution count", func(ts *monitoringpb.TimeSeries) {
			ts.ValueType = metricpb.MetricDescriptor_DISTRIBUTION
			ts.Points[0].Value = &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DistributionValue{DistributionValue: &distribution.Distribution{
				Count: 3, BucketCounts: []int64{1, 1},
				BucketOptions: &distribution.Distribution_BucketOptions{Options: &distribution.Distribution_BucketOptions_ExplicitBuckets{
					ExplicitBuckets: &distribution.Distribution_BucketOptions_Explicit{Bounds: []float64{1}},
				}},
			}}}
		}, "bucket counts add up to 2, not its count 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, cl := start(t)
			ts := series(1, end, "model", "opus")
			c.change(ts)
			err := create(cl, ts)
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), c.want) {
				t.Fatalf("CreateTimeSeries = %v; want INVALID_ARGUMENT saying %q", err, c.want)
			}
			if sum := summary(st); sum == nil || sum.GetTotalPointCount() != 1 || sum.GetSuccessPointCount() != 0 {
				t.Errorf("summary %v; want 1 point, none written", sum)
			}
			if len(s.Series()) != 0 || len(s.Violations()) != 1 {
				t.Errorf("%d series written and %d violations; want none and 1", len(s.Series()), len(s.Violations()))
			}
		})
	}
}

func summary(st *status.Status) *monitoringpb.CreateTimeSeriesSummary {
	for _, d := range st.Details() {
		if s, ok := d.(*monitoringpb.CreateTimeSeriesSummary); ok {
			return s
		}
	}
	return nil
}

// The rules between a series' points: in time order, a sampling period apart, and for
// CUMULATIVE a start time that moves only with a reset of the value.
func TestOrderRules(t *testing.T) {
	end := t0.Add(time.Minute)
	withStart := func(ts *monitoringpb.TimeSeries, start time.Time) *monitoringpb.TimeSeries {
		ts.Points[0].Interval.StartTime = timestamppb.New(start)
		return ts
	}
	cases := []struct {
		name string
		next *monitoringpb.TimeSeries
		want string // "" for accepted
	}{
		{"later", series(2, end.Add(period)), ""},
		{"same end", series(2, end), "older end time than the most recent point"},
		{"too soon", series(2, end.Add(period-time.Millisecond)), "written more frequently than the maximum sampling period"},
		{"went down", series(0.5, end.Add(period)), "went down without a new start time"},
		{"start moved", withStart(series(2, end.Add(period)), t0.Add(time.Second)), "changed from"},
		{"start earlier", withStart(series(2, end.Add(period)), t0.Add(-time.Second)), "older start time"},
		{"reset", withStart(series(0.5, end.Add(period)), end.Add(time.Second)), ""},
		{"reset overlapping", withStart(series(0.5, end.Add(period)), end.Add(-time.Second)), "before the end of its previous point"},
		{"other kind", func() *monitoringpb.TimeSeries {
			ts := series(2, end.Add(period), "model", "haiku")
			ts.MetricKind = metricpb.MetricDescriptor_GAUGE
			ts.Points[0].Interval.StartTime = nil
			return ts
		}(), "must be CUMULATIVE DOUBLE, but is GAUGE DOUBLE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, cl := start(t)
			if err := create(cl, series(1, end)); err != nil {
				t.Fatal(err)
			}
			err := create(cl, c.next)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CreateTimeSeries = %v; want it accepted", err)
				}
				if h := s.History(Key(c.next)); len(h) != 2 {
					t.Errorf("history of %d points; want 2", len(h))
				}
				return
			}
			if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), c.want) {
				t.Fatalf("CreateTimeSeries = %v; want INVALID_ARGUMENT saying %q", err, c.want)
			}
		})
	}
}

// In a request with a bad series the good ones are written; the error counts both.
func TestPartialWrite(t *testing.T) {
	s, cl := start(t)
	end := t0.Add(time.Minute)
	bad := series(1, end, "model", "bad")
	bad.MetricKind = metricpb.MetricDescriptor_DELTA
	err := create(cl, series(1, end, "model", "a"), bad, series(1, end, "model", "a"), series(1, end, "model", "b"))
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "timeSeries[1]") || !strings.Contains(st.Message(), "Duplicate TimeSeries") {
		t.Fatalf("CreateTimeSeries = %v; want INVALID_ARGUMENT naming timeSeries[1] and the duplicate", err)
	}
	sum := summary(st)
	if sum.GetTotalPointCount() != 4 || sum.GetSuccessPointCount() != 2 || len(sum.GetErrors()) != 2 {
		t.Errorf("summary %v; want 4 points, 2 written, 2 reasons", sum)
	}
	if n := len(s.Series()); n != 2 {
		t.Errorf("%d series written; want 2", n)
	}
}

// Requests over 200 series or to no project are refused whole.
func TestRequestRules(t *testing.T) {
	s, cl := start(t)
	var many []*monitoringpb.TimeSeries
	for i := range 201 {
		many = append(many, series(1, t0.Add(time.Minute), "n", fmt.Sprint(i)))
	}
	if err := create(cl, many...); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "a maximum of 200") {
		t.Errorf("201 series: %v; want INVALID_ARGUMENT", err)
	}
	err := cl.CreateTimeSeries(context.Background(), &monitoringpb.CreateTimeSeriesRequest{Name: "p", TimeSeries: many[:1]})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("name p: %v; want INVALID_ARGUMENT", err)
	}
	if len(s.Series()) != 0 || len(s.Requests()) != 2 {
		t.Errorf("%d series written, %d requests recorded; want 0 and 2", len(s.Series()), len(s.Requests()))
	}
}

// Errors on demand: FailNext's statuses for the next calls in order (nil lets one through),
// FailSeries for chosen series.
func TestFailOnDemand(t *testing.T) {
	s, cl := start(t)
	end := t0.Add(time.Minute)
	s.FailNext(nil, WithRetryDelay(status.New(codes.Unavailable, "down"), 2*time.Second))
	if err := create(cl, series(1, end)); err != nil {
		t.Fatalf("first call: %v", err)
	}
	err := create(cl, series(2, end.Add(period)))
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("second call: %v; want UNAVAILABLE", err)
	}
	if len(s.History(Key(series(0, end)))) != 1 {
		t.Error("a failed call wrote its point")
	}
	s.FailSeries(func(ts *monitoringpb.TimeSeries) *status.Status {
		if ts.GetMetric().GetLabels()["model"] == "x" {
			return status.New(codes.Internal, "transient")
		}
		return nil
	})
	err = create(cl, series(2, end.Add(period)), series(1, end, "model", "x"))
	if status.Code(err) != codes.Internal {
		t.Fatalf("call with a failing series: %v; want INTERNAL", err)
	}
	if len(s.History(Key(series(0, end)))) != 2 || len(s.Violations()) != 0 {
		t.Errorf("history %d points, violations %v; want the other series written, no violation", len(s.History(Key(series(0, end)))), s.Violations())
	}
	reqs := s.Requests()
	if len(reqs) != 3 || !proto.Equal(reqs[0].GetTimeSeries()[0], series(1, end)) {
		t.Errorf("requests recorded: %d; want 3, the first as sent", len(reqs))
	}
}
