package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// piiCase is one line of testdata/pii/corpus.jsonl.
type piiCase struct {
	Text   string   `json:"text"`
	Redact []string `json:"redact"`
	Keep   []string `json:"keep"`
}

func readPIICorpus(t *testing.T) []piiCase {
	t.Helper()
	f, err := os.Open("../testdata/pii/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []piiCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c piiCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("corpus line %q: %v", sc.Text(), err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("the corpus is empty")
	}
	return cases
}

// The places a corpus text is put in a log record: an attribute, the body as a string, and
// the body as a map and as an array with the text nested inside.
var piiShapes = []string{"attribute", "body", "map", "array"}

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func intVal(i int) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: int64(i)}}
}

// piiRecord puts text in a record in the given shape; the record says which case and shape it
// is in two attributes that hold nothing to redact.
func piiRecord(i int, shape, text string) *logspb.LogRecord {
	lr := &logspb.LogRecord{
		EventName: "claude_code.user_prompt",
		Attributes: []*commonpb.KeyValue{
			{Key: "case", Value: intVal(i)},
			{Key: "shape", Value: str(shape)},
		},
	}
	switch shape {
	case "attribute":
		lr.Body = str("prompt")
		lr.Attributes = append(lr.Attributes, &commonpb.KeyValue{Key: "prompt", Value: str(text)})
	case "body":
		lr.Body = str(text)
	case "map":
		inner := &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
			Values: []*commonpb.KeyValue{{Key: "command", Value: str(text)}},
		}}}
		lr.Body = &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
			Values: []*commonpb.KeyValue{{Key: "tool", Value: str("Bash")}, {Key: "input", Value: inner}},
		}}}
	case "array":
		lr.Body = &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{
			Values: []*commonpb.AnyValue{str("first"), {Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{
				Values: []*commonpb.AnyValue{str(text)},
			}}}},
		}}}
	}
	return lr
}

// piiText returns the text a record made by piiRecord carries, wherever its shape put it.
func piiText(t *testing.T, lr *logspb.LogRecord, shape string) string {
	t.Helper()
	switch shape {
	case "attribute":
		for _, kv := range lr.Attributes {
			if kv.Key == "prompt" {
				return kv.Value.GetStringValue()
			}
		}
	case "body":
		return lr.Body.GetStringValue()
	case "map":
		for _, kv := range lr.Body.GetKvlistValue().GetValues() {
			if kv.Key == "input" {
				return kv.Value.GetKvlistValue().GetValues()[0].Value.GetStringValue()
			}
		}
	case "array":
		return lr.Body.GetArrayValue().GetValues()[1].GetArrayValue().GetValues()[0].GetStringValue()
	}
	t.Fatalf("no %s text in record %v", shape, lr)
	return ""
}

func piiRequest(cases []piiCase) *collogspb.ExportLogsServiceRequest {
	var records []*logspb.LogRecord
	for i, c := range cases {
		for _, shape := range piiShapes {
			records = append(records, piiRecord(i, shape, c.Text))
		}
	}
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: str("claude-code")}}},
		ScopeLogs: []*logspb.ScopeLogs{{
			Scope:      &commonpb.InstrumentationScope{Name: "com.anthropic.claude_code.events"},
			LogRecords: records,
		}},
	}}}
}

// TestRedactCorpusThroughDaemon sends every text of the PII corpus through the daemon, over
// gRPC and over OTLP/HTTP JSON, as an attribute, as a log body, and nested in map and array
// bodies, and reads what the redacted file sink wrote: every value the corpus says must go is
// gone, every value it says must stay is intact, and the unredacted route got the texts as
// they were.
func TestRedactCorpusThroughDaemon(t *testing.T) {
	cases := readPIICorpus(t)
	dir := t.TempDir()
	g := startCorpusGateway(t, dir)
	c, err := capture.NewClient(g.GRPCAddr().String(), "http://"+g.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	req := piiRequest(cases)
	if err := c.SendGRPC(ctx, telemetry.Request{Logs: req}); err != nil {
		t.Fatalf("gRPC export: %v", err)
	}
	body, err := otlpjson.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	status, resp, err := c.Post(ctx, telemetry.Logs, "application/json", body)
	if err != nil || status != http.StatusOK {
		t.Fatalf("OTLP/HTTP export: %d %q %v", status, resp, err)
	}
	if err := g.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	sent := len(cases) * len(piiShapes)
	check := func(sink string, redacted bool) {
		out, err := capture.ReadFileSink(filepath.Join(dir, sink))
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Records(telemetry.Logs); got != 2*sent {
			t.Fatalf("%s: %d records written, want %d", sink, got, 2*sent)
		}
		seen := map[[2]int]int{}
		for _, r := range out.Requests[telemetry.Logs] {
			for _, rl := range r.Logs.ResourceLogs {
				for _, sl := range rl.ScopeLogs {
					for _, lr := range sl.LogRecords {
						i, shape := recordCase(t, lr)
						seen[[2]int{i, shapeIndex(shape)}]++
						got := piiText(t, lr, shape)
						if !redacted {
							if got != cases[i].Text {
								t.Errorf("%s: case %d as %s: got %q, want it as sent: %q", sink, i, shape, got, cases[i].Text)
							}
							continue
						}
						for _, r := range cases[i].Redact {
							if strings.Contains(got, r) {
								t.Errorf("%s: case %d as %s: %q is still in %q", sink, i, shape, r, got)
							}
						}
						for _, k := range cases[i].Keep {
							if !strings.Contains(got, k) {
								t.Errorf("%s: case %d as %s: %q is gone from %q", sink, i, shape, k, got)
							}
						}
						if len(cases[i].Redact) == 0 && got != cases[i].Text {
							t.Errorf("%s: case %d as %s: nothing to redact, but %q became %q", sink, i, shape, cases[i].Text, got)
						}
					}
				}
			}
		}
		for i := range cases {
			for s, shape := range piiShapes {
				if n := seen[[2]int{i, s}]; n != 2 {
					t.Errorf("%s: case %d as %s written %d times, want 2 (gRPC and HTTP)", sink, i, shape, n)
				}
			}
		}
	}
	check("telemetry", true)
	check("audit", false)
}

// startCorpusGateway starts a daemon with two routes for every record: "audit" unredacted to
// the file sink in dir/audit, "cloud" through the default redaction profile to dir/telemetry.
func startCorpusGateway(t *testing.T, dir string) *Gateway {
	t.Helper()
	return start(t, testConfig(t, dir))
}

func recordCase(t *testing.T, lr *logspb.LogRecord) (int, string) {
	t.Helper()
	i, shape := -1, ""
	for _, kv := range lr.Attributes {
		switch kv.Key {
		case "case":
			i = int(kv.Value.GetIntValue())
		case "shape":
			shape = kv.Value.GetStringValue()
		}
	}
	if i < 0 || shapeIndex(shape) < 0 {
		t.Fatalf("a record without its case and shape: %v", lr)
	}
	return i, shape
}

func shapeIndex(shape string) int {
	for i, s := range piiShapes {
		if s == shape {
			return i
		}
	}
	return -1
}
