package otlpjson

import (
	"bytes"
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/proto"
)

// FuzzUnmarshal decodes each input as every export request and response type. Whatever the
// input, decoding must not panic; when it succeeds, the input must have been JSON, and the
// message must encode to JSON that decodes to an equal message and encodes to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for _, c := range loadCaptured(f, ".json") {
		f.Add(c.raw)
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"resourceLogs":[`, `{} {}`, `{"a":[[[[[[[[[[]]]]]]]]]]}`,
		`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5E46DF3F0CDBA3BA0F72817F28E9EC86","kind":"SPAN_KIND_SERVER","startTimeUnixNano":1e3}]}]}]}`,
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"k","value":{"arrayValue":{"values":[{"doubleValue":"NaN"},{"bytesValue":"-_8"}]}}}]}}}]}]}]}`,
		`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"bucketCounts":["1",2],"explicitBounds":["-Infinity",0.5],"sum":0}]}}]}]}]}`,
		`{"partialSuccess":{"rejectedSpans":"-1","errorMessage":"\ud83d\ude00"}}`,
		`{"resource_logs":[{"scope_logs":[{"log_records":[{"body":{"string_value":"\u0000"},"trace_id":null}]}]}]}`,
		"{\"x\":\"\xff\"}", `{"x":"\ud800"}`, `{"x":1.}`, `{"x":-}`, `{"x":tru}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range exportTypes() {
			m := typ.ProtoReflect().New().Interface()
			if err := Unmarshal(data, m); err != nil {
				continue
			}
			if !json.Valid(data) {
				t.Fatalf("%T: decoded input that is not JSON: %q", m, data)
			}
			out, err := Marshal(m)
			if err != nil {
				t.Fatalf("%T: marshal: %v", m, err)
			}
			if !json.Valid(out) {
				t.Fatalf("%T: wrote invalid JSON %q", m, out)
			}
			back := typ.ProtoReflect().New().Interface()
			if err := Unmarshal(out, back); err != nil {
				t.Fatalf("%T: cannot decode our own output: %v\ninput:  %q\noutput: %q", m, err, data, out)
			}
			if !proto.Equal(m, back) {
				t.Fatalf("%T: round trip changed the message\ninput:  %q\noutput: %q", m, data, out)
			}
			again, err := Marshal(back)
			if err != nil || !bytes.Equal(out, again) {
				t.Fatalf("%T: encoding is not stable: %q then %q (%v)", m, out, again, err)
			}
		}
	})
}
