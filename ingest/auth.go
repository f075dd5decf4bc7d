package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"claude-otel-gw/telemetry"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc/tap"
)

// authenticate checks the value of a request's authorization header against the bearer token.
// It returns nil when no token is configured. The messages say what was wrong with the header,
// never what it or the token holds.
func (c *credentialSet) authenticate(authorization string) error {
	if c.token == nil {
		return nil
	}
	if authorization == "" {
		return fmt.Errorf(`%w: no authorization header; want "authorization: Bearer <token>"`, errUnauthenticated)
	}
	token, ok := bearerToken(authorization)
	if !ok {
		return fmt.Errorf(`%w: the authorization header is not "Bearer <token>"`, errUnauthenticated)
	}
	// Digests of equal length, compared in constant time: how long the comparison takes says
	// nothing about the token, not even its length.
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], c.token[:]) != 1 {
		return fmt.Errorf("%w: the bearer token is not the one configured", errUnauthenticated)
	}
	return nil
}

// bearerToken takes the credential out of a "Bearer <token>" header value; the scheme is
// case-insensitive (RFC 9110, section 11.1).
func bearerToken(v string) (string, bool) {
	v = strings.TrimSpace(v)
	i := strings.IndexAny(v, " \t")
	if i < 0 || !strings.EqualFold(v[:i], "bearer") {
		return "", false
	}
	token := strings.TrimLeft(v[i:], " \t")
	return token, token != ""
}

// tapGRPC authenticates a gRPC call as soon as its headers arrive. grpc-go runs it before the
// call's message is read, so a client without the token makes the gateway decompress and decode
// nothing; an interceptor or the method handler would come after grpc-go had started receiving.
// It runs on the connection's reading goroutine, so it does no more than check and count.
func (s *Server) tapGRPC(ctx context.Context, info *tap.Info) (context.Context, error) {
	var authorization string
	if v := info.Header.Get("authorization"); len(v) > 0 {
		authorization = v[0]
	}
	if err := s.creds.Load().authenticate(authorization); err != nil {
		ref := s.refused(transportGRPC, signalForMethod(info.FullMethodName), telemetry.Request{}, err)
		return ctx, ref.status().Err()
	}
	return ctx, nil
}

// signalForMethod names the signal of an OTLP export method; 0 for any other method.
func signalForMethod(method string) telemetry.Signal {
	switch method {
	case collogspb.LogsService_Export_FullMethodName:
		return telemetry.Logs
	case colmetricspb.MetricsService_Export_FullMethodName:
		return telemetry.Metrics
	case coltracepb.TraceService_Export_FullMethodName:
		return telemetry.Traces
	}
	return 0
}
