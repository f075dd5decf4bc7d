package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/config"
	"claude-otel-gw/internal/testpki"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	testToken  = "c0tg-7f3a9e51d2b84c06a1e5"
	wrongToken = "c0tg-0000000000000000000"
)

// withToken is cfg with a bearer token file holding token (with the surrounding whitespace an
// editor or echo leaves, which is not part of it).
func withToken(t *testing.T, cfg config.Ingest, token string) config.Ingest {
	t.Helper()
	cfg.BearerTokenFile = testpki.WriteFile(t, t.TempDir(), "token", []byte("  "+token+"\n"))
	return cfg
}

// withAuthorization is ctx carrying an authorization header to gRPC calls; "" carries none.
func withAuthorization(ctx context.Context, v string) context.Context {
	if v == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", v)
}

// With a token configured, every export on either transport must carry it as a Bearer
// credential: without it, or with another, the client is told UNAUTHENTICATED or 401 with
// WWW-Authenticate and an OTLP Status body in its own encoding, the refusal is counted, and the
// consumer sees nothing. Neither token shows up in the log.
func TestBearerToken(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := start(t, withToken(t, testConfig(), testToken), rec)
	req := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").request(t)
	bodies := []struct{ media, file string }{
		{mediaProtobuf, "02-secrets-http-protobuf/logs.http.pb"},
		{mediaJSON, "03-jwt-ip-http-json/logs.http.json"},
	}
	refusals := func() float64 {
		return testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues("grpc", "unauthenticated")) +
			testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues("http", "unauthenticated"))
	}

	for _, tc := range []struct {
		name          string
		authorization string
		ok            bool
	}{
		{"missing", "", false},
		{"wrong token", "Bearer " + wrongToken, false},
		{"the token with more after it", "Bearer " + testToken + "x", false},
		{"part of the token", "Bearer " + testToken[:len(testToken)-1], false},
		{"no scheme", testToken, false},
		{"Basic scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+testToken)), false},
		{"scheme only", "Bearer", false},
		{"right token", "Bearer " + testToken, true},
		{"scheme in lower case", "bearer " + testToken, true},
		{"scheme in upper case, two spaces", "BEARER  " + testToken, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, refused := rec.count(), refusals()

			_, err := h.exportGRPC(withAuthorization(context.Background(), tc.authorization), req)
			switch st := status.Convert(err); {
			case tc.ok && err != nil:
				t.Errorf("gRPC: %v", err)
			case !tc.ok && st.Code() != codes.Unauthenticated:
				t.Errorf("gRPC: %v, want UNAUTHENTICATED", err)
			}

			for _, b := range bodies {
				r := h.postAuth(t, "/v1/logs", b.media, tc.authorization, fixtureNamed(t, b.file).data)
				if tc.ok {
					if r.status != http.StatusOK {
						t.Errorf("HTTP %s: status %d %q, want 200", b.media, r.status, r.body)
					}
					continue
				}
				if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != "Bearer" {
					t.Errorf("HTTP %s: status %d, WWW-Authenticate %q; want 401 and Bearer", b.media, r.status, r.header.Get("WWW-Authenticate"))
				}
				if ct := r.header.Get("Content-Type"); ct != b.media {
					t.Errorf("HTTP %s: the refusal came as %s", b.media, ct)
				}
				if st := r.rpcStatus(t); codes.Code(st.Code) != codes.Unauthenticated || !strings.Contains(st.Message, "token") {
					t.Errorf("HTTP %s: body is status %v %q, want UNAUTHENTICATED saying what is wrong with the token", b.media, codes.Code(st.Code), st.Message)
				}
			}

			wantConsumed, wantRefused := 3, 0.0
			if !tc.ok {
				wantConsumed, wantRefused = 0, 3
			}
			if got := rec.count() - n; got != wantConsumed {
				t.Errorf("the consumer got %d requests, want %d", got, wantConsumed)
			}
			if got := refusals() - refused; got != wantRefused {
				t.Errorf("refused_requests_total{reason=unauthenticated} went up by %v, want %v", got, wantRefused)
			}
		})
	}

	log := h.log.String()
	if strings.Contains(log, testToken[5:]) || strings.Contains(log, wrongToken[5:]) {
		t.Errorf("a token is in the log:\n%s", log)
	}
	if !strings.Contains(log, `level=WARN msg="export refused: the client did not present the bearer token"`) {
		t.Errorf("no warning about unauthenticated clients in the log:\n%s", log)
	}
}

