// Package ingest receives Claude Code's OTLP telemetry: the three OTLP collector services over
// gRPC, and OTLP/HTTP (protobuf and JSON, optionally gzip) on POST /v1/logs, /v1/metrics and
// /v1/traces. It bounds what a client can make it do (request size before and after
// decompression, AnyValue nesting, header, read and idle timeouts), validates ids, hands each
// decoded request to one Consumer, and answers per the OTLP specification: an empty
// Export*ServiceResponse when the consumer accepted the request, INVALID_ARGUMENT / 400 for bad
// data, RESOURCE_EXHAUSTED / 413 for an oversize request, RESOURCE_EXHAUSTED / 429 with a retry
// hint when the consumer has no room, UNAVAILABLE / 503 for any other consumer failure.
//
// Both listeners can serve TLS (1.2 or later; HTTP/2 and HTTP/1.1 over HTTP), require client
// certificates from given CAs (mutual TLS), and require every request to carry
// "authorization: Bearer <token>". The token is checked before anything of a request is read or
// decoded, in constant time; a request without it is answered UNAUTHENTICATED / 401 with
// WWW-Authenticate: Bearer. The certificate, the client CAs and the token are read when the
// Server is built and can be replaced while it runs (UpdateCredentials); neither they nor what a
// client presented ever appear in the log or in an error.
//
// Over HTTP, error bodies are a google.rpc.Status (code and message, and RetryInfo when the
// client should retry) in the request's encoding; a request that named no usable encoding (a 415,
// or a 404 or 405 without a known Content-Type) is answered in JSON. A consumer that panics
// costs only its request: UNAVAILABLE / 503, so that the client sends it again.
//
// Every refusal is counted in admin.Metrics by transport and reason. Refusals the client can do
// nothing about except retry (throttled, unavailable) are also logged as warnings, at most one
// line per interval: Claude Code gives up within seconds, so each of them usually means data lost
// at the source. So are requests without the right token: a client given none, or an old one,
// loses everything it sends.
//
// It is not for routing, redaction or delivery: what happens to a request after the Consumer
// accepted it is the business of the packages downstream. It never modifies a request once it
// has handed it on.
package ingest
