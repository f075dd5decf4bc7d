package otlpjson

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

const capturedDir = "../../testdata/claude-code"

// captured is one request Claude Code sent, from testdata/claude-code.
type captured struct {
	name string // 03-jwt-ip-http-json/logs.http.json
	raw  []byte
	msg  proto.Message // decoded: with proto.Unmarshal for .pb files, with Unmarshal for .json
}

// newRequest returns an empty export request of the signal a captured file is named for.
func newRequest(t testing.TB, name string) proto.Message {
	t.Helper()
	switch base := filepath.Base(name); {
	case strings.HasPrefix(base, "logs."):
		return &collogspb.ExportLogsServiceRequest{}
	case strings.HasPrefix(base, "metrics."):
		return &colmetricspb.ExportMetricsServiceRequest{}
	case strings.HasPrefix(base, "traces."):
		return &coltracepb.ExportTraceServiceRequest{}
	}
	t.Fatalf("%s: no signal in the file name", name)
	return nil
}

// loadCaptured reads every captured request whose name ends in suffix.
func loadCaptured(t testing.TB, suffix string) []captured {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(capturedDir, "*", "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no captured *%s files under %s", suffix, capturedDir)
	}
	var out []captured
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(capturedDir, p)
		m := newRequest(t, name)
		if strings.HasSuffix(p, ".json") {
			err = Unmarshal(raw, m)
		} else {
			err = proto.Unmarshal(raw, m)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, captured{name: name, raw: raw, msg: m})
	}
	return out
}

// roundTrip encodes m, checks the output is JSON, decodes it into a fresh message of the same
// type and checks that equals m.
func roundTrip(t *testing.T, m proto.Message) []byte {
	t.Helper()
	out, err := Marshal(m)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if !json.Valid(out) {
		t.Fatalf("marshal wrote invalid JSON: %s", out)
	}
	back := m.ProtoReflect().New().Interface()
	if err := Unmarshal(out, back); err != nil {
		t.Fatalf("unmarshal our own output: %v\n%s", err, out)
	}
	if !proto.Equal(m, back) {
		t.Fatalf("round trip changed the message\noriginal: %v\nback:     %v\njson: %s", m, back, out)
	}
	return out
}

func TestCapturedProtobufRoundTrip(t *testing.T) {
	for _, c := range loadCaptured(t, ".pb") {
		t.Run(c.name, func(t *testing.T) {
			if proto.Size(c.msg) == 0 {
				t.Fatal("captured request decoded to an empty message")
			}
			out := roundTrip(t, c.msg)
			// Ids in hex, never in protojson's base64.
			if strings.HasPrefix(filepath.Base(c.name), "traces.") && !strings.Contains(string(out), `"traceId":"`) {
				t.Fatalf("no traceId in the encoded traces: %s", out)
			}
		})
	}
}

func TestCapturedJSONRoundTrip(t *testing.T) {
	for _, c := range loadCaptured(t, ".json") {
		t.Run(c.name, func(t *testing.T) {
			out := roundTrip(t, c.msg)
			// What Claude Code sent and what we write differ only in what OTLP/JSON allows to
			// differ (defaults left out, "intValue": 0 written "0"), so ours is never longer.
			if len(out) > len(c.raw) {
				t.Errorf("re-encoded %d bytes, more than the %d received", len(out), len(c.raw))
			}
		})
	}
}

