package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"

	"claude-otel-gw/config"
	"claude-otel-gw/internal/testpki"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// tlsConfig is testConfig with TLS on both listeners, serving cert; with clientCA, clients must
// present a certificate it issued.
func tlsConfig(cert testpki.Leaf, clientCA *testpki.CA) config.Ingest {
	cfg := testConfig()
	cfg.TLSCertFile, cfg.TLSKeyFile = cert.CertFile, cert.KeyFile
	if clientCA != nil {
		cfg.ClientCAFile = clientCA.File
	}
	return cfg
}

// clientTLS is what a client trusts and presents: the CAs it verifies the server with, and its
// own certificate, if any. The certificate is presented whichever CAs the server asks for, as a
// client trying its luck would.
func clientTLS(roots *x509.CertPool, cert *testpki.Leaf) *tls.Config {
	c := &tls.Config{RootCAs: roots}
	if cert != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert.Cert, nil
		}
	}
	return c
}

// tlsClients are a gRPC and an HTTP client, each with a connection of its own, that speak TLS
// configured by clientTLS (plaintext if nil) to h's listeners.
type tlsClients struct {
	grpc func(context.Context) error
	http func() (response, error)
}

func clientsFor(t *testing.T, h *harness, clientTLS *tls.Config) tlsClients {
	t.Helper()
	conn := grpcConn(t, h.srv.GRPCAddr().String(), clientTLS)
	client := httpClient(t, clientTLS)
	scheme := "http://"
	if clientTLS != nil {
		scheme = "https://"
	}
	req := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").request(t)
	body := fixtureNamed(t, "02-secrets-http-protobuf/logs.http.pb").data
	return tlsClients{
		grpc: func(ctx context.Context) error {
			_, err := exportOn(ctx, conn, req)
			return err
		},
		http: func() (response, error) {
			r, err := http.NewRequest(http.MethodPost, scheme+h.srv.HTTPAddr().String()+"/v1/logs", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", mediaProtobuf)
			return roundTrip(client, r)
		},
	}
}

// accepted checks that both clients' exports are acknowledged and reach the consumer.
func (c tlsClients) accepted(t *testing.T, rec *recorder) {
	t.Helper()
	n := rec.count()
	if err := c.grpc(context.Background()); err != nil {
		t.Errorf("gRPC export: %v", err)
	}
	r, err := c.http()
	switch {
	case err != nil:
		t.Errorf("HTTP export: %v", err)
	case r.status != http.StatusOK:
		t.Errorf("HTTP export: status %d, body %q", r.status, r.body)
	}
	if got := rec.count() - n; got != 2 {
		t.Errorf("the consumer got %d requests, want 2", got)
	}
}

// refused checks that neither client's export is acknowledged nor reaches the consumer, and that
// the gRPC client is told the server is unavailable, with a message containing grpcMsg. When the
// server refuses the handshake, what the client sees depends on how far it got (a TLS alert, a
// broken pipe), so grpcMsg is for failures the client finds itself.
func (c tlsClients) refused(t *testing.T, rec *recorder, grpcMsg string) (response, error) {
	t.Helper()
	n := rec.count()
	err := c.grpc(context.Background())
	if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), grpcMsg) {
		t.Errorf("gRPC export: %v, want UNAVAILABLE mentioning %q", err, grpcMsg)
	}
	r, httpErr := c.http()
	if httpErr == nil && r.status == http.StatusOK {
		t.Errorf("HTTP export acknowledged")
	}
	if got := rec.count() - n; got != 0 {
		t.Errorf("the consumer got %d requests, want none", got)
	}
	return r, httpErr
}

// With TLS on, clients that trust the server's CA export over TLS 1.2 or later, HTTP over
// HTTP/2; a plaintext client, one that trusts another CA, or one that offers only TLS 1.1 gets
// nothing through.
func TestTLS(t *testing.T) {
	t.Parallel()
	ca, other := testpki.NewCA(t, "ca"), testpki.NewCA(t, "other-ca")
	rec := &recorder{}
	h := startTLS(t, tlsConfig(ca.Server(t, "gateway"), nil), rec, clientTLS(ca.Pool, nil))

	t.Run("trusted", func(t *testing.T) {
		clientsFor(t, h, clientTLS(ca.Pool, nil)).accepted(t, rec)
		r := h.post(t, "/v1/logs", mediaProtobuf, "", fixtureNamed(t, "02-secrets-http-protobuf/logs.http.pb").data)
		if r.status != http.StatusOK || r.tls == nil || r.tls.Version < tls.VersionTLS12 || r.proto != 2 {
			t.Errorf("HTTP export: status %d, TLS %v, HTTP/%d; want 200 over TLS 1.2+ and HTTP/2", r.status, r.tls, r.proto)
		}
	})
	t.Run("plaintext", func(t *testing.T) {
		// net/http answers a plaintext request on a TLS port with a 400 and closes the
		// connection, which the client may see as a reset while it is still sending.
		if r, err := clientsFor(t, h, nil).refused(t, rec, ""); err == nil && r.status != http.StatusBadRequest {
			t.Errorf("HTTP export in plaintext: status %d %q; want 400 or a broken connection", r.status, r.body)
		}
	})
	t.Run("another CA", func(t *testing.T) {
		_, err := clientsFor(t, h, clientTLS(other.Pool, nil)).refused(t, rec, "certificate signed by unknown authority")
		var unverified *tls.CertificateVerificationError
		if !errors.As(err, &unverified) {
			t.Errorf("HTTP export trusting another CA: %v, want a certificate verification error", err)
		}
	})
	t.Run("TLS 1.1", func(t *testing.T) {
		for _, addr := range []string{h.srv.GRPCAddr().String(), h.srv.HTTPAddr().String()} {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
			if err == nil {
				conn.Close()
				t.Errorf("%s: a TLS 1.1 handshake succeeded", addr)
			}
		}
	})
}

// With a client CA, only clients presenting a certificate it issued get through.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	ca, other := testpki.NewCA(t, "ca"), testpki.NewCA(t, "other-ca")
	good, foreign := ca.Client(t, "claude-code"), other.Client(t, "intruder")
	rec := &recorder{}
	h := startTLS(t, tlsConfig(ca.Server(t, "gateway"), ca), rec, nil)

	t.Run("certificate from the client CA", func(t *testing.T) {
		clientsFor(t, h, clientTLS(ca.Pool, &good)).accepted(t, rec)
	})
	t.Run("no certificate", func(t *testing.T) {
		if _, err := clientsFor(t, h, clientTLS(ca.Pool, nil)).refused(t, rec, ""); err == nil {
			t.Errorf("HTTP export without a client certificate: no error")
		}
	})
	t.Run("certificate from another CA", func(t *testing.T) {
		if _, err := clientsFor(t, h, clientTLS(ca.Pool, &foreign)).refused(t, rec, ""); err == nil {
			t.Errorf("HTTP export with a foreign client certificate: no error")
		}
	})
}

// peerSerial is the serial number of the certificate a server presented.
func peerSerial(t *testing.T, cs *tls.ConnectionState) string {
	t.Helper()
	if cs == nil || len(cs.PeerCertificates) == 0 {
		t.Fatal("no server certificate")
	}
	return cs.PeerCertificates[0].SerialNumber.String()
}

// pool trusts every CA given.
func pool(cas ...*testpki.CA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.Cert)
	}
	return p
}
