// Package faketrace is a test fake of Google Cloud Trace: a real gRPC server on a loopback
// port implementing the TraceService of the Cloud Trace API v2 (BatchWriteSpans, CreateSpan),
// for tests that drive the real client library against it.
//
// It records every span it accepts, refuses with INVALID_ARGUMENT what Cloud Trace documents
// it does not take (malformed names, more than 32 attributes, a display name over 128 bytes,
// and the other limits in limits.go), so a test fails when a writer breaks them, and fails
// calls on demand (FailNext) so tests can take a writer and the delivery engine through an
// outage.
//
// It is for tests only: it keeps everything in memory, checks no credentials and stores no
// traces for reading back through the API.
package faketrace

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/trace/apiv2/tracepb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	tracepb.UnimplementedTraceServiceServer

	addr string
	srv  *grpc.Server
	done chan struct{} // closed when Serve has returned

	mu         sync.Mutex
	maxRequest int
	failures   []error // returned, in order, by the next calls
	calls      int
	requests   []*tracepb.BatchWriteSpansRequest
	spans      []*tracepb.Span
	refusals   []string
}

// Start serves a fake on 127.0.0.1:0 until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatalf("faketrace: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// New serves a fake on 127.0.0.1:0 until Close.
func New() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{addr: ln.Addr().String(), maxRequest: MaxRequestBytes, done: make(chan struct{})}
	// The server's own receive limit is raised well above the API's, so that a request too
	// large for Cloud Trace reaches the check that answers as Cloud Trace does.
	s.srv = grpc.NewServer(grpc.MaxRecvMsgSize(4 * MaxRequestBytes))
	tracepb.RegisterTraceServiceServer(s.srv, s)
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server, ending calls under way. It is safe to call more than once.
func (s *Server) Close() {
	s.srv.Stop()
	<-s.done
}

// Addr is the host:port the fake listens on, for a client's endpoint.
func (s *Server) Addr() string { return s.addr }

// SetMaxRequestBytes changes the request size the fake refuses above (MaxRequestBytes until
// then), to show that a writer splits what it sends at its own, smaller, cap.
func (s *Server) SetMaxRequestBytes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxRequest = n
}

// FailNext makes the next n calls fail with code instead of being served; with retryAfter > 0
// the status carries a RetryInfo asking for that delay, as Google's services do when they
// throttle. Failures queue up: FailNext(2, Unavailable, 0) then FailNext(1, InvalidArgument, 0)
// fails three calls in that order. A failed call records nothing.
func (s *Server) FailNext(n int, code codes.Code, retryAfter time.Duration) {
	st := status.New(code, fmt.Sprintf("faketrace: injected %s", code))
	if retryAfter > 0 {
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); err == nil {
			st = d
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, st.Err())
	}
}

// Calls counts every call received: served, refused or failed on demand.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Requests returns copies of the BatchWriteSpans requests accepted, in arrival order.
func (s *Server) Requests() []*tracepb.BatchWriteSpansRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*tracepb.BatchWriteSpansRequest, len(s.requests))
	for i, r := range s.requests {
		out[i] = proto.CloneOf(r)
	}
	return out
}

// Spans returns copies of every span accepted (by BatchWriteSpans or CreateSpan), in arrival
// order. A span written twice is there twice: Cloud Trace would keep the last.
func (s *Server) Spans() []*tracepb.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*tracepb.Span, len(s.spans))
	for i, sp := range s.spans {
		out[i] = proto.CloneOf(sp)
	}
	return out
}

// Refusals returns why each refused call was refused (INVALID_ARGUMENT for breaking a limit),
// in order; failures injected by FailNext are not refusals.
func (s *Server) Refusals() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refusals...)
}

// BatchWriteSpans checks the request against Cloud Trace's limits and records its spans.
func (s *Server) BatchWriteSpans(_ context.Context, req *tracepb.BatchWriteSpansRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(); err != nil {
		return nil, err
	}
	if err := s.refuse(checkBatch(req, s.maxRequest)); err != nil {
		return nil, err
	}
	c := proto.CloneOf(req)
	s.requests = append(s.requests, c)
	s.spans = append(s.spans, c.Spans...)
	return &emptypb.Empty{}, nil
}

// CreateSpan checks one span against Cloud Trace's limits and records it.
func (s *Server) CreateSpan(_ context.Context, sp *tracepb.Span) (*tracepb.Span, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(); err != nil {
		return nil, err
	}
	project, _, _ := parseSpanName(sp.GetName())
	if err := s.refuse(checkSpan(sp, project)); err != nil {
		return nil, err
	}
	c := proto.CloneOf(sp)
	s.spans = append(s.spans, c)
	return proto.CloneOf(c), nil
}

// begin counts a call and returns the failure queued for it, if any. s.mu is held.
func (s *Server) begin() error {
	s.calls++
	if len(s.failures) == 0 {
		return nil
	}
	err := s.failures[0]
	s.failures = s.failures[1:]
	return err
}

// refuse turns a broken limit into the INVALID_ARGUMENT Cloud Trace answers with, and keeps
// the reason for Refusals. s.mu is held.
func (s *Server) refuse(problem error) error {
	if problem == nil {
		return nil
	}
	s.refusals = append(s.refusals, problem.Error())
	return status.Error(codes.InvalidArgument, problem.Error())
}