// TestCapturedJSONIds checks ids against their hex in the captured files, and that they come
// back out as the same hex.
func TestCapturedJSONIds(t *testing.T) {
	byName := map[string]captured{}
	for _, c := range loadCaptured(t, ".json") {
		byName[filepath.ToSlash(c.name)] = c
	}
	tests := []struct {
		file              string
		span              int
		trace, id, parent string
	}{
		{"03-jwt-ip-http-json/traces.http.json", 0, "5e46df3f0cdba3ba0f72817f28e9ec86", "113c83e5e67d9a9b", "5ff9c310e8dcf07a"},
		{"03-jwt-ip-http-json/traces.http.json", 1, "5e46df3f0cdba3ba0f72817f28e9ec86", "253c852dfa110693", "8756221952a1b200"},
		{"05-write-file-http-json/traces.http.json", 0, "", "", ""}, // filled in from the file below
	}
	// The third case reads its expectation straight from the raw text, so a decoder that
	// mangled ids the same way on both sides could not pass it.
	raw05 := byName["05-write-file-http-json/traces.http.json"].raw
	tests[2].trace = hexAfter(t, raw05, `"traceId":"`)
	tests[2].id = hexAfter(t, raw05, `"spanId":"`)
	tests[2].parent = hexAfter(t, raw05, `"parentSpanId":"`)

	for _, tt := range tests {
		c, ok := byName[tt.file]
		if !ok {
			t.Fatalf("%s not found", tt.file)
		}
		if !bytes.Contains(c.raw, []byte(`"spanId":"`+tt.id+`"`)) {
			t.Fatalf("%s: span id %s is not in the file", tt.file, tt.id)
		}
		req := c.msg.(*coltracepb.ExportTraceServiceRequest)
		span := req.ResourceSpans[0].ScopeSpans[0].Spans[tt.span]
		for _, id := range []struct {
			name string
			got  []byte
			want string
		}{
			{"traceId", span.TraceId, tt.trace},
			{"spanId", span.SpanId, tt.id},
			{"parentSpanId", span.ParentSpanId, tt.parent},
		} {
			want, err := hex.DecodeString(id.want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(id.got, want) {
				t.Errorf("%s span %d %s = %x, want %s", tt.file, tt.span, id.name, id.got, id.want)
			}
		}
		out, err := Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{`"traceId":"` + tt.trace + `"`, `"spanId":"` + tt.id + `"`, `"parentSpanId":"` + tt.parent + `"`} {
			if !bytes.Contains(out, []byte(s)) {
				t.Errorf("%s: re-encoded JSON lacks %s", tt.file, s)
			}
		}
	}
}

// hexAfter returns the string value that follows prefix in raw.
func hexAfter(t *testing.T, raw []byte, prefix string) string {
	t.Helper()
	_, rest, ok := bytes.Cut(raw, []byte(prefix))
	if !ok {
		t.Fatalf("%s not found", prefix)
	}
	v, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok || len(v) == 0 {
		t.Fatalf("no value after %s", prefix)
	}
	return string(v)
}

// TestTruncatedInput cuts requests short, at every byte of a small one that has every kind
// of token and at many places in a captured one: each cut must be reported as the end of the
// input, never decoded, never a panic.
func TestTruncatedInput(t *testing.T) {
	small := bodyJSON(`{"kvlistValue":{"values":[` +
		`{"key":"esc\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","value":{"stringValue":"é日😀"}},` +
		`{"key":"n","value":{"arrayValue":{"values":[{"intValue":-12},{"doubleValue":-1.5e+3},{"doubleValue":"NaN"},` +
		`{"boolValue":true},{"boolValue":false},{"bytesValue":"+/8="},{}]}}},` +
		`{"key":null,"unknown":[{"a":[1,"x",null,true,false,{}]}]}]}}`)
	c := loadCaptured(t, "traces.http.json")[0]
	for _, tt := range []struct {
		data   []byte
		into   func() proto.Message
		stride int
	}{
		{[]byte(small), func() proto.Message { return &collogspb.ExportLogsServiceRequest{} }, 1},
		{bytes.TrimRight(c.raw, " \t\r\n"), func() proto.Message { return &coltracepb.ExportTraceServiceRequest{} }, 7},
	} {
		if err := Unmarshal(tt.data, tt.into()); err != nil {
			t.Fatalf("the whole input does not decode: %v", err)
		}
		for n := 0; n < len(tt.data); n += tt.stride {
			err := Unmarshal(tt.data[:n], tt.into())
			want := "offset " + strconv.Itoa(n) + ": unexpected end of input"
			if err == nil || err.Error() != want {
				t.Fatalf("cut after %d of %d bytes (...%q): error %v, want %q", n, len(tt.data), tt.data[max(0, n-30):n], err, want)
			}
		}
	}
}
