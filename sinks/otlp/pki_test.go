package otlp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// authority is a certificate authority made up for a test.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// serialNumber is random, so that certificates made by tests running in parallel differ.
func serialNumber(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newAuthority(t testing.TB, name string) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &authority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a certificate for 127.0.0.1 and localhost (a server) or for a client, valid until
// notAfter, and returns it with its PEM files' contents.
func (a *authority) issue(t testing.TB, name string, client bool, notAfter time.Time) (cert tls.Certificate, certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-2 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		tmpl.IPAddresses, tmpl.DNSNames = nil, nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM, keyPEM
}

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
	dir := t.TempDir()
	p := &pki{}
	serverCA := newAuthority(t, "server CA")
	other := newAuthority(t, "some other CA")
	clientCA := newAuthority(t, "client CA")
	p.serverCert, _, _ = serverCA.issue(t, "collector", false, time.Now().Add(time.Hour))
	p.caFile = writeFile(t, dir, "ca.pem", serverCA.pem)
	p.otherCAFile = writeFile(t, dir, "other-ca.pem", other.pem)
	p.clientCAs = x509.NewCertPool()
	p.clientCAs.AddCert(clientCA.cert)
	_, certPEM, keyPEM := clientCA.issue(t, "gateway", true, time.Now().Add(time.Hour))
	p.clientCertFile = writeFile(t, dir, "client.pem", certPEM)
	p.clientKeyFile = writeFile(t, dir, "client-key.pem", keyPEM)
	_, certPEM, keyPEM = other.issue(t, "stranger", true, time.Now().Add(time.Hour))
	p.strangerCertFile = writeFile(t, dir, "stranger.pem", certPEM)
	p.strangerKeyFile = writeFile(t, dir, "stranger-key.pem", keyPEM)
	_, certPEM, keyPEM = clientCA.issue(t, "expired", true, time.Now().Add(-time.Hour))
	p.expiredCertFile = writeFile(t, dir, "expired.pem", certPEM)
	p.expiredKeyFile = writeFile(t, dir, "expired-key.pem", keyPEM)
	return p
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

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
