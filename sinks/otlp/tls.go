package otlp

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// clientTLS is the TLS configuration for an https endpoint: the system roots, or only the CAs
// in caFile; and the client certificate in certFile and keyFile, when given. Each file is read
// now, so that a bad one fails at startup and says which file and what is wrong with it, rather
// than failing every handshake later.
func clientTLS(caFile, certFile, keyFile string, log *slog.Logger) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := loadCAs(caFile)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile != "":
		cert, err := loadKeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		if leaf := cert.Leaf; leaf != nil && time.Now().After(leaf.NotAfter) {
			// Not an error: the file may be renewed in place before the gateway restarts, and
			// until then the destination's refusal is retried like any other.
			log.Warn("otlp sink: the client certificate has expired", "cert_file", certFile, "not_after", leaf.NotAfter)
		}
		conf.Certificates = []tls.Certificate{cert}
	case certFile != "":
		return nil, errors.New("cert_file needs key_file")
	case keyFile != "":
		return nil, errors.New("key_file needs cert_file")
	}
	return conf, nil
}

// loadCAs reads every certificate in a PEM file. Unlike x509.CertPool.AppendCertsFromPEM it
// refuses a file with a broken certificate instead of skipping it.
func loadCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	n := 0
	var others []string
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			others = append(others, b.Type)
			continue
		}
		n++
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ca_file %s: certificate %d: %w", path, n, err)
		}
		pool.AddCert(c)
	}
	if n == 0 {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it%s", path, blockTypes(others))
	}
	return pool, nil
}

// loadKeyPair reads a client certificate and its key, saying which file is at fault.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cert_file: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key_file: %w", err)
	}
	if types := pemTypes(certPEM); !hasType(types, "CERTIFICATE") {
		return tls.Certificate{}, fmt.Errorf("cert_file %s: no PEM certificate in it%s", certFile, blockTypes(types))
	}
	if types := pemTypes(keyPEM); !hasType(types, "PRIVATE KEY") {
		return tls.Certificate{}, fmt.Errorf("key_file %s: no PEM private key in it%s", keyFile, blockTypes(types))
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cert_file %s with key_file %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// pemTypes lists the types of the PEM blocks in data, in order.
func pemTypes(data []byte) []string {
	var types []string
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return types
		}
		types = append(types, b.Type)
	}
}

// hasType reports whether a block type ends with suffix ("PRIVATE KEY" matches "RSA PRIVATE
// KEY", "EC PRIVATE KEY" and PKCS #8's plain "PRIVATE KEY").
func hasType(types []string, suffix string) bool {
	for _, t := range types {
		if strings.HasSuffix(t, suffix) {
			return true
		}
	}
	return false
}

// blockTypes says what a file holds instead, to tell a swapped file from a broken one.
func blockTypes(types []string) string {
	if len(types) == 0 {
		return ""
	}
	return " (it holds " + strings.Join(types, ", ") + ")"
}
