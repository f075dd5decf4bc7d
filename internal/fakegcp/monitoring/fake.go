// Package fakemonitoring is a test fake of Cloud Monitoring's MetricService: a real gRPC
// server on 127.0.0.1:0, started in-process, that takes CreateTimeSeries requests the way
// Google does for user-defined metrics (workload.googleapis.com/, custom.googleapis.com/). It
// records every request, keeps the points it accepted per time series, refuses what Google
// refuses with the code Google returns (INVALID_ARGUMENT, with a CreateTimeSeriesSummary when
// only some series failed, the others being written), and fails calls or series on demand so
// that tests exercise a writer's retries.
//
// The rules it enforces, each a documented limit of the API or a rule of this gateway's
// metrics: at most 200 series per request and exactly one point per series, each series once
// per request; metric kind GAUGE or CUMULATIVE (never DELTA, which Google refuses for these
// metrics; the fake refuses it for distributions too, which this gateway never writes); a
// metric type under an accepted prefix whose path segments match [a-z][a-z0-9_]*; at most 30
// labels with keys matching [a-z][a-z0-9_]* (at most 100 characters) and values of at most
// 1024 bytes; a generic_node or global resource of the request's project; an end time, and
// for GAUGE a start time equal to it or none, for CUMULATIVE one before it; a metric kind and
// value type that stay those of the metric's first write (its auto-created descriptor);
// distributions whose bucket counts add up to their count; and per series, points in time
// order (each end time later than the last), no closer together than the sampling period
// (Google: 5 s, "written more frequently than the maximum sampling period"), and for
// CUMULATIVE a start time that stays put unless the value resets, and a value that never
// goes down without a new start time.
//
// It is for tests only, of this repository's sinks and of the gateway end to end; it is not
// an emulator of the rest of Cloud Monitoring (no descriptors to list, no queries, no
// retention) and implements no other method.
package fakemonitoring

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// MaxSeriesPerRequest is the number of time series one CreateTimeSeries request may carry.
const MaxSeriesPerRequest = 200

// DefaultMinInterval is Google's sampling period for user-defined metrics: a series takes at
// most one point every 5 seconds.
const DefaultMinInterval = 5 * time.Second

// Options configure a Server.
type Options struct {
	// MinInterval is the sampling period: a series' points must end at least this far apart.
	// Zero means DefaultMinInterval; tests of a writer pass what the writer was given.
	MinInterval time.Duration
	// Prefixes are the metric type prefixes accepted; nil means workload.googleapis.com/ and
	// custom.googleapis.com/.
	Prefixes []string
}

// Point is one point the fake accepted for a series.
type Point struct {
	Series   *monitoringpb.TimeSeries // the series as written, with its one point
	Start    time.Time                // zero when the point has no start time
	End      time.Time
	Received time.Time // when the request carrying it arrived
}

// Server is a running fake MetricService.
type Server struct {
	monitoringpb.UnimplementedMetricServiceServer

	opts Options
	lis  net.Listener
	srv  *grpc.Server
	done chan struct{}

	mu          sync.Mutex
	requests    []*monitoringpb.CreateTimeSeriesRequest
	failNext    []*status.Status
	failSeries  func(*monitoringpb.TimeSeries) *status.Status
	history     map[string][]Point
	descriptors map[string]descriptor // metric type -> kind and value type of its first write
	violations  []string
}

// descriptor is what the first write of a metric type fixed, as Google's auto-created
// descriptor would.
type descriptor struct {
	kind, valueType int32
}

// Start listens on 127.0.0.1:0 and serves until Close.
func Start(o Options) (*Server, error) {
	if o.MinInterval == 0 {
		o.MinInterval = DefaultMinInterval
	}
	if o.MinInterval < 0 {
		return nil, fmt.Errorf("fakemonitoring: negative sampling period %s", o.MinInterval)
	}
	if o.Prefixes == nil {
		o.Prefixes = []string{"workload.googleapis.com/", "custom.googleapis.com/"}
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fakemonitoring: %w", err)
	}
	s := &Server{
		opts:        o,
		lis:         lis,
		srv:         grpc.NewServer(),
		done:        make(chan struct{}),
		history:     map[string][]Point{},
		descriptors: map[string]descriptor{},
	}
	monitoringpb.RegisterMetricServiceServer(s.srv, s)
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			panic(fmt.Sprintf("fakemonitoring: serve: %v", err))
		}
	}()
	return s, nil
}

// Addr is the host:port the server listens on, for gcp.Options.Endpoint.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Close stops the server, cutting calls in flight. It is safe to call twice.
func (s *Server) Close() {
	s.srv.Stop()
	<-s.done
}

