package ingest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"unicode"

	"claude-otel-gw/config"
)

// maxCredentialFile bounds what is read of a certificate, key or token file: real ones are a
// few KiB, and a config pointing at some huge file by mistake should fail, not fill memory.
const maxCredentialFile = 1 << 20

// credentialSet is what the listeners prove themselves and check their clients with: the server
// certificate, the CAs a client certificate must chain to, and the bearer token. A set is loaded
// whole from the files a config names and never changed afterwards; the Server holds the current
// set behind an atomic pointer, so a handshake or a request sees one set, old or new, never a mix.
type credentialSet struct {
	// tls is the TLS configuration a new connection on each listener gets; nil when TLS is off.
	// A session resumed from a ticket issued under an older set has its client certificate
	// checked again against this set's CAs (crypto/tls does that), so a client the new CAs
	// refuse cannot get in by resuming.
	tls [numTransports]*tls.Config
	// mtls is set when clients must present a certificate.
	mtls bool
	// token is the SHA-256 digest of the bearer token, nil when requests need none. Only the
	// digest is kept: comparing digests takes the same time whatever the lengths.
	token *[sha256.Size]byte
}

// UpdateCredentials loads the certificate and key, the client CAs and the bearer token that cfg
// names and puts them in place of the current ones: every TLS handshake from then on uses the new
// certificate and CAs, and every request is checked against the new token. Connections already
// open keep the TLS session they have; their requests are checked against the new token. It is
// all or nothing: on any error nothing changes. The rest of cfg (addresses, limits) is not looked
// at; a change there needs a new Server.
//
// TLS cannot be turned on or off this way (the listeners would have to be bound again), but a
// client CA or a token may come or go.
func (s *Server) UpdateCredentials(cfg config.Ingest) error {
	if cfg.TLS() != s.cfg.TLS() {
		if cfg.TLS() {
			return errors.New("ingest: turning TLS on needs the otlp listeners bound again; credentials left as they were")
		}
		return errors.New("ingest: turning TLS off needs the otlp listeners bound again; credentials left as they were")
	}
	c, err := loadCredentials(cfg)
	if err != nil {
		return err
	}
	s.creds.Store(c)
	s.log.Info("otlp credentials updated", c.logAttrs()...)
	return nil
}

// nextProtos are the ALPN protocols each listener offers: gRPC needs HTTP/2; OTLP/HTTP clients
// may use either.
var nextProtos = [numTransports][]string{
	transportGRPC: {"h2"},
	transportHTTP: {"h2", "http/1.1"},
}

