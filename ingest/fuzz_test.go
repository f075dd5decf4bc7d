package ingest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"claude-otel-gw/admin"
	"claude-otel-gw/telemetry"

	"google.golang.org/protobuf/proto"
)

// FuzzHTTPHandler feeds arbitrary bodies through the OTLP/HTTP handler, every signal, encoding
// and compression: it never panics, answers only with the statuses bad input may get, and
// whatever it acknowledges is a request that passes the checks and survives a round trip.
func FuzzHTTPHandler(f *testing.F) {
	for _, fx := range fixtures(f) {
		zipped := gzipped(f, fx.data)
		json := fx.kind == "http.json"
		f.Add(uint8(fx.sig), json, false, fx.data)
		f.Add(uint8(fx.sig), json, true, zipped)
	}
	f.Add(uint8(telemetry.Logs), true, false, jsonLogWithBody(nestedJSON(12, true)))
	f.Add(uint8(telemetry.Traces), true, false, jsonSpan(`"traceId":"0102"`))
	f.Add(uint8(telemetry.Logs), false, false, []byte{0x0a, 0xff, 0xff, 0xff})
	f.Add(uint8(telemetry.Metrics), false, true, []byte("\x1f\x8b\x08\x00garbage"))

	cfg := testConfig()
	cfg.MaxRequestBytes = 256 << 10
	var got telemetry.Request
	s, err := New(cfg, ConsumerFunc(func(_ context.Context, r telemetry.Request) error {
		got = r
		return nil
	}), admin.NewTestMetrics(), nil)
	if err != nil {
		f.Fatal(err)
	}
	h, err := newHTTPHandler(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig uint8, json, zipped bool, body []byte) {
		sg := telemetry.Signal(sig%3 + 1)
		req := httptest.NewRequest(http.MethodPost, "/v1/"+sg.String(), bytes.NewReader(body))
		req.Header.Set("Content-Type", map[bool]string{false: mediaProtobuf, true: mediaJSON}[json])
		if zipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		got = telemetry.Request{}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 200:
			if got.Message() == nil {
				return // an empty request, acknowledged without bothering the consumer
			}
			if got.Signal() != sg {
				t.Fatalf("a %s request reached the consumer as %s", sg, got.Signal())
			}
			if err := checkRequest(got, cfg.MaxNestingDepth); err != nil {
				t.Fatalf("acknowledged a request that fails the checks: %v", err)
			}
			b, err := proto.Marshal(got.Message())
			if err != nil {
				t.Fatalf("acknowledged a request that does not marshal: %v", err)
			}
			again := telemetry.Empty(sg)
			if err := decodeProtobuf(b, again, cfg.MaxNestingDepth); err != nil || !proto.Equal(again.Message(), got.Message()) {
				t.Fatalf("acknowledged a request that does not survive a protobuf round trip: %v", err)
			}
		case 400, 413:
			if w.Body.Len() == 0 {
				t.Fatalf("status %d without a body", w.Code)
			}
		default:
			t.Fatalf("status %d for a POST to a known path with a known content type", w.Code)
		}
	})
}
