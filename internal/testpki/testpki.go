// Package testpki makes certificate authorities and the certificates they issue for tests of
// TLS and mutual TLS: servers on 127.0.0.1 or localhost, clients, and certificates that have
// expired. It is for tests only: the keys are made on the spot, kept in memory and in files
// under t.TempDir(), and nothing in the daemon may import it.
package testpki

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
	"testing"
	"time"
)

// CA is a certificate authority made up for one test, valid from an hour ago to an hour from now.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte         // Cert, PEM-encoded
	File string         // PEM, in a file of the CA's own folder, readable by its owner only
	Pool *x509.CertPool // trusts this CA alone

	// dir holds File and the files of every certificate the CA issues.
	dir string
}

// Leaf is a certificate a CA issued, in every form a test hands to a server, a client or a
// config: a tls.Certificate (its Leaf set), PEM, and files readable by their owner only.
type Leaf struct {
	Cert     tls.Certificate
	Serial   *big.Int
	CertPEM  []byte
	KeyPEM   []byte
	CertFile string
	KeyFile  string
}

// NewCA makes a CA whose certificate names it; its files go in a folder of its own in
// t.TempDir(), the certificate as ca.pem.
func NewCA(t testing.TB, name string) *CA {
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
		t.Fatalf("testpki: CA %q: %v", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testpki: CA %q: %v", name, err)
	}
	ca := &CA{Cert: cert, Key: key, PEM: pemBlock("CERTIFICATE", der), Pool: x509.NewCertPool(), dir: t.TempDir()}
	ca.Pool.AddCert(cert)
	ca.File = WriteFile(t, ca.dir, "ca.pem", ca.PEM)
	return ca
}

// Server issues a server certificate for 127.0.0.1 and localhost, valid for an hour.
func (ca *CA) Server(t testing.TB, name string) Leaf {
	t.Helper()
	return ca.Issue(t, name, x509.ExtKeyUsageServerAuth, time.Now().Add(time.Hour))
}

// Client issues a client certificate, valid for an hour.
func (ca *CA) Client(t testing.TB, name string) Leaf {
	t.Helper()
	return ca.Issue(t, name, x509.ExtKeyUsageClientAuth, time.Now().Add(time.Hour))
}

// Issue signs a certificate named name for usage, x509.ExtKeyUsageServerAuth (for 127.0.0.1
// and localhost) or x509.ExtKeyUsageClientAuth, valid until notAfter: a notAfter in the past
// makes an expired certificate, valid for the hour before it. Its files are name.pem and
// name-key.pem in the CA's folder; a name the CA has used already fails the test.
func (ca *CA) Issue(t testing.TB, name string, usage x509.ExtKeyUsage, notAfter time.Time) Leaf {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    earlier(time.Now(), notAfter).Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	switch usage {
	case x509.ExtKeyUsageServerAuth:
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	case x509.ExtKeyUsageClientAuth:
	default:
		t.Fatalf("testpki: certificate %q: usage %v is neither server nor client authentication", name, usage)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatalf("testpki: certificate %q: %v", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testpki: certificate %q: %v", name, err)
	}
	certPEM, keyPEM := pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("testpki: certificate %q: %v", name, err)
	}
	return Leaf{
		Cert:     cert,
		Serial:   tmpl.SerialNumber,
		CertPEM:  certPEM,
		KeyPEM:   keyPEM,
		CertFile: WriteFile(t, ca.dir, name+".pem", certPEM),
		KeyFile:  WriteFile(t, ca.dir, name+"-key.pem", keyPEM),
	}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testpki: key: %v", err)
	}
	return key
}

// newSerial is random, so that certificates made by tests running in parallel, or by two CAs
// of one test, never share a serial number a test tells them apart by.
func newSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("testpki: serial number: %v", err)
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
