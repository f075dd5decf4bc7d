package cloudlogging

import (
	"strings"
	"testing"

	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	fakelogging "claude-otel-gw/internal/fakegcp/logging"
)

// A request larger than one WriteLogEntries call takes, by count or by size, is written in
// several calls, every one within the API's limits (the fake refuses any that is not), with
// every record written once and in order.
func TestSplit(t *testing.T) {
	tests := []struct {
		name      string
		records   int
		valueSize int // of each record's tool_input attribute
		wantCalls int
	}{
		{name: "1000 entries", records: 1000, valueSize: 10, wantCalls: 1},
		{name: "2001 entries", records: 2001, valueSize: 10, wantCalls: 3},
		// 100 entries of about 150 KB: 15 MB, where a call takes 9 MiB.
		{name: "by bytes", records: 100, valueSize: 150_000, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lrs := make([]*logspb.LogRecord, tt.records)
			for i := range lrs {
				lrs[i] = event("tool_result", i, str("tool_input", strings.Repeat("x", tt.valueSize)))
			}
			h := newHarness(t, nil)
			if err := h.write(t, logsRequest(lrs...)); err != nil {
				t.Fatalf("Write: %v", err)
			}
			reqs := h.fake.Requests()
			if len(reqs) != tt.wantCalls {
				t.Errorf("%d calls, want %d", len(reqs), tt.wantCalls)
			}
			for i, r := range reqs {
				if n, size := len(r.Entries), proto.Size(r); n > fakelogging.MaxEntries || size > fakelogging.MaxRequestBytes {
					t.Errorf("call %d: %d entries, %d bytes", i, n, size)
				}
			}
			got := h.fake.Entries()
			if len(got) != tt.records {
				t.Fatalf("%d entries for %d records", len(got), tt.records)
			}
			for i, e := range got {
				p := e.GetJsonPayload().GetFields()
				if seq := p["attributes"].GetStructValue().GetFields()["event.sequence"].GetNumberValue(); seq != float64(i) {
					t.Fatalf("entry %d is record %v", i, seq)
				}
				if _, cut := p["truncated"]; cut {
					t.Fatalf("entry %d was truncated", i)
				}
			}
		})
	}
}
