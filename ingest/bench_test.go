package ingest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"claude-otel-gw/internal/testpki"
	"claude-otel-gw/telemetry"
)

var discard = ConsumerFunc(func(context.Context, telemetry.Request) error { return nil })

// The captured logs request (20-odd events of a short Claude Code session), exported over each
// transport into a consumer that does nothing, one request at a time over loopback.
const benchFixture = "01-prompt-pii-grpc/logs.grpc.pb"

func reportRates(b *testing.B, records int) {
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/s, "req/s")
	b.ReportMetric(float64(b.N*records)/s, "records/s")
}

func BenchmarkExportLogsGRPC(b *testing.B) {
	h := start(b, testConfig(), discard)
	req := fixtureNamed(b, benchFixture).request(b)
	ctx := context.Background()
	if _, err := h.exportGRPC(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(fixtureNamed(b, benchFixture).data)))
	for b.Loop() {
		if _, err := h.exportGRPC(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, req.Records())
}

// The same over TLS with client certificates and a bearer token: what the protections cost a
// request on a connection already open.
func BenchmarkExportLogsGRPCMutualTLSToken(b *testing.B) {
	ca := testpki.NewCA(b, "ca")
	client := ca.Client(b, "claude-code")
	cfg := tlsConfig(ca.Server(b, "gateway"), ca)
	cfg.BearerTokenFile = testpki.WriteFile(b, b.TempDir(), "token", []byte(testToken))
	h := startTLS(b, cfg, discard, clientTLS(ca.Pool, &client))
	req := fixtureNamed(b, benchFixture).request(b)
	ctx := withAuthorization(context.Background(), "Bearer "+testToken)
	if _, err := h.exportGRPC(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(fixtureNamed(b, benchFixture).data)))
	for b.Loop() {
		if _, err := h.exportGRPC(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, req.Records())
}

func BenchmarkExportLogsHTTPProtobuf(b *testing.B) {
	h := start(b, testConfig(), discard)
	f := fixtureNamed(b, benchFixture)
	url := h.base + "/v1/logs"
	post := func() {
		resp, err := h.client.Post(url, mediaProtobuf, bytes.NewReader(f.data))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	post()
	b.ReportAllocs()
	b.SetBytes(int64(len(f.data)))
	for b.Loop() {
		post()
	}
	reportRates(b, f.request(b).Records())
}

// The server's own share of a request: decoding and checking the captured logs request, which
// is what either transport does with the bytes it received.
func BenchmarkDecodeLogs(b *testing.B) {
	f := fixtureNamed(b, benchFixture)
	b.ReportAllocs()
	b.SetBytes(int64(len(f.data)))
	for b.Loop() {
		if err := decodeProtobuf(f.data, telemetry.Empty(telemetry.Logs), 32); err != nil {
			b.Fatal(err)
		}
	}
}
