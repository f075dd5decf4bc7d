package otlp

import (
	"strings"
	"testing"

	"claude-otel-gw/telemetry"
)

// TestPartialSuccess checks that a partial success is a delivery: the rejected records are
// counted per signal, and the destination's reason is logged once a minute at most, scrubbed.
func TestPartialSuccess(t *testing.T) {
	payloads := captured(t)
	for _, protocol := range protocols {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			t.Parallel()
			dest := start(t, protocol, nil)
			dest.setAnswer(func(rc received) reply {
				return reply{rejected: int64(rc.req.Signal()), rejectMsg: "attribute too long; key " + apiKey}
			})
			h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: protocol, Compression: "gzip"})
			want := map[telemetry.Signal]float64{}
			for _, p := range payloads {
				if err := h.write(t, p.Request); err != nil {
					t.Fatalf("%s: Write with a partial success = %v, want nil", p.Name, err)
				}
				want[p.Signal] += float64(p.Signal)
			}
			for _, sig := range telemetry.Signals {
				if got := h.rejected(sig); got != want[sig] {
					t.Errorf("rejected_records{signal=%s} = %v, want %v", sig, got, want[sig])
				}
			}
			lines := h.log.Lines("rejected part of a batch")
			if len(lines) != 1 {
				t.Fatalf("%d log lines about rejections for %d partial successes, want 1:\n%s", len(lines), len(payloads), h.log.String())
			}
			for _, s := range []string{"level=WARN", "sink=dx", "rejected=", `reason="attribute too long; key [REDACTED]"`} {
				if !strings.Contains(lines[0], s) {
					t.Errorf("log line %q does not say %q", lines[0], s)
				}
			}
			assertNoSecrets(t, "the log", h.log.String())
		})
	}
}

// TestPartialSuccessWarning checks that a partial success rejecting nothing, the specification's
// way to warn, is logged but not counted.
func TestPartialSuccessWarning(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
			dest := start(t, protocol, nil)
			dest.answerAll(reply{rejectMsg: "deprecated field"})
			h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: protocol})
			if err := h.write(t, capturedLogs(t)); err != nil {
				t.Fatal(err)
			}
			if got := h.rejected(telemetry.Logs); got != 0 {
				t.Errorf("rejected_records = %v, want 0", got)
			}
			if lines := h.log.Lines("accepted a batch with a warning"); len(lines) != 1 || !strings.Contains(lines[0], `warning="deprecated field"`) {
				t.Errorf("want one warning with the destination's message, got:\n%s", h.log.String())
			}
		})
	}
}

// TestNotAnOTLPAnswer checks that a 2xx whose body is not an OTLP response counts as delivered
// but is logged, since it usually means the endpoint is not an OTLP receiver.
func TestNotAnOTLPAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply reply
		warns bool
	}{
		{"html page", reply{body: "<html><body>Welcome</body></html>", contentType: "text/html"}, true},
		{"garbage protobuf", reply{body: "\xff\xff\xff", contentType: mediaProtobuf}, true},
		{"empty body", reply{body: "", contentType: "text/plain"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := startHTTP(t, nil, "")
			dest.answerAll(tc.reply)
			h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: HTTPProtobuf})
			for range 3 {
				if err := h.write(t, capturedLogs(t)); err != nil {
					t.Fatalf("Write = %v, want nil for a 200", err)
				}
			}
			lines := h.log.Lines("not an OTLP export response")
			if tc.warns && len(lines) != 1 {
				t.Errorf("want one warning for three such answers, got:\n%s", h.log.String())
			}
			if !tc.warns && h.log.String() != "" {
				t.Errorf("want no log, got:\n%s", h.log.String())
			}
		})
	}
}
