package cloudlogging

import (
	"strconv"
	"strings"
	"testing"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
)

// Entries Cloud Logging refuses in a partial success are refused for good: the others are
// written, the refused ones counted, the Write succeeds (a retry would write the others
// twice), and the log says which record and why without showing the record.
func TestPartialErrors(t *testing.T) {
	p := capturedLogs(t)[0] // 01-prompt-pii: the prompt holds an email address, a phone number, an SSN
	isPrompt := func(e *loggingpb.LogEntry) bool { return attr(e, "event.name") == "user_prompt" }
	recs := records(p.Request)
	var prompts []int
	for i, r := range recs {
		for _, kv := range r.lr.Attributes {
			if kv.Key == "event.name" && kv.Value.GetStringValue() == "user_prompt" {
				prompts = append(prompts, i)
			}
		}
	}
	if len(prompts) == 0 {
		t.Fatal("the capture has no user_prompt event")
	}
	h := newHarness(t, nil)
	h.fake.RejectEntry(isPrompt)
	if err := h.write(t, p.Request); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got := h.fake.Entries()
	if len(got) != len(recs)-len(prompts) {
		t.Errorf("%d entries written, want %d of %d", len(got), len(recs)-len(prompts), len(recs))
	}
	for _, e := range got {
		if isPrompt(e) {
			t.Error("a refused entry was written")
		}
	}
	if n := h.rejected(); n != float64(len(prompts)) {
		t.Errorf("rejected records = %v, want %d", n, len(prompts))
	}
	lines := h.log.Lines("refused")
	if len(lines) != 1 || !strings.Contains(lines[0], "record="+strconv.Itoa(prompts[0])) || !strings.Contains(lines[0], "code=InvalidArgument") {
		t.Errorf("log about refused entries: %q", lines)
	}
	for _, kv := range recs[prompts[0]].lr.Attributes {
		if v := kv.Value.GetStringValue(); len(v) > 8 && strings.Contains(h.log.String(), v) {
			t.Errorf("the log shows the value of %s", kv.Key)
		}
	}
	if calls := h.fake.Calls(); calls != 1 {
		t.Errorf("%d calls, want 1: a partial success is not retried", calls)
	}
}

// The record a partial error names is its place in the whole request, whichever call of a
// split request it was in.
func TestPartialErrorsAcrossCalls(t *testing.T) {
	lrs := make([]*logspb.LogRecord, 1500)
	for i := range lrs {
		lrs[i] = event("tool_result", i)
	}
	h := newHarness(t, nil)
	h.fake.RejectEntry(func(e *loggingpb.LogEntry) bool { return attr(e, "event.sequence") == 1234.0 })
	if err := h.write(t, logsRequest(lrs...)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if n := len(h.fake.Entries()); n != 1499 {
		t.Errorf("%d entries written, want 1499", n)
	}
	if lines := h.log.Lines("refused"); len(lines) != 1 || !strings.Contains(lines[0], "record=1234") {
		t.Errorf("log about refused entries: %q", lines)
	}
	if n := h.rejected(); n != 1 {
		t.Errorf("rejected records = %v, want 1", n)
	}
}
