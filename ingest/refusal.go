package ingest

import (
	"errors"
	"net/http"
	"time"

	"claude-otel-gw/telemetry"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The ways ingest itself refuses a request. Errors wrapping them carry the detail a client needs
// to fix its request; refuse turns them into an answer for either transport.
var (
	errMalformed = errors.New("malformed request")
	errTooLarge  = errors.New("request too large")
	errMediaType = errors.New("unsupported media type")
	errMethod    = errors.New("method not allowed")
	errNotFound  = errors.New("not found")
	// errUnauthenticated is a request without the bearer token the gateway is configured with.
	errUnauthenticated = errors.New("unauthenticated")
	// errPanic stands for a consumer that panicked; the panic itself goes to the log only.
	errPanic = errors.New("internal error in the gateway; see its log")
)

// reason is why a request was refused, as written in the refused_* metrics' reason label.
type reason uint8

const (
	reasonMalformed reason = iota
	reasonTooLarge
	reasonMediaType
	reasonMethod
	reasonNotFound
	reasonUnauthenticated
	reasonThrottled
	reasonUnavailable
	numReasons
)

var reasonNames = [numReasons]string{
	reasonMalformed:       "malformed",
	reasonTooLarge:        "too_large",
	reasonMediaType:       "unsupported_media_type",
	reasonMethod:          "method_not_allowed",
	reasonNotFound:        "not_found",
	reasonUnauthenticated: "unauthenticated",
	reasonThrottled:       "throttled",
	reasonUnavailable:     "unavailable",
}

func (r reason) String() string { return reasonNames[r] }

// retryable reports whether the client is asked to send the same data again: such a refusal is
// data the gateway could not take, not data that was wrong.
func (r reason) retryable() bool { return r == reasonThrottled || r == reasonUnavailable }

// minRetryAfter is the smallest retry hint given: a client retrying at once while the queues
// are full only adds load, and Claude Code's exporter retries for a few seconds at most, so a
// longer default would make it give up before it tries again.
const minRetryAfter = time.Second

// refusal is the answer to a refused request, for either transport.
type refusal struct {
	reason     reason
	code       codes.Code
	httpStatus int
	msg        string
	retryAfter time.Duration // > 0 only for retryable refusals
}

// refuse maps an error from decoding or from the consumer to the answer the client gets. It is
// the one place where errors become gRPC codes and HTTP statuses.
func refuse(err error) refusal {
	var throttled *telemetry.ThrottledError
	switch {
	case errors.As(err, &throttled):
		return refusal{reasonThrottled, codes.ResourceExhausted, http.StatusTooManyRequests, err.Error(), max(throttled.RetryAfter, minRetryAfter)}
	case errors.Is(err, errMalformed):
		return refusal{reasonMalformed, codes.InvalidArgument, http.StatusBadRequest, err.Error(), 0}
	case errors.Is(err, errTooLarge):
		return refusal{reasonTooLarge, codes.ResourceExhausted, http.StatusRequestEntityTooLarge, err.Error(), 0}
	case errors.Is(err, errMediaType):
		return refusal{reasonMediaType, codes.InvalidArgument, http.StatusUnsupportedMediaType, err.Error(), 0}
	case errors.Is(err, errMethod):
		return refusal{reasonMethod, codes.Unimplemented, http.StatusMethodNotAllowed, err.Error(), 0}
	case errors.Is(err, errUnauthenticated):
		return refusal{reasonUnauthenticated, codes.Unauthenticated, http.StatusUnauthorized, err.Error(), 0}
	case errors.Is(err, errNotFound):
		return refusal{reasonNotFound, codes.Unimplemented, http.StatusNotFound, err.Error(), 0}
	case errors.Is(err, errPanic):
		// A bug, not back-pressure; but an OTLP client drops data answered with a 500, and
		// losing it at the source is worse than one retry, so it is told to retry.
		return refusal{reasonUnavailable, codes.Unavailable, http.StatusServiceUnavailable, errPanic.Error(), minRetryAfter}
	}
	return refusal{reasonUnavailable, codes.Unavailable, http.StatusServiceUnavailable, "the gateway cannot take the data now: " + err.Error(), minRetryAfter}
}

// status is the refusal as a gRPC status, with a RetryInfo detail when the client should retry.
// HTTP error bodies carry the same status, as OTLP/HTTP asks.
func (r refusal) status() *status.Status {
	st := status.New(r.code, r.msg)
	if r.retryAfter > 0 {
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(r.retryAfter)}); err == nil {
			st = d
		}
	}
	return st
}

// retryAfterSeconds is the refusal's retry hint as an HTTP Retry-After value: whole seconds,
// rounded up.
func (r refusal) retryAfterSeconds() int64 {
	return int64((r.retryAfter + time.Second - 1) / time.Second)
}
