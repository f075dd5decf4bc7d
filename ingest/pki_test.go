package ingest

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

// testCA is a certificate authority made up for one test, with its certificate in a file.
type testCA struct {
	t    testing.TB
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the CA certificate, PEM
	pool *x509.CertPool
}

// leaf is a certificate a testCA issued: as files for the server's config and as a
// tls.Certificate for a client.
type leaf struct {
	certFile, keyFile string
	cert              tls.Certificate
	serial            *big.Int
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{t: t, dir: dir, cert: cert, key: key, pool: pool,
		file: writeSecret(t, dir, name+"-ca.pem", pemBlock("CERTIFICATE", der))}
}

// server issues a certificate for 127.0.0.1.
func (ca *testCA) server(name string) leaf {
	return ca.issue(name, x509.ExtKeyUsageServerAuth)
}

// client issues a client certificate.
func (ca *testCA) client(name string) leaf {
	return ca.issue(name, x509.ExtKeyUsageClientAuth)
}

func (ca *testCA) issue(name string, usage x509.ExtKeyUsage) leaf {
	t := ca.t
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM := pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return leaf{
		certFile: writeSecret(t, ca.dir, name+".pem", certPEM),
		keyFile:  writeSecret(t, ca.dir, name+"-key.pem", keyPEM),
		cert:     cert,
		serial:   tmpl.SerialNumber,
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func newSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// writeSecret writes a file readable by its owner only, as the config requires of keys and
// tokens, and returns its path.
func writeSecret(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clientTLS is what a client trusts and presents: the CAs it verifies the server with, and its
// own certificate, if any. The certificate is presented whichever CAs the server asks for, as a
// client trying its luck would.
func clientTLS(roots *x509.CertPool, cert *leaf) *tls.Config {
	c := &tls.Config{RootCAs: roots}
	if cert != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert.cert, nil
		}
	}
	return c
}