// A request without the token is refused before anything of it is decompressed or decoded: a
// body that is not gzip, which a client with the token is told is malformed, gets only the 401
// or UNAUTHENTICATED, and over HTTP the answer does not wait for a body that never ends.
func TestUnauthenticatedRequestsAreNotRead(t *testing.T) {
	t.Parallel()
	cfg := withToken(t, testConfig(), testToken)
	// Far longer than the client waits below, so that a server reading the body first would
	// make the client give up.
	cfg.ReadTimeout = config.Duration(time.Minute)
	h := start(t, cfg, &recorder{})
	malformed := func(transport string) float64 {
		return testutil.ToFloat64(h.metrics.RefusedRequests.WithLabelValues(transport, "malformed"))
	}
	notGzip := []byte("this is not gzip")
	bearer := http.Header{"Authorization": {"Bearer " + testToken}}

	t.Run("grpc", func(t *testing.T) {
		addr := h.srv.GRPCAddr().String()
		if code, msg := grpcFrame(t, addr, logsExport, "gzip", notGzip); codes.Code(code) != codes.Unauthenticated {
			t.Errorf("without the token: %v %q, want UNAUTHENTICATED", codes.Code(code), msg)
		}
		if got := malformed("grpc"); got != 0 {
			t.Errorf("refused_requests_total{transport=grpc,reason=malformed} = %v: the payload was decompressed", got)
		}
		if code, msg := grpcFrameWith(t, addr, logsExport, "gzip", bearer, notGzip); codes.Code(code) == codes.OK || codes.Code(code) == codes.Unauthenticated {
			t.Errorf("with the token: %v %q, want the payload refused as broken", codes.Code(code), msg)
		}
		if got := malformed("grpc"); got != 1 {
			t.Errorf("with the token, refused_requests_total{transport=grpc,reason=malformed} = %v, want 1", got)
		}
	})

	t.Run("http", func(t *testing.T) {
		send := func(authorization string) response {
			req, err := http.NewRequest(http.MethodPost, h.base+"/v1/logs", strings.NewReader(string(notGzip)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", mediaProtobuf)
			req.Header.Set("Content-Encoding", "gzip")
			if authorization != "" {
				req.Header.Set("Authorization", authorization)
			}
			r, err := roundTrip(h.client, req)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if r := send(""); r.status != http.StatusUnauthorized {
			t.Errorf("without the token: status %d %q, want 401", r.status, r.body)
		}
		if got := malformed("http"); got != 0 {
			t.Errorf("refused_requests_total{transport=http,reason=malformed} = %v: the body was decompressed", got)
		}
		if r := send("Bearer " + testToken); r.status != http.StatusBadRequest {
			t.Errorf("with the token: status %d %q, want 400", r.status, r.body)
		}

		// A body that never ends: a server that read it before answering would keep the client
		// waiting until it gives up.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/v1/logs", &endless{ctx: ctx})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mediaProtobuf)
		r, err := roundTrip(h.client, req)
		if err != nil {
			t.Fatalf("a request without the token whose body never ends: %v", err)
		}
		if r.status != http.StatusUnauthorized {
			t.Errorf("a request without the token whose body never ends: status %d, want 401", r.status)
		}
	})
}

// The log says at start which protections are on, and holds none of their secrets.
func TestStartLogSaysWhatIsOn(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "ca")
	for _, tc := range []struct {
		name string
		cfg  config.Ingest
		want string
	}{
		{"nothing", testConfig(), "tls=false mtls=false bearer_token=false"},
		{"token", withToken(t, testConfig(), testToken), "tls=false mtls=false bearer_token=true"},
		{"tls", tlsConfig(ca.Server(t, "tls"), nil), "tls=true mtls=false bearer_token=false"},
		{"everything", withToken(t, tlsConfig(ca.Server(t, "all"), ca), testToken), "tls=true mtls=true bearer_token=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, tc.cfg, &recorder{})
			log := h.log.String()
			for _, listener := range []string{"otlp/grpc", "otlp/http"} {
				if line := logLine(log, `msg="`+listener+` listening"`); !strings.Contains(line, tc.want) {
					t.Errorf("the log does not say %s is listening with %s:\n%s", listener, tc.want, log)
				}
			}
			if strings.Contains(log, testToken) || strings.Contains(log, "BEGIN") {
				t.Errorf("a secret is in the log:\n%s", log)
			}
		})
	}
}

// Authentication costs a hash of the presented token per request.
func BenchmarkAuthenticate(b *testing.B) {
	creds := &credentialSet{}
	sum := sha256.Sum256([]byte(testToken))
	creds.token = &sum
	header := "Bearer " + testToken
	b.ReportAllocs()
	for b.Loop() {
		if err := creds.authenticate(header); err != nil {
			b.Fatal(err)
		}
	}
}

// logLine is the first line of log containing s, or "".
func logLine(log, s string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

// endless is a request body that sends a little and then nothing more, without ending, until
// ctx is done.
type endless struct {
	ctx  context.Context
	sent bool
}

func (e *endless) Read(p []byte) (int, error) {
	if !e.sent {
		e.sent = true
		return copy(p, "some of a body that goes on and on"), nil
	}
	<-e.ctx.Done()
	return 0, e.ctx.Err()
}

// The token works the same over TLS with client certificates, HTTP/2 included: a refusal there
// ends the connection as over HTTP/1.1, and the client's next request gets a new one.
func TestBearerTokenOverMutualTLS(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "ca")
	client := ca.Client(t, "claude-code")
	rec := &recorder{}
	h := startTLS(t, withToken(t, tlsConfig(ca.Server(t, "gateway"), ca), testToken), rec, clientTLS(ca.Pool, &client))
	req := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").request(t)
	body := fixtureNamed(t, "02-secrets-http-protobuf/logs.http.pb").data

	for i, authorization := range []string{"", "Bearer " + testToken, "Bearer " + wrongToken, "bearer " + testToken} {
		ok := i%2 == 1
		_, err := h.exportGRPC(withAuthorization(context.Background(), authorization), req)
		if got := status.Code(err); (got == codes.OK) != ok || (!ok && got != codes.Unauthenticated) {
			t.Errorf("gRPC with authorization %q: %v", authorization, err)
		}
		r := h.postAuth(t, "/v1/logs", mediaProtobuf, authorization, body)
		if r.proto != 2 {
			t.Errorf("HTTP/%d, want HTTP/2", r.proto)
		}
		wantStatus := http.StatusUnauthorized
		if ok {
			wantStatus = http.StatusOK
		}
		if r.status != wantStatus || (!ok && r.header.Get("WWW-Authenticate") != "Bearer") {
			t.Errorf("HTTP with authorization %q: status %d, WWW-Authenticate %q; want %d", authorization, r.status, r.header.Get("WWW-Authenticate"), wantStatus)
		}
	}
	if got := rec.count(); got != 4 {
		t.Errorf("the consumer got %d requests, want 4", got)
	}
}
