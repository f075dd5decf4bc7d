package otlp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/sinks"
)

// outcome is how a Write ended, as the sinks engine sees it.
type outcome int

const (
	delivered outcome = iota
	retryable         // retried with backoff, or after the delay asked for
	permanent         // dead-lettered
)

func (o outcome) String() string { return [...]string{"delivered", "retryable", "permanent"}[o] }

func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return delivered
	case sinks.IsPermanent(err):
		return permanent
	}
	return retryable
}

// classCase is one answer of a destination and what Write must make of it.
type classCase struct {
	name  string
	reply reply
	want  outcome
	delay time.Duration // the RetryAfter delay wanted; 0: none
	// text the error must contain, besides the endpoint
	says []string
}

// echo is a destination's message quoting the sink's credentials back, as some do.
const echo = "invalid key " + apiKey + " for Bearer " + bearerToken

func TestClassifyGRPC(t *testing.T) {
	cases := []classCase{
		{name: "ok", reply: reply{}, want: delivered},
		{name: "unavailable", reply: reply{code: codes.Unavailable, msg: "restarting"}, want: retryable,
			says: []string{"UNAVAILABLE", `"restarting"`}},
		{name: "unavailable with RetryInfo", reply: reply{code: codes.Unavailable, retry: 3 * time.Second}, want: retryable, delay: 3 * time.Second},
		{name: "resource exhausted with RetryInfo", reply: reply{code: codes.ResourceExhausted, msg: "slow down", retry: 1500 * time.Millisecond},
			want: retryable, delay: 1500 * time.Millisecond, says: []string{"RESOURCE_EXHAUSTED"}},
		{name: "resource exhausted without RetryInfo", reply: reply{code: codes.ResourceExhausted, msg: "message too large"}, want: permanent,
			says: []string{"RESOURCE_EXHAUSTED", "message too large"}},
		{name: "invalid argument", reply: reply{code: codes.InvalidArgument, msg: "bad span id"}, want: permanent,
			says: []string{"INVALID_ARGUMENT", `"bad span id"`}},
		{name: "unauthenticated", reply: reply{code: codes.Unauthenticated, msg: echo}, want: retryable,
			says: []string{"UNAUTHENTICATED", "[REDACTED]", "headers"}},
		{name: "permission denied", reply: reply{code: codes.PermissionDenied, msg: "no grant"}, want: retryable,
			says: []string{"PERMISSION_DENIED"}},
		{name: "deadline exceeded", reply: reply{code: codes.DeadlineExceeded}, want: retryable, says: []string{"DEADLINE_EXCEEDED"}},
		{name: "aborted", reply: reply{code: codes.Aborted}, want: retryable},
		{name: "cancelled", reply: reply{code: codes.Canceled}, want: retryable},
		{name: "out of range", reply: reply{code: codes.OutOfRange}, want: retryable},
		{name: "data loss", reply: reply{code: codes.DataLoss}, want: retryable},
		{name: "unimplemented", reply: reply{code: codes.Unimplemented}, want: permanent, says: []string{"UNIMPLEMENTED"}},
		{name: "internal", reply: reply{code: codes.Internal, msg: "oops"}, want: permanent},
		{name: "failed precondition", reply: reply{code: codes.FailedPrecondition}, want: permanent},
		{name: "long message", reply: reply{code: codes.InvalidArgument, msg: strings.Repeat("x", 5000)}, want: permanent, says: []string{"xxx..."}},
	}
	dest := startGRPC(t, nil)
	h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: GRPC})
	runClassification(t, h, dest, cases, dest.endpoint+" (grpc)")
}

