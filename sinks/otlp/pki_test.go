package otlp

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"claude-otel-gw/internal/testpki"
)

// pki is what the TLS tests need: a server certificate signed by one authority, the files of
// that authority and of another one, and a client certificate signed by a third.
type pki struct {
	serverCert       tls.Certificate
	caFile           string // signed the server's certificate
	otherCAFile      string // did not
	clientCAs        *x509.CertPool
	clientCertFile   string
	clientKeyFile    string
	strangerCertFile string // a client certificate from an authority the server does not know
	strangerKeyFile  string
	expiredCertFile  string
	expiredKeyFile   string
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	serverCA := testpki.NewCA(t, "server CA")
	other := testpki.NewCA(t, "some other CA")
	clientCA := testpki.NewCA(t, "client CA")
	client := clientCA.Client(t, "gateway")
	stranger := other.Client(t, "stranger")
	expired := clientCA.Issue(t, "expired", x509.ExtKeyUsageClientAuth, time.Now().Add(-time.Hour))
	return &pki{
		serverCert:       serverCA.Server(t, "collector").Cert,
		caFile:           serverCA.File,
		otherCAFile:      other.File,
		clientCAs:        clientCA.Pool,
		clientCertFile:   client.CertFile,
		clientKeyFile:    client.KeyFile,
		strangerCertFile: stranger.CertFile,
		strangerKeyFile:  stranger.KeyFile,
		expiredCertFile:  expired.CertFile,
		expiredKeyFile:   expired.KeyFile,
	}
}

// serverTLS is the destination's TLS configuration; with mTLS it demands a client certificate
// from the client authority.
func (p *pki) serverTLS(mTLS bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.serverCert}, MinVersion: tls.VersionTLS12}
	if mTLS {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = p.clientCAs
	}
	return c
}
