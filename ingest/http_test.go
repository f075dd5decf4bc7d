package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc/codes"
)

// nestedJSON is an OTLP/JSON AnyValue levels deep, through arrays or key-value lists.
func nestedJSON(levels int, kvlist bool) string {
	v := `{"stringValue":"x"}`
	for range levels - 1 {
		if kvlist {
			v = `{"kvlistValue":{"values":[{"key":"k","value":` + v + `}]}}`
		} else {
			v = `{"arrayValue":{"values":[` + v + `]}}`
		}
	}
	return v
}

func jsonLogWithBody(body string) []byte {
	return []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":` + body + `}]}]}]}`)
}

func jsonSpan(fields string) []byte {
	return []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"s",` + fields + `}]}]}]}`)
}

// Every kind of bad request gets the status, reason and message OTLP/HTTP asks for, counted
// under its reason, and the server goes on serving good requests after each.
func TestHTTPRefusals(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxRequestBytes = 64 << 10
	rec := &recorder{}
	h := start(t, cfg, rec)
	good := fixtureNamed(t, "02-secrets-http-protobuf/logs.http.pb").data
	deep := marshal(t, logsWith(&logspb.LogRecord{Body: nestedArray(cfg.MaxNestingDepth + 1)}).Logs)
	atLimit := marshal(t, logsWith(&logspb.LogRecord{Body: nestedKvlist(cfg.MaxNestingDepth)}).Logs)
	badSpanID := marshal(t, spansWith(&tracepb.Span{TraceId: bytesOf(16), SpanId: bytesOf(5)}).Traces)
	oversize := marshal(t, logsWith(&logspb.LogRecord{Body: stringValue(strings.Repeat("x", 70<<10))}).Logs)
	// Zeros compress well: the body is small on the wire and over the limit once decompressed.
	bomb := gzipped(t, make([]byte, 4*cfg.MaxRequestBytes))

	type want struct {
		status   int
		reason   string
		code     codes.Code
		msg      string // part of the message
		consumed bool   // the consumer got the request
	}
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		encoding    string
		body        io.Reader
		want        want
	}{
		{"malformed protobuf", "POST", "/v1/logs", mediaProtobuf, "", bytes.NewReader([]byte{0x0a, 0xff, 0xff, 0xff}),
			want{400, "malformed", codes.InvalidArgument, "not a valid protobuf logs export request", false}},
		{"malformed json", "POST", "/v1/metrics", mediaJSON, "", strings.NewReader(`{"resourceMetrics":[`),
			want{400, "malformed", codes.InvalidArgument, "not valid OTLP/JSON", false}},
		{"json of the wrong shape", "POST", "/v1/traces", mediaJSON, "", strings.NewReader(`{"resourceSpans":{"a":1}}`),
			want{400, "malformed", codes.InvalidArgument, "resourceSpans", false}},
		{"bad gzip", "POST", "/v1/logs", mediaProtobuf, "gzip", strings.NewReader("this is not gzip"),
			want{400, "malformed", codes.InvalidArgument, "not valid gzip", false}},
		{"truncated gzip", "POST", "/v1/logs", mediaProtobuf, "gzip", bytes.NewReader(gzipped(t, good)[:100]),
			want{400, "malformed", codes.InvalidArgument, "not valid gzip", false}},
		{"wrong content type", "POST", "/v1/logs", "text/plain", "", bytes.NewReader(good),
			want{415, "unsupported_media_type", codes.InvalidArgument, `Content-Type "text/plain"`, false}},
		{"no content type", "POST", "/v1/logs", "", "", bytes.NewReader(good),
			want{415, "unsupported_media_type", codes.InvalidArgument, "Content-Type", false}},
		{"unknown content encoding", "POST", "/v1/logs", mediaProtobuf, "br", bytes.NewReader(good),
			want{415, "unsupported_media_type", codes.InvalidArgument, `Content-Encoding "br"`, false}},
		{"GET", "GET", "/v1/logs", "", "", nil,
			want{405, "method_not_allowed", codes.Unimplemented, "GET", false}},
		{"PUT", "PUT", "/v1/traces", mediaProtobuf, "", bytes.NewReader(good),
			want{405, "method_not_allowed", codes.Unimplemented, "PUT", false}},
		{"unknown path", "POST", "/v1/log", mediaProtobuf, "", bytes.NewReader(good),
			want{404, "not_found", codes.Unimplemented, "/v1/log", false}},
		{"trailing slash", "POST", "/v1/logs/", mediaJSON, "", strings.NewReader("{}"),
			want{404, "not_found", codes.Unimplemented, "/v1/logs/", false}},
		{"too large", "POST", "/v1/logs", mediaProtobuf, "", bytes.NewReader(oversize),
			want{413, "too_large", codes.ResourceExhausted, "over the limit of 65536", false}},
		{"too large, chunked", "POST", "/v1/logs", mediaProtobuf, "", io.MultiReader(bytes.NewReader(oversize)),
			want{413, "too_large", codes.ResourceExhausted, "over the limit of 65536", false}},
		{"too large once decompressed", "POST", "/v1/logs", mediaProtobuf, "gzip", bytes.NewReader(bomb),
			want{413, "too_large", codes.ResourceExhausted, "decompresses to more than the limit", false}},
		{"nesting too deep, protobuf", "POST", "/v1/logs", mediaProtobuf, "", bytes.NewReader(deep),
			want{400, "malformed", codes.InvalidArgument, "logRecords[1].body: values nested deeper than 8", false}},
		{"nesting too deep, json arrays", "POST", "/v1/logs", mediaJSON, "", bytes.NewReader(jsonLogWithBody(nestedJSON(9, false))),
			want{400, "malformed", codes.InvalidArgument, "deeper than 8", false}},
		{"nesting too deep, json kvlists", "POST", "/v1/logs", mediaJSON, "gzip", bytes.NewReader(gzipped(t, jsonLogWithBody(nestedJSON(9, true)))),
			want{400, "malformed", codes.InvalidArgument, "deeper than 8", false}},
		{"bad span id, protobuf", "POST", "/v1/traces", mediaProtobuf, "", bytes.NewReader(badSpanID),
			want{400, "malformed", codes.InvalidArgument, "spans[0].spanId: 5 bytes, want 8", false}},
		{"bad trace id, json", "POST", "/v1/traces", mediaJSON, "", bytes.NewReader(jsonSpan(`"traceId":"0102030405"`)),
			want{400, "malformed", codes.InvalidArgument, "traceId", false}},
		{"bad parent span id, json", "POST", "/v1/traces", mediaJSON, "", bytes.NewReader(jsonSpan(`"traceId":"000102030405060708090a0b0c0d0e0f","parentSpanId":"01"`)),
			want{400, "malformed", codes.InvalidArgument, "parentSpanId", false}},
		{"nesting at the limit, protobuf", "POST", "/v1/logs", mediaProtobuf, "", bytes.NewReader(atLimit),
			want{200, "", codes.OK, "", true}},
		{"nesting at the limit, json", "POST", "/v1/logs", mediaJSON, "", bytes.NewReader(jsonLogWithBody(nestedJSON(8, true))),
			want{200, "", codes.OK, "", true}},
		{"empty request, protobuf", "POST", "/v1/metrics", mediaProtobuf, "", bytes.NewReader(nil),
			want{200, "", codes.OK, "", false}},
		{"empty request, json", "POST", "/v1/traces", "Application/JSON ; charset=utf-8", "identity", strings.NewReader(`{"resourceSpans":[]}`),
			want{200, "", codes.OK, "", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var refusals float64
			if tc.want.reason != "" {
				refusals = testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues("http", tc.want.reason))
			}
			n := rec.count()
			r := h.do(t, tc.method, tc.path, tc.contentType, tc.encoding, tc.body)
			if r.status != tc.want.status {
				t.Fatalf("status %d (body %q), want %d", r.status, r.body, tc.want.status)
			}
			if got := rec.count() - n; got != map[bool]int{false: 0, true: 1}[tc.want.consumed] {
				t.Errorf("the consumer got %d requests, want consumed=%v", got, tc.want.consumed)
			}
			if tc.want.status == 200 {
				return
			}
			if d := testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues("http", tc.want.reason)) - refusals; d != 1 {
				t.Errorf("refused_requests_total{transport=http,reason=%s} went up by %v, want 1", tc.want.reason, d)
			}
			wantType := mediaJSON
			if strings.HasPrefix(tc.contentType, mediaProtobuf) {
				wantType = mediaProtobuf
			}
			if ct := r.header.Get("Content-Type"); ct != wantType {
				t.Errorf("error body Content-Type %q, want %q", ct, wantType)
			}
			st := r.rpcStatus(t)
			if codes.Code(st.Code) != tc.want.code || !strings.Contains(st.Message, tc.want.msg) {
				t.Errorf("error body = code %v %q, want code %v and a message containing %q", codes.Code(st.Code), st.Message, tc.want.code, tc.want.msg)
			}
			if tc.want.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", r.header.Get("Allow"))
			}
			if r.header.Get("Retry-After") != "" {
				t.Errorf("Retry-After %q on a refusal the client should not retry", r.header.Get("Retry-After"))
			}

			// The server is none the worse for it.
			if r := h.post(t, "/v1/logs", mediaProtobuf, "", good); r.status != 200 {
				t.Fatalf("a good request after it: status %d, body %q", r.status, r.body)
			}
		})
	}
}

// A Content-Length over the limit is refused before the body is sent: the client, which waits
// for the answer before sending (Expect: 100-continue aside, as a slow client would), gets 413
// at once and the connection is closed.
func TestHTTPContentLengthOverLimitRefusedAtOnce(t *testing.T) {
	t.Parallel()
	h := start(t, testConfig(), &recorder{})
	conn, err := net.Dial("tcp", h.srv.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: %d\r\n\r\n", int64(1)<<40)
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	if !resp.Close {
		t.Errorf("the connection is kept open after refusing an oversize body")
	}
	if got := testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues("http", "too_large")); got != 1 {
		t.Errorf("refused_requests_total{transport=http,reason=too_large} = %v, want 1", got)
	}
}
