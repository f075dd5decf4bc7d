package cloudlogging

import (
	"strings"
	"testing"
	"time"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"claude-otel-gw/sinks"
)

// Each Write is one attempt: whatever Cloud Logging answers, the library does not call again
// by itself, and the error tells the engine what to do: retry (after the delay Cloud Logging
// asked for, if it asked), or dead-letter the data it refused.
func TestWriteErrors(t *testing.T) {
	retryInfo := func(st *status.Status, d time.Duration) *status.Status {
		st, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	badRequest := func() *status.Status {
		st, err := status.New(codes.InvalidArgument, "bad log entry").
			WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "entries[0]"}}})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	tests := []struct {
		name      string
		st        *status.Status
		permanent bool
		delay     time.Duration // asked for; 0: none
		hint      string        // in the message
	}{
		{name: "unavailable", st: status.New(codes.Unavailable, "service unavailable")},
		{name: "internal", st: status.New(codes.Internal, "internal error")},
		{name: "deadline exceeded", st: status.New(codes.DeadlineExceeded, "deadline")},
		{name: "quota with retry info", st: retryInfo(status.New(codes.ResourceExhausted, "quota exceeded"), 3*time.Second), delay: 3 * time.Second},
		{name: "permission denied", st: status.New(codes.PermissionDenied, "logging.logEntries.create denied"), hint: "IAM"},
		{name: "unauthenticated", st: status.New(codes.Unauthenticated, "no credentials"), hint: "credentials"},
		{name: "project not found", st: status.New(codes.NotFound, "project p not found"), hint: "project"},
		{name: "invalid argument", st: status.New(codes.InvalidArgument, "bad request"), permanent: true},
		{name: "invalid argument with other details", st: badRequest(), permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.fake.FailNext(1, tt.st)
			err := h.write(t, logsRequest(event("user_prompt", 1, str("prompt", "call me at 555-0100"))))
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if calls := h.fake.Calls(); calls != 1 {
				t.Errorf("%d calls: the library retried by itself", calls)
			}
			if got := sinks.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if d, ok := sinks.RetryDelay(err); d != tt.delay || ok != (tt.delay > 0) {
				t.Errorf("retry delay %v (%v), want %v", d, ok, tt.delay)
			}
			if status.Code(err) != tt.st.Code() {
				t.Errorf("code %v, want %v (%v)", status.Code(err), tt.st.Code(), err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "projects/p/logs/claude_code") || !strings.Contains(msg, tt.hint) {
				t.Errorf("message %q does not say where or why", msg)
			}
			if strings.Contains(msg, "555-0100") {
				t.Errorf("message %q shows record content", msg)
			}
			if n := len(h.fake.Entries()); n != 0 {
				t.Errorf("%d entries written by a failed call", n)
			}
			if err := h.write(t, logsRequest(event("user_prompt", 1))); err != nil {
				t.Errorf("the next Write: %v", err)
			}
		})
	}
}

// A part of a split request that fails fails the Write and says which part; the engine's retry
// writes the parts before it again, with the same insertIds, which Cloud Logging keeps once.
func TestWriteErrorInLaterPart(t *testing.T) {
	lrs := make([]*logspb.LogRecord, 1500)
	for i := range lrs {
		lrs[i] = event("tool_result", i)
	}
	req := logsRequest(lrs...)
	h := newHarness(t, nil)
	h.fake.FailNext(1, nil) // the first call goes through
	h.fake.FailNext(1, status.New(codes.Unavailable, "service unavailable"))
	err := h.write(t, req)
	if err == nil || sinks.IsPermanent(err) || !strings.Contains(err.Error(), "part 2 of 2") {
		t.Fatalf("Write: %v, want a retryable error about part 2 of 2", err)
	}
	if n := len(h.fake.Entries()); n != 1000 {
		t.Fatalf("%d entries written by the first part, want 1000", n)
	}
	if err := h.write(t, req); err != nil {
		t.Fatalf("Write again: %v", err)
	}
	got := h.fake.Entries()
	if len(got) != 2500 {
		t.Fatalf("%d entries after the retry, want 2500", len(got))
	}
	for i := range 1000 {
		if got[i].InsertId != got[1000+i].InsertId {
			t.Fatalf("entry %d: insertId %q, again %q", i, got[i].InsertId, got[1000+i].InsertId)
		}
	}
}