// FailNext makes the next len(sts) calls fail with these statuses, in order, before the fake
// looks at them (nothing is written); a nil status lets its call through. Add RetryInfo with
// status.WithDetails to ask the caller to wait.
func (s *Server) FailNext(sts ...*status.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, sts...)
}

// WithRetryDelay adds RetryInfo asking the caller to wait d to st, for FailNext.
func WithRetryDelay(st *status.Status, d time.Duration) *status.Status {
	withInfo, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	if err != nil {
		panic(fmt.Sprintf("fakemonitoring: %v", err))
	}
	return withInfo
}

// FailSeries makes every later call refuse each series for which fn returns a status, as a
// partial failure: the other series are written. nil turns it off.
func (s *Server) FailSeries(fn func(*monitoringpb.TimeSeries) *status.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failSeries = fn
}

// Requests returns copies of every request received, in order, failed ones included.
func (s *Server) Requests() []*monitoringpb.CreateTimeSeriesRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*monitoringpb.CreateTimeSeriesRequest, len(s.requests))
	for i, r := range s.requests {
		out[i] = proto.Clone(r).(*monitoringpb.CreateTimeSeriesRequest)
	}
	return out
}

// Series returns a copy of the latest accepted point of every series, by Key.
func (s *Server) Series() map[string]*monitoringpb.TimeSeries {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*monitoringpb.TimeSeries, len(s.history))
	for k, h := range s.history {
		out[k] = proto.Clone(h[len(h)-1].Series).(*monitoringpb.TimeSeries)
	}
	return out
}

// History returns copies of the points accepted for the series with this Key, oldest first.
func (s *Server) History(key string) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.history[key]
	out := make([]Point, len(h))
	for i, p := range h {
		p.Series = proto.Clone(p.Series).(*monitoringpb.TimeSeries)
		out[i] = p
	}
	return out
}

// Violations returns the reason of every refusal the fake made on its own (a rule broken),
// not those asked for with FailNext or FailSeries: a test of a well-behaved writer expects
// none.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// CreateTimeSeries implements the MetricService method.
func (s *Server) CreateTimeSeries(_ context.Context, req *monitoringpb.CreateTimeSeriesRequest) (*emptypb.Empty, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, proto.Clone(req).(*monitoringpb.CreateTimeSeriesRequest))
	if len(s.failNext) > 0 {
		st := s.failNext[0]
		s.failNext = s.failNext[1:]
		if st != nil {
			return nil, st.Err()
		}
	}
	project, err := s.checkRequest(req)
	if err != nil {
		s.violations = append(s.violations, err.Error())
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	var failed []seriesError
	seen := make(map[string]bool, len(req.GetTimeSeries()))
	for i, ts := range req.GetTimeSeries() {
		if s.failSeries != nil {
			if st := s.failSeries(ts); st != nil {
				failed = append(failed, seriesError{index: i, status: st})
				continue
			}
		}
		key := Key(ts)
		if seen[key] {
			failed = append(failed, s.violation(i, "Field timeSeries[%d] had an invalid value: Duplicate TimeSeries encountered. Only one point can be written per TimeSeries per request.", i))
			continue
		}
		seen[key] = true
		if err := s.checkSeries(ts, project); err != nil {
			failed = append(failed, s.violation(i, "%s", err))
			continue
		}
		s.accept(key, ts, now)
	}
	if len(failed) > 0 {
		return nil, partialFailure(len(req.GetTimeSeries()), failed)
	}
	return &emptypb.Empty{}, nil
}

// violation records a rule the writer broke, for Violations, and the refusal of its series.
func (s *Server) violation(index int, format string, args ...any) seriesError {
	msg := fmt.Sprintf(format, args...)
	s.violations = append(s.violations, msg)
	return seriesError{index: index, status: status.New(codes.InvalidArgument, msg)}
}

// accept stores an accepted point and fixes its metric's descriptor on its first write.
func (s *Server) accept(key string, ts *monitoringpb.TimeSeries, now time.Time) {
	typ := ts.GetMetric().GetType()
	if _, ok := s.descriptors[typ]; !ok {
		s.descriptors[typ] = descriptor{kind: int32(ts.GetMetricKind()), valueType: int32(ts.GetValueType())}
	}
	iv := ts.GetPoints()[0].GetInterval()
	p := Point{
		Series:   proto.Clone(ts).(*monitoringpb.TimeSeries),
		End:      iv.GetEndTime().AsTime(),
		Received: now,
	}
	if iv.GetStartTime() != nil {
		p.Start = iv.GetStartTime().AsTime()
	}
	s.history[key] = append(s.history[key], p)
}
