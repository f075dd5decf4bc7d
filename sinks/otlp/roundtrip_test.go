package otlp

import (
	"crypto/tls"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"claude-otel-gw/telemetry"
)

var protocols = []string{GRPC, HTTPProtobuf, HTTPJSON}

// start serves the protocol's fake destination, in plaintext or with conf's TLS.
func start(t testing.TB, protocol string, conf *tls.Config) *collector {
	t.Helper()
	if protocol == GRPC {
		return startGRPC(t, conf)
	}
	return startHTTP(t, conf, "")
}

// TestRoundTripCaptured sends every request captured from Claude Code over each protocol, with
// and without gzip, and checks the destination got exactly what was sent, compressed as asked,
// with the headers and the user agent.
func TestRoundTripCaptured(t *testing.T) {
	payloads := captured(t)
	for _, protocol := range protocols {
		for _, compression := range []string{"none", "gzip"} {
			t.Run(strings.ReplaceAll(protocol, "/", "-")+"/"+compression, func(t *testing.T) {
				t.Parallel()
				dest := start(t, protocol, nil)
				h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: protocol, Compression: compression})
				for _, p := range payloads {
					if err := h.write(t, p.Request); err != nil {
						t.Fatalf("%s: %v", p.Name, err)
					}
				}
				got := dest.received()
				if len(got) != len(payloads) {
					t.Fatalf("the destination got %d exports, want %d", len(got), len(payloads))
				}
				for i, p := range payloads {
					g := got[i]
					if !proto.Equal(g.req.Message(), p.Request.Message()) {
						t.Errorf("%s: the destination got a different request", p.Name)
					}
					if g.gzip != (compression == "gzip") {
						t.Errorf("%s: gzip = %v, want %v", p.Name, g.gzip, compression == "gzip")
					}
					if v := g.headerValue("x-api-key"); v != apiKey {
						t.Errorf("%s: x-api-key = %q, want the configured key", p.Name, v)
					}
					if v := g.headerValue("authorization"); v != "Bearer "+bearerToken {
						t.Errorf("%s: authorization = %q, want the configured token", p.Name, v)
					}
					if ua := g.headerValue("user-agent"); !strings.HasPrefix(ua, "claude-otel-gw/test") {
						t.Errorf("%s: user-agent = %q", p.Name, ua)
					}
					switch protocol {
					case GRPC:
						want := map[telemetry.Signal]string{
							telemetry.Logs:    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
							telemetry.Metrics: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
							telemetry.Traces:  "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
						}[p.Signal]
						if g.path != want {
							t.Errorf("%s: method %q, want %q", p.Name, g.path, want)
						}
					default:
						if want := "/v1/" + p.Signal.String(); g.path != want {
							t.Errorf("%s: path %q, want %q", p.Name, g.path, want)
						}
						want := mediaProtobuf
						if protocol == HTTPJSON {
							want = mediaJSON
						}
						if g.contentType != want {
							t.Errorf("%s: Content-Type %q, want %q", p.Name, g.contentType, want)
						}
					}
				}
				if out := h.log.String(); out != "" {
					t.Errorf("a clean delivery logged:\n%s", out)
				}
			})
		}
	}
}

// TestHTTPBasePath checks that the signal paths are appended to the endpoint's own path, that a
// query goes along, and that errors name the endpoint without its query.
func TestHTTPBasePath(t *testing.T) {
	for _, base := range []string{"/otlp", "/otlp/"} {
		t.Run(base, func(t *testing.T) {
			dest := startHTTP(t, nil, "/otlp")
			endpoint := strings.TrimSuffix(dest.endpoint, "/otlp") + base + "?tenant=t-0042"
			h := newHarness(t, Options{Endpoint: endpoint, Protocol: HTTPProtobuf})
			r := capturedLogs(t)
			if err := h.write(t, r); err != nil {
				t.Fatal(err)
			}
			got := dest.received()
			if len(got) != 1 || got[0].path != "/otlp/v1/logs?tenant=t-0042" {
				t.Fatalf("the destination got %+v, want one export to /otlp/v1/logs?tenant=t-0042", got)
			}
			dest.answerAll(reply{status: 400, msg: "bad"})
			err := h.write(t, r)
			if err == nil {
				t.Fatal("a 400 was taken for a success")
			}
			if want := strings.TrimSuffix(dest.endpoint, "/otlp") + "/otlp/v1/logs:"; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "t-0042") {
				t.Errorf("error %q: want it to name %s and leave the query out", err, want)
			}
		})
	}
}