func TestClassifyHTTP(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []classCase{
		{name: "200", reply: reply{}, want: delivered},
		{name: "202 empty", reply: reply{status: 202, body: "", contentType: "text/plain"}, want: delivered},
		{name: "429 Retry-After seconds", reply: reply{status: 429, retryAfter: "7", msg: "quota"}, want: retryable, delay: 7 * time.Second,
			says: []string{"HTTP 429 Too Many Requests", `"quota"`}},
		{name: "429 Retry-After date", reply: reply{status: 429, retryAfter: date}, want: retryable, delay: 90 * time.Second},
		{name: "429 without Retry-After", reply: reply{status: 429}, want: retryable},
		{name: "503 with RetryInfo in the body", reply: reply{status: 503, code: codes.Unavailable, retry: 4 * time.Second}, want: retryable, delay: 4 * time.Second},
		{name: "503 Retry-After wins over RetryInfo", reply: reply{status: 503, retryAfter: "2", retry: 9 * time.Second}, want: retryable, delay: 2 * time.Second},
		{name: "503 garbage Retry-After", reply: reply{status: 503, retryAfter: "soon"}, want: retryable},
		{name: "502", reply: reply{status: 502, body: "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>", contentType: "text/html"},
			want: retryable, says: []string{"HTTP 502 Bad Gateway", "<h1>502 Bad Gateway</h1>"}},
		{name: "504", reply: reply{status: 504}, want: retryable},
		{name: "400", reply: reply{status: 400, code: codes.InvalidArgument, msg: "bad span id"}, want: permanent,
			says: []string{"HTTP 400 Bad Request", `"bad span id"`}},
		{name: "400 plain text", reply: reply{status: 400, body: "malformed\n", contentType: "text/plain"}, want: permanent, says: []string{`"malformed"`}},
		{name: "401", reply: reply{status: 401, msg: echo}, want: retryable, says: []string{"HTTP 401", "[REDACTED]", "headers"}},
		{name: "403", reply: reply{status: 403}, want: retryable, says: []string{"HTTP 403 Forbidden"}},
		{name: "404", reply: reply{status: 404}, want: permanent},
		{name: "413", reply: reply{status: 413}, want: permanent},
		{name: "500", reply: reply{status: 500}, want: permanent},
		{name: "307 without a Location", reply: reply{status: 307, body: "", contentType: "text/plain"}, want: retryable, says: []string{"HTTP 307", "not followed"}},
		{name: "long body", reply: reply{status: 400, body: strings.Repeat("y", 100000), contentType: "text/plain"}, want: permanent, says: []string{"yyy..."}},
	}
	for _, protocol := range []string{HTTPProtobuf, HTTPJSON} {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			dest := startHTTP(t, nil, "")
			h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: protocol, Compression: "gzip"})
			runClassification(t, h, dest, cases, dest.endpoint+"/v1/logs")
		})
	}
}

func runClassification(t *testing.T, h *harness, dest *collector, cases []classCase, where string) {
	t.Helper()
	r := capturedLogs(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dest.answerAll(tc.reply)
			before := dest.exports()
			err := h.write(t, r)
			if n := dest.exports(); n != before+1 {
				t.Errorf("the destination got %d exports, want exactly 1 (no retry, no redirect followed)", n-before)
			}
			if got := outcomeOf(err); got != tc.want {
				t.Fatalf("Write = %v (%s), want %s", err, got, tc.want)
			}
			if err == nil {
				return
			}
			msg := err.Error()
			if !strings.Contains(msg, where) {
				t.Errorf("error %q does not name the endpoint %s", msg, where)
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not say %q", msg, s)
				}
			}
			if len(msg) > 2*maxExcerpt+200 {
				t.Errorf("error is %d bytes long, want a bounded excerpt", len(msg))
			}
			assertNoSecrets(t, "the error", msg)
			d, ok := sinks.RetryDelay(err)
			switch {
			case tc.delay == 0 && ok:
				t.Errorf("RetryDelay = %v, want none", d)
			case tc.delay != 0 && !ok:
				t.Errorf("no RetryDelay, want %v", tc.delay)
			case tc.delay != 0 && (d > tc.delay || d < tc.delay-2*time.Second):
				// An HTTP date has whole seconds, and the test takes a moment.
				t.Errorf("RetryDelay = %v, want %v", d, tc.delay)
			}
		})
	}
	assertNoSecrets(t, "the log", h.log.String())
}

