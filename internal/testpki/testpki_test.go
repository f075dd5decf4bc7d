package testpki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// handshake connects a client to a server on 127.0.0.1 and returns what each side made of the
// handshake, and the certificate the client saw.
func handshake(t *testing.T, server, client *tls.Config) (serverErr, clientErr error, seen *x509.Certificate) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.(*tls.Conn).Handshake(); err != nil {
			done <- err
			return
		}
		// A TLS 1.3 server judges the client's certificate after the client is done; reading
		// what the client sends next is what tells the server's verdict to both.
		_, err = c.Read(make([]byte, 1))
		done <- err
	}()
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), client)
	if err == nil {
		defer conn.Close()
		seen = conn.ConnectionState().PeerCertificates[0]
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err = conn.Write([]byte{1}); err == nil {
			_, err = conn.Read(make([]byte, 1)) // the server's alert, or its close
			if err != nil && strings.Contains(err.Error(), "EOF") {
				err = nil
			}
		}
	}
	return <-done, err, seen
}

func TestServerCertificate(t *testing.T) {
	t.Parallel()
	ca, other := NewCA(t, "server CA"), NewCA(t, "other CA")
	srv := ca.Server(t, "collector")
	for _, tc := range []struct {
		name       string
		roots      *x509.CertPool
		serverName string
		refused    string
	}{
		{"by IP", ca.Pool, "127.0.0.1", ""},
		{"by name", ca.Pool, "localhost", ""},
		{"another name", ca.Pool, "example.com", "not example.com"},
		{"another CA", other.Pool, "localhost", "unknown authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err, seen := handshake(t, &tls.Config{Certificates: []tls.Certificate{srv.Cert}},
				&tls.Config{RootCAs: tc.roots, ServerName: tc.serverName})
			if tc.refused == "" {
				if err != nil {
					t.Fatalf("the client refused the server: %v", err)
				}
				if seen.SerialNumber.Cmp(srv.Serial) != 0 || seen.Subject.CommonName != "collector" {
					t.Errorf("the client saw %s, serial %s; want collector, serial %s", seen.Subject.CommonName, seen.SerialNumber, srv.Serial)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.refused) {
				t.Errorf("the client: %v, want it refused with %q", err, tc.refused)
			}
		})
	}
}

func TestClientCertificate(t *testing.T) {
	t.Parallel()
	ca, other := NewCA(t, "client CA"), NewCA(t, "other CA")
	srv := ca.Server(t, "collector")
	notAfter := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, tc := range []struct {
		name    string
		cert    Leaf
		refused string // by the server
	}{
		{"issued by the CA", ca.Client(t, "gateway"), ""},
		{"issued by another CA", other.Client(t, "stranger"), "unknown authority"},
		{"expired", ca.Issue(t, "expired", x509.ExtKeyUsageClientAuth, notAfter), "expired"},
		{"for a server", ca.Server(t, "not-a-client"), "incompatible key usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The certificate is presented whichever CAs the server asks for.
			present := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc.cert.Cert, nil }
			serverErr, _, _ := handshake(t,
				&tls.Config{Certificates: []tls.Certificate{srv.Cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool},
				&tls.Config{RootCAs: ca.Pool, ServerName: "localhost", GetClientCertificate: present})
			if tc.refused == "" {
				if serverErr != nil {
					t.Fatalf("the server refused the client: %v", serverErr)
				}
				return
			}
			if serverErr == nil || !strings.Contains(serverErr.Error(), tc.refused) {
				t.Errorf("the server: %v, want it refused with %q", serverErr, tc.refused)
			}
		})
	}
	expired := ca.Issue(t, "expired-too", x509.ExtKeyUsageClientAuth, notAfter)
	if got := expired.Cert.Leaf.NotAfter; !got.Equal(notAfter) {
		t.Errorf("NotAfter = %v, want %v", got, notAfter)
	}
	if got := expired.Cert.Leaf.NotBefore; !got.Before(notAfter) {
		t.Errorf("NotBefore = %v, not before NotAfter %v", got, notAfter)
	}
}

// TestFiles checks that every file holds what its field says, readable by its owner only, and
// loads as a server or a client would load it.
func TestFiles(t *testing.T) {
	t.Parallel()
	ca := NewCA(t, "ca")
	leaf := ca.Server(t, "gateway")
	for _, f := range []struct {
		path string
		want []byte
	}{{ca.File, ca.PEM}, {leaf.CertFile, leaf.CertPEM}, {leaf.KeyFile, leaf.KeyPEM}} {
		got, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("%s does not hold the PEM", f.path)
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f.path, mode)
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.PEM) || !pool.Equal(ca.Pool) {
		t.Error("the CA's PEM is not the certificate its pool trusts")
	}
	if !ca.Cert.IsCA {
		t.Error("the CA's certificate is not a CA's")
	}
	loaded, err := tls.LoadX509KeyPair(leaf.CertFile, leaf.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Leaf.SerialNumber.Cmp(leaf.Serial) != 0 || leaf.Cert.Leaf.SerialNumber.Cmp(leaf.Serial) != 0 {
		t.Errorf("serials: files %s, tls.Certificate %s; want %s", loaded.Leaf.SerialNumber, leaf.Cert.Leaf.SerialNumber, leaf.Serial)
	}
	if _, err := leaf.Cert.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: "localhost"}); err != nil {
		t.Errorf("the certificate does not verify against its CA: %v", err)
	}
	if ca.Cert.SerialNumber.Cmp(leaf.Serial) == 0 {
		t.Error("the CA and the certificate it issued share a serial number")
	}
}

// fatalTB records the first fatal message and stops the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatal runs do with a TB that records a fatal failure, and returns its message: "" if none.
func fatal(t *testing.T, do func(testing.TB)) string {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		do(tb)
	}()
	<-done
	return tb.msg
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	ca := NewCA(t, "ca")
	ca.Client(t, "gateway")
	dir := t.TempDir()
	WriteFile(t, dir, "token", []byte("first"))
	for _, tc := range []struct {
		name string
		do   func(testing.TB)
		want string
	}{
		{"a name used twice", func(tb testing.TB) { ca.Server(tb, "gateway") }, "gateway.pem: file exists"},
		{"a leaf named after the CA's file", func(tb testing.TB) { ca.Client(tb, "ca") }, "ca.pem: file exists"},
		{"a file written twice", func(tb testing.TB) { WriteFile(tb, dir, "token", []byte("second")) }, "token: file exists"},
		{"a usage neither server nor client", func(tb testing.TB) {
			ca.Issue(tb, "signer", x509.ExtKeyUsageCodeSigning, time.Now().Add(time.Hour))
		}, "neither server nor client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fatal(t, tc.do); !strings.Contains(got, tc.want) {
				t.Errorf("failure %q, want one containing %q", got, tc.want)
			}
		})
	}
	if got, err := os.ReadFile(filepath.Join(dir, "token")); err != nil || string(got) != "first" {
		t.Errorf("the file written first holds %q (%v), want it untouched", got, err)
	}
}
