// Package fakelogging is a test fake of Cloud Logging: a real gRPC server on loopback serving
// google.logging.v2.LoggingServiceV2 as the generated client library calls it. It records every
// WriteLogEntries request and the entries it accepted, refuses what breaks the API's documented
// limits with the status code Cloud Logging answers them with, rejects chosen entries in a
// partial success, and fails calls on demand, so that tests drive a writer and the delivery
// engine through the real client library.
//
// It is for tests only: it keeps everything in memory, de-duplicates nothing (Cloud Logging
// drops an entry whose insertId and timestamp it has seen; tests check insertIds themselves)
// and implements WriteLogEntries alone.
package fakelogging

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Server is a fake Cloud Logging service. Its methods are safe for concurrent use.
type Server struct {
	srv *grpc.Server
	lis net.Listener

	mu       sync.Mutex
	requests []*loggingpb.WriteLogEntriesRequest
	entries  []*loggingpb.LogEntry
	failures []*status.Status
	reject   func(*loggingpb.LogEntry) bool
	calls    int

	loggingpb.UnimplementedLoggingServiceV2Server
}

// New starts a fake on 127.0.0.1:0. Close stops it.
func New() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake logging: %w", err)
	}
	// gRPC's default 4 MiB receive limit would refuse a request before the fake can judge it
	// against Cloud Logging's own 10 MB limit, with a different code.
	s := &Server{srv: grpc.NewServer(grpc.MaxRecvMsgSize(4 * MaxRequestBytes)), lis: lis}
	loggingpb.RegisterLoggingServiceV2Server(s.srv, s)
	go s.srv.Serve(lis)
	return s, nil
}

// Start starts a fake for a test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Addr is the host:port to point a client at, in plaintext.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Close stops the server, cutting off calls in flight.
func (s *Server) Close() { s.srv.Stop() }

// FailNext makes the next n calls fail with st (which may carry details, such as RetryInfo):
// they are recorded in Requests, but nothing in them is checked or written. Calls queue up:
// FailNext(2, a) then FailNext(1, b) fails the next three calls with a, a, b. A nil st lets its
// calls through, so that FailNext(1, nil) then FailNext(1, a) fails the second call only.
func (s *Server) FailNext(n int, st *status.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, st)
	}
}

// RejectEntry sets a predicate choosing entries to refuse as Cloud Logging refuses an invalid
// entry: in a request with partial_success, that entry alone is reported in the partial errors
// and the others are written; without it, the whole request is refused. nil rejects none.
func (s *Server) RejectEntry(pred func(*loggingpb.LogEntry) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject = pred
}

// Requests returns every WriteLogEntries request received, failed or not, in order. The
// messages are the fake's own record: read them, do not change them.
func (s *Server) Requests() []*loggingpb.WriteLogEntriesRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Entries returns every entry written, in order, as Cloud Logging stores them: with the
// request's log name, resource and labels filled in where the entry has none of its own. The
// messages are the fake's own record: read them, do not change them.
func (s *Server) Entries() []*loggingpb.LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

// Reset forgets the requests and entries recorded so far, for a long-running test or a
// benchmark. Failures queued by FailNext and the RejectEntry predicate stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.entries, s.calls = nil, nil, 0
}

// Calls counts WriteLogEntries calls, including those that failed.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// WriteLogEntries implements the service.
func (s *Server) WriteLogEntries(ctx context.Context, req *loggingpb.WriteLogEntriesRequest) (*loggingpb.WriteLogEntriesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	// req was decoded for this call alone: keeping it is keeping a deep copy of what the
	// client sent. Nothing changes it from here on.
	s.requests = append(s.requests, req)
	if len(s.failures) > 0 {
		st := s.failures[0]
		s.failures = s.failures[1:]
		if st != nil {
			return nil, st.Err()
		}
	}
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	accepted := make([]*loggingpb.LogEntry, 0, len(req.GetEntries()))
	errs := map[int32]*rpcstatus.Status{}
	for i, e := range req.GetEntries() {
		stored := effective(req, e)
		if err := checkEntry(stored); err != nil {
			errs[int32(i)] = status.Convert(err).Proto()
			continue
		}
		if s.reject != nil && s.reject(stored) {
			errs[int32(i)] = status.New(codes.InvalidArgument, "log entry rejected").Proto()
			continue
		}
		accepted = append(accepted, stored)
	}
	if len(errs) > 0 {
		if !req.GetPartialSuccess() {
			// Without partial_success one bad entry refuses the whole request.
			for _, st := range errs {
				return nil, status.ErrorProto(st)
			}
		}
		st, err := status.New(codes.InvalidArgument, fmt.Sprintf("%d of %d log entries failed", len(errs), len(req.GetEntries()))).
			WithDetails(&loggingpb.WriteLogEntriesPartialErrors{LogEntryErrors: errs})
		if err != nil {
			return nil, status.Errorf(codes.Internal, "fake: %v", err)
		}
		if !req.GetDryRun() {
			s.entries = append(s.entries, accepted...)
		}
		return nil, st.Err()
	}
	if !req.GetDryRun() {
		s.entries = append(s.entries, accepted...)
	}
	return &loggingpb.WriteLogEntriesResponse{}, nil
}

// effective is e as Cloud Logging stores it: a copy with the request's defaults filled in.
func effective(req *loggingpb.WriteLogEntriesRequest, e *loggingpb.LogEntry) *loggingpb.LogEntry {
	out := proto.CloneOf(e)
	if out.LogName == "" {
		out.LogName = req.GetLogName()
	}
	if out.Resource == nil && req.GetResource() != nil {
		out.Resource = proto.CloneOf(req.GetResource())
	}
	for k, v := range req.GetLabels() {
		if _, ok := out.Labels[k]; !ok {
			if out.Labels == nil {
				out.Labels = map[string]string{}
			}
			out.Labels[k] = v
		}
	}
	return out
}