// TestHTTPRedirects checks that a redirect is followed only where the batch and the credentials
// stay with the destination the sink was configured with: a 307 or 308 on the same host.
func TestHTTPRedirects(t *testing.T) {
	other := startHTTP(t, nil, "")
	for _, tc := range []struct {
		name     string
		redirect reply
		want     outcome
		says     string
	}{
		{"308 on the same host", reply{status: 308, location: "/v1/logs?moved=1"}, delivered, ""},
		{"307 on the same host", reply{status: 307, location: "/v1/logs?moved=1"}, delivered, ""},
		{"302 on the same host", reply{status: 302, location: "/v1/logs?moved=1"}, retryable, "HTTP 302 Found to http://127.0.0.1:"},
		{"308 to another host", reply{status: 308, location: other.endpoint + "/v1/logs?moved=1"}, retryable, "to " + other.endpoint + "/v1/logs"},
		{"308 to itself for ever", reply{status: 308, location: "/v1/logs"}, retryable, "HTTP 308 Permanent Redirect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := startHTTP(t, nil, "")
			dest.setAnswer(func(rc received) reply {
				if strings.Contains(rc.path, "moved=1") {
					return reply{}
				}
				return tc.redirect
			})
			h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: HTTPProtobuf, Compression: "gzip"})
			r := capturedLogs(t)
			err := h.write(t, r)
			if got := outcomeOf(err); got != tc.want {
				t.Fatalf("Write = %v (%s), want %s", err, got, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if n := other.exports(); n != 0 {
				t.Fatalf("the other host got %d exports", n)
			}
			got := dest.received()
			if tc.want == delivered {
				last := got[len(got)-1]
				if len(got) != 2 || !proto.Equal(last.req.Message(), r.Message()) || last.headerValue("x-api-key") != apiKey {
					t.Errorf("the destination got %d exports, the last one different or without its headers", len(got))
				}
			}
			if len(got) > maxRedirects+1 {
				t.Errorf("%d requests for one Write, want at most %d", len(got), maxRedirects+1)
			}
		})
	}
}

// TestDestinationHangs checks that a Write ends when its context does and is retried.
func TestDestinationHangs(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			t.Parallel()
			dest := start(t, protocol, nil)
			dest.answerAll(reply{block: true})
			h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: protocol})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err := h.w.Write(ctx, capturedLogs(t))
			if outcomeOf(err) != retryable {
				t.Fatalf("Write to a destination that never answers = %v, want a retryable error", err)
			}
			// Over gRPC the destination, which knows the deadline too, may end the call a moment
			// before the client's own context does.
			if !errors.Is(err, context.DeadlineExceeded) && !(protocol == GRPC && strings.Contains(err.Error(), "DEADLINE_EXCEEDED")) {
				t.Errorf("Write = %v, want it to say the deadline passed", err)
			}
		})
	}
}

// TestDestinationDown checks that a refused connection is retried and says where it went.
func TestDestinationDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, protocol := range protocols {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			h := newHarness(t, Options{Endpoint: "http://" + addr, Protocol: protocol})
			err := h.write(t, capturedLogs(t))
			if outcomeOf(err) != retryable {
				t.Fatalf("Write to a closed port = %v, want a retryable error", err)
			}
			if !strings.Contains(err.Error(), "http://"+addr) {
				t.Errorf("error %q does not name the endpoint", err)
			}
			assertNoSecrets(t, "the error", err.Error())
		})
	}
}

// TestGRPCDestinationComesBack checks that exports over gRPC resume once a destination that was
// down is up again, without a new Writer.
func TestGRPCDestinationComesBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := newHarness(t, Options{Endpoint: "http://" + addr, Protocol: GRPC})
	r := capturedLogs(t)
	if err := h.write(t, r); outcomeOf(err) != retryable {
		t.Fatalf("Write while down = %v, want a retryable error", err)
	}
	dest := startGRPCOn(t, addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := h.w.Write(ctx, r)
		cancel()
		if err == nil {
			break
		}
		if outcomeOf(err) != retryable || time.Now().After(deadline) {
			t.Fatalf("Write after the destination came back = %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the engine's backoff, much shortened
	}
	if n := dest.exports(); n != 1 {
		t.Errorf("the destination got %d exports, want 1", n)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"12", 12 * time.Second, true},
		{" 12", 0, false},
		{"-3", 0, false},
		{"1.5", 0, false},
		{"99999999", maxRetryAfter, true},
		{"Wed, 25 Nov 2026 20:00:30 GMT", 30 * time.Second, true},
		{"Wed, 25 Nov 2026 19:00:00 GMT", 0, true}, // in the past: at once
		{"Wednesday, 25-Nov-26 20:01:00 GMT", time.Minute, true},
		{"tomorrow", 0, false},
	} {
		got, ok := retryAfter(tc.v, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCodeName(t *testing.T) {
	for c, want := range map[codes.Code]string{
		codes.Unavailable:       "UNAVAILABLE",
		codes.DeadlineExceeded:  "DEADLINE_EXCEEDED",
		codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
		codes.Canceled:          "CANCELLED",
		codes.Code(99):          "CODE(99)",
	} {
		if got := codeName(c); got != want {
			t.Errorf("codeName(%d) = %q, want %q", c, got, want)
		}
	}
}