// loadCredentials reads and checks every file cfg names, and reports every problem at once,
// each naming its config key and file. It says what is wrong with a file, never what is in it.
func loadCredentials(cfg config.Ingest) (*credentialSet, error) {
	c := &credentialSet{}
	var errs []error
	var cert *tls.Certificate
	switch {
	case cfg.TLSCertFile != "" && cfg.TLSKeyFile == "":
		errs = append(errs, errors.New("ingest.tls_cert_file needs ingest.tls_key_file"))
	case cfg.TLSCertFile == "" && cfg.TLSKeyFile != "":
		errs = append(errs, errors.New("ingest.tls_key_file needs ingest.tls_cert_file"))
	case cfg.TLS():
		var err error
		if cert, err = loadKeyPair(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			errs = append(errs, err)
		}
	}
	var clientCAs *x509.CertPool
	if cfg.ClientCAFile != "" {
		if !cfg.TLS() {
			errs = append(errs, errors.New("ingest.client_ca_file needs TLS: set ingest.tls_cert_file and ingest.tls_key_file"))
		} else {
			var err error
			if clientCAs, err = loadCAs(cfg.ClientCAFile); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if cfg.BearerTokenFile != "" {
		token, err := loadToken(cfg.BearerTokenFile)
		if err != nil {
			errs = append(errs, err)
		}
		c.token = token
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cert != nil {
		for t := range numTransports {
			tc := &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{*cert},
				NextProtos:   nextProtos[t],
			}
			if clientCAs != nil {
				tc.ClientCAs = clientCAs
				tc.ClientAuth = tls.RequireAndVerifyClientCert
			}
			c.tls[t] = tc
		}
		c.mtls = clientCAs != nil
	}
	return c, nil
}

// logAttrs say what the set turns on, for the log; never what the secrets are.
func (c *credentialSet) logAttrs() []any {
	return []any{
		slog.Bool("tls", c.tls[transportGRPC] != nil),
		slog.Bool("mtls", c.mtls),
		slog.Bool("bearer_token", c.token != nil),
	}
}

// fileError is a problem with a credential file, named by its config key and path.
type fileError struct {
	key  string // as in the config file: ingest.tls_cert_file
	path string
	err  error
}

func (e *fileError) Error() string { return fmt.Sprintf("%s %q: %v", e.key, e.path, e.err) }
func (e *fileError) Unwrap() error { return e.err }

// readCredentialFile reads a whole credential file, up to maxCredentialFile bytes.
func readCredentialFile(key, path string) ([]byte, error) {
	fail := func(err error) ([]byte, error) { return nil, &fileError{key, path, err} }
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return fail(fmt.Errorf("cannot read it: %w", err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialFile+1))
	if err != nil {
		return fail(fmt.Errorf("cannot read it: %w", err))
	}
	if len(data) > maxCredentialFile {
		return fail(fmt.Errorf("larger than %d bytes; not a certificate, key or token file", maxCredentialFile))
	}
	return data, nil
}

// loadKeyPair reads the server certificate (with any intermediates after it) and its private
// key, and checks that they belong together. tls.X509KeyPair would do the same, but its errors
// do not say which of the two files is at fault.
func loadKeyPair(certPath, keyPath string) (*tls.Certificate, error) {
	const certKey, keyKey = "ingest.tls_cert_file", "ingest.tls_key_file"
	certPEM, certErr := readCredentialFile(certKey, certPath)
	keyPEM, keyErr := readCredentialFile(keyKey, keyPath)
	var certs []*x509.Certificate
	var ders [][]byte
	if certErr == nil {
		if certs, ders, certErr = parseCertificates(certPEM); certErr != nil {
			certErr = &fileError{certKey, certPath, certErr}
		}
	}
	var key crypto.Signer
	if keyErr == nil {
		if key, keyErr = parsePrivateKey(keyPEM); keyErr != nil {
			keyErr = &fileError{keyKey, keyPath, keyErr}
		}
	}
	if err := errors.Join(certErr, keyErr); err != nil {
		return nil, err
	}
	pub, ok := certs[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, &fileError{keyKey, keyPath,
			fmt.Errorf("the private key does not match the certificate in %s %q (the first certificate in it)", certKey, certPath)}
	}
	return &tls.Certificate{Certificate: ders, PrivateKey: key, Leaf: certs[0]}, nil
}

// loadCAs reads the CA certificates client certificates must chain to.
func loadCAs(path string) (*x509.CertPool, error) {
	const key = "ingest.client_ca_file"
	data, err := readCredentialFile(key, path)
	if err != nil {
		return nil, err
	}
	certs, _, err := parseCertificates(data)
	if err != nil {
		return nil, &fileError{key, path, err}
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// loadToken reads the bearer token: the file's content without surrounding whitespace (an
// editor's final newline is not part of it).
func loadToken(path string) (*[sha256.Size]byte, error) {
	const key = "ingest.bearer_token_file"
	data, err := readCredentialFile(key, path)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(string(data))
	switch {
	case token == "":
		return nil, &fileError{key, path, errors.New("the token is empty")}
	case strings.ContainsFunc(token, unicode.IsControl):
		// A header value cannot carry these, so no client could ever send this token.
		return nil, &fileError{key, path, errors.New("the token holds a line break or another control character; it must be one line of text")}
	}
	sum := sha256.Sum256([]byte(token))
	return &sum, nil
}

// parseCertificates parses every PEM CERTIFICATE block in data, in order, ignoring blocks of
// other types as tls.X509KeyPair and x509.CertPool do.
func parseCertificates(data []byte) ([]*x509.Certificate, [][]byte, error) {
	var certs []*x509.Certificate
	var ders [][]byte
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate %d in it does not parse: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
		ders = append(ders, b.Bytes)
	}
	if len(certs) == 0 {
		return nil, nil, errors.New(`no certificate in it (a PEM "CERTIFICATE" block)`)
	}
	return certs, ders, nil
}

// parsePrivateKey parses the first PEM private key block in data: PKCS #8, PKCS #1 (RSA) or
// SEC 1 (EC), the forms tls.X509KeyPair takes.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	var others []string
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "PRIVATE KEY" && !strings.HasSuffix(b.Type, " PRIVATE KEY") {
			others = append(others, b.Type)
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, errors.New("the private key is encrypted; the gateway needs it unencrypted, in a file only its owner can read")
		}
		return parseKeyDER(b.Bytes)
	}
	if len(others) > 0 {
		return nil, fmt.Errorf(`no private key in it (a PEM "PRIVATE KEY" block); found %s`, strings.Join(others, ", "))
	}
	return nil, errors.New(`no private key in it (a PEM "PRIVATE KEY" block)`)
}

func parseKeyDER(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		switch k := k.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return k.(crypto.Signer), nil
		}
		return nil, fmt.Errorf("the private key is of a type TLS cannot use (%T)", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("the private key does not parse as PKCS #8, PKCS #1 or SEC 1")
}
