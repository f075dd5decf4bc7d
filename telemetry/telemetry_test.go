package telemetry

import (
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func logs(bodies ...string) Request {
	r := &collogspb.ExportLogsServiceRequest{}
	for _, b := range bodies {
		r.ResourceLogs = append(r.ResourceLogs, &logspb.ResourceLogs{SchemaUrl: b})
	}
	return Request{Logs: r}
}

// Merging is what decoding the requests' encodings concatenated gives, and leaves the
// requests as they were.
func TestMerge(t *testing.T) {
	a, b, c := logs("a"), logs("b", "c"), logs()
	got := Merge([]Request{a, b, c})
	var cat []byte
	for _, r := range []Request{a, b, c} {
		enc, err := proto.Marshal(r.Message())
		if err != nil {
			t.Fatal(err)
		}
		cat = append(cat, enc...)
	}
	want := &collogspb.ExportLogsServiceRequest{}
	if err := proto.Unmarshal(cat, want); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.Logs, want) {
		t.Errorf("Merge = %v, want %v", got.Logs, want)
	}
	if len(a.Logs.ResourceLogs) != 1 || len(b.Logs.ResourceLogs) != 2 {
		t.Error("Merge changed its inputs")
	}
	if one := Merge([]Request{b}); one.Logs != b.Logs {
		t.Error("Merge of one request is not that request")
	}
	if Merge(nil).Signal() != 0 {
		t.Error("Merge of nothing is not empty")
	}
	tr := Request{Traces: &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{}}}}
	if got := Merge([]Request{tr, tr}); got.Signal() != Traces || len(got.Traces.ResourceSpans) != 2 {
		t.Errorf("Merge of two traces requests = %v", got)
	}
}
