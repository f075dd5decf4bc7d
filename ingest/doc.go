// Package ingest receives Claude Code's OTLP telemetry: the three OTLP collector services over
// gRPC, and OTLP/HTTP (protobuf and JSON, optionally gzip) on POST /v1/logs, /v1/metrics and
// /v1/traces. It bounds what a client can make it do (request size before and after
// decompression, AnyValue nesting, header, read and idle timeouts), validates ids, hands each
// decoded request to one Consumer, and answers per the OTLP specification: an empty
// Export*ServiceResponse when the consumer accepted the request, INVALID_ARGUMENT / 400 for bad
// data, RESOURCE_EXHAUSTED / 413 for an oversize request, RESOURCE_EXHAUSTED / 429 with a retry
// hint when the consumer has no room, UNAVAILABLE / 503 for any other consumer failure.
//
// Over HTTP, error bodies are a google.rpc.Status (code and message, and RetryInfo when the
// client should retry) in the request's encoding; a request that named no usable encoding (a 415,
// or a 404 or 405 without a known Content-Type) is answered in JSON. A consumer that panics
// costs only its request: UNAVAILABLE over gRPC, 500 over HTTP.
//
// Every refusal is counted in admin.Metrics by transport and reason. Refusals the client can do
// nothing about except retry (throttled, unavailable) are also logged as warnings, at most one
// line per interval: Claude Code gives up within seconds, so each of them usually means data lost
// at the source.
//
// It is not for routing, redaction or delivery: what happens to a request after the Consumer
// accepted it is the business of the packages downstream. It never modifies a request once it
// has handed it on.
package ingest
