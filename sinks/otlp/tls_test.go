package otlp

import (
	"strings"
	"testing"
)

// TestTLS runs each protocol against a TLS destination: trusted through ca_file, not trusted,
// and demanding a client certificate. A certificate problem is configuration, not data: it is
// retried, and its error says what to look at.
func TestTLS(t *testing.T) {
	p := newPKI(t)
	for _, tc := range []struct {
		name     string
		mTLS     bool
		ca       string
		cert     string
		key      string
		want     outcome
		says     []string // for HTTP, where Go's errors can be told apart
		grpcSays []string
	}{
		{name: "custom CA", ca: p.caFile, want: delivered},
		{name: "system roots", want: retryable,
			says: []string{"not trusted (check ca_file)", "x509"}, grpcSays: []string{"TLS handshake failed", "x509"}},
		{name: "wrong CA", ca: p.otherCAFile, want: retryable,
			says: []string{"not trusted (check ca_file)"}, grpcSays: []string{"TLS handshake failed", "check the endpoint, ca_file"}},
		{name: "mTLS", mTLS: true, ca: p.caFile, cert: p.clientCertFile, key: p.clientKeyFile, want: delivered},
		// Under TLS 1.3 the server refuses a client certificate after the client has finished
		// its handshake; whether the client then reads the alert that says why, or finds the
		// connection reset first, is a race. Either way it is retried.
		{name: "mTLS without a client certificate", mTLS: true, ca: p.caFile, want: retryable},
		{name: "mTLS with a certificate the destination does not trust", mTLS: true, ca: p.caFile,
			cert: p.strangerCertFile, key: p.strangerKeyFile, want: retryable},
	} {
		for _, protocol := range protocols {
			t.Run(tc.name+"/"+strings.ReplaceAll(protocol, "/", "-"), func(t *testing.T) {
				t.Parallel()
				dest := start(t, protocol, p.serverTLS(tc.mTLS))
				if !strings.HasPrefix(dest.endpoint, "https://") {
					t.Fatalf("the destination is at %s, want https", dest.endpoint)
				}
				h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: protocol, CAFile: tc.ca, CertFile: tc.cert, KeyFile: tc.key})
				err := h.write(t, capturedLogs(t))
				if got := outcomeOf(err); got != tc.want {
					t.Fatalf("Write = %v (%s), want %s", err, got, tc.want)
				}
				if err == nil {
					got := dest.received()
					if len(got) != 1 {
						t.Fatalf("the destination got %d exports, want 1", len(got))
					}
					if protocol != GRPC && got[0].httpMajor != 2 {
						t.Errorf("HTTP/%d over TLS, want HTTP/2", got[0].httpMajor)
					}
					return
				}
				if host := strings.TrimPrefix(dest.endpoint, "https://"); !strings.Contains(err.Error(), "https://"+host) {
					t.Errorf("error %q does not name the endpoint", err)
				}
				says := tc.says
				if protocol == GRPC {
					says = tc.grpcSays
				}
				for _, s := range says {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				assertNoSecrets(t, "the error", err.Error())
			})
		}
	}
}

// TestExpiredClientCertificate checks that an expired client certificate is loaded (it may be
// renewed in place) but named in a warning at startup.
func TestExpiredClientCertificate(t *testing.T) {
	p := newPKI(t)
	h := newHarness(t, Options{Endpoint: "https://127.0.0.1:1", Protocol: HTTPProtobuf, CertFile: p.expiredCertFile, KeyFile: p.expiredKeyFile})
	if lines := h.log.Lines("client certificate has expired"); len(lines) != 1 || !strings.Contains(lines[0], p.expiredCertFile) {
		t.Errorf("want one warning naming %s, got:\n%s", p.expiredCertFile, h.log.String())
	}
}
