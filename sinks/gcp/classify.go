package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/api/googleapi"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"claude-otel-gw/sinks"
)

// Classify turns a failed call to a Google service into the error the delivery engine acts on.
// what says what was attempted ("write 120 log entries to project p"), for the message.
//
// Google's services differ from a plain OTLP endpoint in two ways that matter here: quota
// errors (RESOURCE_EXHAUSTED, HTTP 429) always pass with time, and INTERNAL is a transient
// server fault, so both are retried. Errors that describe the gateway's setup rather than the
// data (credentials, IAM grants, a project, bucket or API that does not exist or is not
// enabled) are retried too: an operator fixes them, and what was queued meanwhile must still
// arrive then instead of being dead-lettered. Only a refusal of the data itself is permanent.
func Classify(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%s: %w", what, err)
	}
	code, delay, hasDelay := codeOf(err)
	e := fmt.Errorf("%s: %w", what, err)
	switch code {
	case codes.InvalidArgument, codes.OutOfRange, codes.AlreadyExists, codes.FailedPrecondition, codes.Unimplemented:
		return sinks.Permanent(e)
	case codes.Unauthenticated, codes.PermissionDenied, codes.NotFound:
		e = fmt.Errorf("%w (check the sink's project, credentials and IAM roles; retrying until the service accepts them)", e)
	}
	if hasDelay {
		return sinks.RetryAfter(e, delay)
	}
	return e
}

// codeOf reads a gRPC status or a Google API HTTP error as a gRPC code, and the delay a
// RetryInfo asks for. An error of neither kind (a broken connection) is Unavailable.
func codeOf(err error) (codes.Code, time.Duration, bool) {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return httpCode(ge.Code), 0, false
	}
	st, ok := status.FromError(err)
	if !ok {
		return codes.Unavailable, 0, false
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return st.Code(), max(ri.GetRetryDelay().AsDuration(), 0), true
		}
	}
	return st.Code(), 0, false
}

// httpCode maps an HTTP status to the gRPC code Google's APIs pair it with.
func httpCode(c int) codes.Code {
	switch c {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusConflict:
		return codes.Aborted
	case http.StatusPreconditionFailed:
		return codes.FailedPrecondition
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	}
	if c >= 500 {
		return codes.Unavailable
	}
	if c >= 400 {
		return codes.InvalidArgument
	}
	return codes.Unknown
}
