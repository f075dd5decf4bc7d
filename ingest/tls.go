package ingest

import (
	"crypto/tls"
)

// listenerTLS is the TLS configuration a listener is built with. It holds no certificate of its
// own: each handshake takes the configuration of the credentials current at that moment, which
// is what lets UpdateCredentials replace the certificate and the client CAs without closing the
// listener.
func (s *Server) listenerTLS(t transport) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.creds.Load().tls[t], nil
		},
	}
}
