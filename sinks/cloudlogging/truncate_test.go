package cloudlogging

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	fakelogging "claude-otel-gw/internal/fakegcp/logging"
)

// A record too large for one entry is cut down to fit, not refused: the entry arrives (the
// fake refuses one over 256 KiB), says "truncated": true, and keeps what is short whole.
func TestTruncate(t *testing.T) {
	// Too many to fit even with every value cut to nothing.
	many := make([]*commonpb.KeyValue, 7_000)
	for i := range many {
		many[i] = str(fmt.Sprintf("claude_code.attribute.name.%05d", i), strings.Repeat("v", 10))
	}
	tests := []struct {
		name  string
		lr    *logspb.LogRecord
		check func(t *testing.T, e *loggingpb.LogEntry)
	}{
		{
			name: "one huge value",
			lr:   event("tool_result", 1, str("tool_name", "Write"), str("tool_input", strings.Repeat("x", 1<<20))),
			check: func(t *testing.T, e *loggingpb.LogEntry) {
				in, _ := attr(e, "tool_input").(string)
				if len(in) < 100_000 || len(in) >= 250_000 || !strings.HasSuffix(in, "…") || strings.Trim(in, "x…") != "" {
					t.Errorf("tool_input cut to %d bytes ending %q", len(in), in[max(len(in)-5, 0):])
				}
				if attr(e, "tool_name") != "Write" || attr(e, "event.name") != "tool_result" || e.Labels["tool_name"] != "Write" {
					t.Errorf("short values changed: tool_name %v, event.name %v, labels %v", attr(e, "tool_name"), attr(e, "event.name"), e.Labels)
				}
				if p := e.GetJsonPayload().AsMap(); p["message"] != "claude_code.tool_result" {
					t.Errorf("message %q", p["message"])
				}
			},
		},
		{
			name: "multi-byte text",
			lr:   event("user_prompt", 2, str("prompt", strings.Repeat("é日本", 100_000))),
			check: func(t *testing.T, e *loggingpb.LogEntry) {
				p, _ := attr(e, "prompt").(string)
				if !utf8.ValidString(p) || !strings.HasSuffix(p, "…") || !strings.HasPrefix(p, "é日本é日本") {
					t.Errorf("prompt cut to %d bytes, valid UTF-8: %v", len(p), utf8.ValidString(p))
				}
			},
		},
		{
			name: "huge body",
			lr: func() *logspb.LogRecord {
				lr := event("assistant_response", 3)
				lr.Body.Value = &commonpb.AnyValue_StringValue{StringValue: strings.Repeat("y", 600_000)}
				return lr
			}(),
			check: func(t *testing.T, e *loggingpb.LogEntry) {
				p := e.GetJsonPayload().AsMap()
				body, _ := p["body"].(string)
				msg, _ := p["message"].(string)
				if body == "" || body != msg || !strings.HasSuffix(body, "…") {
					t.Errorf("body of %d bytes, message of %d", len(body), len(msg))
				}
			},
		},
		{
			name: "huge label",
			lr:   event("tool_result", 4, str("tool_name", strings.Repeat("z", 400_000))),
			check: func(t *testing.T, e *loggingpb.LogEntry) {
				if l := e.Labels["tool_name"]; len(l) >= 250_000 || !strings.HasSuffix(l, "…") {
					t.Errorf("label of %d bytes", len(l))
				}
			},
		},
		{
			name: "very many values",
			lr:   event("tool_result", 5, many...),
			check: func(t *testing.T, e *loggingpb.LogEntry) {
				p := e.GetJsonPayload().AsMap()
				if p["message"] != "claude_code.tool_result" || len(p) != 2 {
					t.Errorf("payload kept %d fields (want message and truncated): message %q", len(p), p["message"])
				}
			},
		},
		{
			name: "huge key",
			lr:   event("tool_result", 6, str(strings.Repeat("k", 300_000), "v")),
			check: func(t *testing.T, e *loggingpb.LogEntry) {
				if p := e.GetJsonPayload().AsMap(); p["message"] != "claude_code.tool_result" || len(p) != 2 {
					t.Errorf("payload kept %d fields (want message and truncated)", len(p))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.Labels = []string{"tool_name"} })
			small := event("user_prompt", 0)
			req := logsRequest(small, tt.lr)
			before := proto.CloneOf(req.Logs)
			if err := h.write(t, req); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if !proto.Equal(before, req.Logs) {
				t.Error("Write changed the request")
			}
			got := h.fake.Entries()
			if len(got) != 2 {
				t.Fatalf("%d entries, want 2", len(got))
			}
			if _, cut := got[0].GetJsonPayload().AsMap()["truncated"]; cut {
				t.Error("the small record was truncated too")
			}
			e := got[1]
			if cut := e.GetJsonPayload().AsMap()["truncated"]; cut != true {
				t.Fatalf("truncated = %v", cut)
			}
			if size := proto.Size(e); size > fakelogging.MaxEntryBytes {
				t.Errorf("entry of %d bytes", size)
			}
			if want := tt.lr.TimeUnixNano; e.Timestamp == nil || uint64(e.Timestamp.AsTime().UnixNano()) != want || e.InsertId == "" {
				t.Errorf("entry lost its time or insertId: %v %q", e.Timestamp, e.InsertId)
			}
			tt.check(t, e)
			lines := h.log.Lines("truncated")
			if len(lines) != 1 || !strings.Contains(lines[0], "entries=1") {
				t.Errorf("log about truncation: %q", lines)
			}
			for _, content := range []string{"xxxxxxxx", "yyyyyyyy", "zzzzzzzz", "é日本", "vvvvvvvv", "kkkkkkkk"} {
				if strings.Contains(h.log.String(), content) {
					t.Errorf("the log shows record content %q", content)
				}
			}
		})
	}
}
