package ingest

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/testpki"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// New refuses credential files it cannot use, naming the config key and the file and saying
// what is wrong, never what the file holds; every bad file is reported at once.
func TestNewRefusesBadCredentialFiles(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "ca")
	good, other := ca.Server(t, "gateway"), ca.Server(t, "other")
	dir := t.TempDir()
	file := func(name, content string) string { return testpki.WriteFile(t, dir, name, []byte(content)) }
	certPEM, err := os.ReadFile(good.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(good.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	keyBlock, _ := pem.Decode(keyPEM)
	encrypted := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   keyBlock.Bytes}))

	type files struct{ cert, key, ca, token string }
	for _, tc := range []struct {
		name  string
		files files
		want  []string // each a line of the error
	}{
		{"certificate not PEM", files{cert: file("cert.txt", "not a certificate\n"), key: good.KeyFile},
			[]string{`ingest.tls_cert_file "` + dir + `/cert.txt": no certificate in it (a PEM "CERTIFICATE" block)`}},
		{"certificate file holds a key", files{cert: good.KeyFile, key: good.KeyFile},
			[]string{`ingest.tls_cert_file "` + good.KeyFile + `": no certificate in it`}},
		{"certificate that does not parse", files{cert: file("junk.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}))), key: good.KeyFile},
			[]string{`ingest.tls_cert_file "` + dir + `/junk.pem": certificate 1 in it does not parse: x509: malformed certificate`}},
		{"missing certificate", files{cert: filepath.Join(dir, "nowhere.pem"), key: good.KeyFile},
			[]string{`ingest.tls_cert_file "` + dir + `/nowhere.pem": cannot read it: no such file or directory`}},
		{"key not PEM", files{cert: good.CertFile, key: file("key.txt", "not a key")},
			[]string{`ingest.tls_key_file "` + dir + `/key.txt": no private key in it (a PEM "PRIVATE KEY" block)`}},
		{"key file holds a certificate", files{cert: good.CertFile, key: good.CertFile},
			[]string{`ingest.tls_key_file "` + good.CertFile + `": no private key in it (a PEM "PRIVATE KEY" block); found CERTIFICATE`}},
		{"key that does not parse", files{cert: good.CertFile, key: file("junk-key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")})))},
			[]string{`ingest.tls_key_file "` + dir + `/junk-key.pem": the private key does not parse as PKCS #8, PKCS #1 or SEC 1`}},
		{"encrypted key", files{cert: good.CertFile, key: file("encrypted.pem", encrypted)},
			[]string{`ingest.tls_key_file "` + dir + `/encrypted.pem": the private key is encrypted`}},
		{"key of another certificate", files{cert: good.CertFile, key: other.KeyFile},
			[]string{`ingest.tls_key_file "` + other.KeyFile + `": the private key does not match the certificate in ingest.tls_cert_file "` + good.CertFile + `"`}},
		{"client CA not PEM", files{cert: good.CertFile, key: good.KeyFile, ca: file("ca.txt", "not a CA")},
			[]string{`ingest.client_ca_file "` + dir + `/ca.txt": no certificate in it`}},
		{"client CA without TLS", files{ca: ca.File},
			[]string{`ingest.client_ca_file needs TLS`}},
		{"key without certificate", files{key: good.KeyFile},
			[]string{`ingest.tls_key_file needs ingest.tls_cert_file`}},
		{"empty token", files{token: file("empty-token", " \n\t\n")},
			[]string{`ingest.bearer_token_file "` + dir + `/empty-token": the token is empty`}},
		{"token of two lines", files{token: file("two-lines", testToken+"\n"+wrongToken+"\n")},
			[]string{`ingest.bearer_token_file "` + dir + `/two-lines": the token holds a line break`}},
		{"every bad file at once", files{cert: good.CertFile, key: other.KeyFile, ca: file("ca2.txt", "x"), token: file("empty2", "")},
			[]string{`ingest.tls_key_file "` + other.KeyFile + `": the private key does not match`,
				`ingest.client_ca_file "` + dir + `/ca2.txt": no certificate in it`,
				`ingest.bearer_token_file "` + dir + `/empty2": the token is empty`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.TLSCertFile, cfg.TLSKeyFile, cfg.ClientCAFile, cfg.BearerTokenFile = tc.files.cert, tc.files.key, tc.files.ca, tc.files.token
			s, err := New(cfg, &recorder{}, admin.NewTestMetrics(), nil)
			if err == nil {
				s.Shutdown(context.Background())
				t.Fatal("New accepted the config")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("New: %d problems, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, want := range tc.want {
				if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
					t.Errorf("New: %v\nwant a line starting %s", err, want)
				}
			}
			for _, secret := range []string{"BEGIN", strings.TrimSpace(string(certPEM[40:80])), strings.TrimSpace(string(keyPEM[40:80])), testToken, wrongToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows what a file holds (%q): %v", secret, err)
				}
			}
		})
	}
}

// UpdateCredentials swaps the token: from then on, on connections old and new, the old token is
// refused and the new one accepted; with the token file gone from the config, no token is needed.
func TestUpdateCredentialsSwapsTheToken(t *testing.T) {
	t.Parallel()
	const newToken = "c0tg-5be1e0c2a8d94f7b9c33"
	cfg := withToken(t, testConfig(), testToken)
	rec := &recorder{}
	h := start(t, cfg, rec)
	req := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").request(t)
	body := fixtureNamed(t, "02-secrets-http-protobuf/logs.http.pb").data
	// accepted reports whether an export with authorization got through, over each transport.
	accepted := func(t *testing.T, authorization string) (grpcOK, httpOK bool) {
		t.Helper()
		_, err := h.exportGRPC(withAuthorization(context.Background(), authorization), req)
		if err != nil && status.Code(err) != codes.Unauthenticated {
			t.Fatalf("gRPC: %v", err)
		}
		r := h.postAuth(t, "/v1/logs", mediaProtobuf, authorization, body)
		if r.status != http.StatusOK && r.status != http.StatusUnauthorized {
			t.Fatalf("HTTP: status %d %q", r.status, r.body)
		}
		return err == nil, r.status == http.StatusOK
	}
	for _, step := range []struct {
		name    string
		token   string // "": no token file
		accepts map[string]bool
	}{
		{"before", testToken, map[string]bool{"Bearer " + testToken: true, "Bearer " + newToken: false, "": false}},
		{"new token", newToken, map[string]bool{"Bearer " + testToken: false, "Bearer " + newToken: true, "": false}},
		{"no token", "", map[string]bool{"Bearer " + testToken: true, "": true}},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.name != "before" {
				next := testConfig()
				if step.token != "" {
					next = withToken(t, next, step.token)
				}
				if err := h.srv.UpdateCredentials(next); err != nil {
					t.Fatalf("UpdateCredentials: %v", err)
				}
			}
			for authorization, want := range step.accepts {
				if g, h := accepted(t, authorization); g != want || h != want {
					t.Errorf("authorization %q: accepted over gRPC %v, over HTTP %v; want %v", authorization, g, h, want)
				}
			}
		})
	}
	if log := h.log.String(); !strings.Contains(logLine(log, "otlp credentials updated"), "bearer_token=true") || strings.Contains(log, newToken) {
		t.Errorf("the log does not say the credentials were updated, or shows the token:\n%s", log)
	}
}

// UpdateCredentials swaps the certificate and the client CAs: a new connection sees the new
// certificate and needs a client certificate from the new CA; a connection already open keeps
// its session.
func TestUpdateCredentialsSwapsCertificates(t *testing.T) {
	t.Parallel()
	oldCA, newCA := testpki.NewCA(t, "old-ca"), testpki.NewCA(t, "new-ca")
	oldServer, newServer := oldCA.Server(t, "gateway-old"), newCA.Server(t, "gateway-new")
	oldClient, newClient := oldCA.Client(t, "client-old"), newCA.Client(t, "client-new")
	trustBoth := pool(oldCA, newCA)
	rec := &recorder{}
	h := startTLS(t, tlsConfig(oldServer, oldCA), rec, clientTLS(trustBoth, &oldClient))
	req := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").request(t)

	// served exports over a new connection of each transport presenting client, and returns
	// the serial number of the certificate each saw; "" where the export failed.
	served := func(t *testing.T, client testpki.Leaf) (grpcSerial, httpSerial string) {
		t.Helper()
		var p peer.Peer
		conn := grpcConn(t, h.srv.GRPCAddr().String(), clientTLS(trustBoth, &client))
		if _, err := exportOn(context.Background(), conn, req, grpc.Peer(&p)); err == nil {
			grpcSerial = grpcPeerSerial(t, &p)
		}
		r, err := http.NewRequest(http.MethodPost, "https://"+h.srv.HTTPAddr().String()+"/v1/logs",
			strings.NewReader(string(fixtureNamed(t, "02-secrets-http-protobuf/logs.http.pb").data)))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", mediaProtobuf)
		if resp, err := roundTrip(httpClient(t, clientTLS(trustBoth, &client)), r); err == nil && resp.status == http.StatusOK {
			httpSerial = peerSerial(t, resp.tls)
		}
		return grpcSerial, httpSerial
	}
	want := func(t *testing.T, client testpki.Leaf, serial string) {
		t.Helper()
		if g, h := served(t, client); g != serial || h != serial {
			t.Errorf("a client with %s saw certificate %q over gRPC and %q over HTTP; want %q", client.Cert.Leaf.Subject.CommonName, g, h, serial)
		}
	}

	// A client that keeps TLS sessions, to resume one across the update.
	resuming := clientTLS(trustBoth, &oldClient)
	resuming.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	resume := func() (response, error) {
		r, err := http.NewRequest(http.MethodPost, "https://"+h.srv.HTTPAddr().String()+"/v1/logs",
			strings.NewReader(string(fixtureNamed(t, "02-secrets-http-protobuf/logs.http.pb").data)))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", mediaProtobuf)
		return roundTrip(httpClient(t, resuming), r)
	}

	want(t, oldClient, oldServer.Serial.String())
	want(t, newClient, "")
	if _, err := h.exportGRPC(context.Background(), req); err != nil { // opens the connection kept below
		t.Fatal(err)
	}
	for i := range 2 {
		r, err := resume()
		if err != nil || r.status != http.StatusOK {
			t.Fatalf("before the update, a client keeping sessions: %v, status %d", err, r.status)
		}
		if i == 1 && !r.tls.DidResume {
			t.Fatal("the client did not resume its session: the check after the update would prove nothing")
		}
	}

	next := tlsConfig(newServer, newCA)
	if err := h.srv.UpdateCredentials(next); err != nil {
		t.Fatalf("UpdateCredentials: %v", err)
	}
	want(t, newClient, newServer.Serial.String())
	want(t, oldClient, "")
	if r, err := resume(); err == nil {
		t.Errorf("after the update, a client of the old CA resuming its session: status %d, resumed %v; want it refused", r.status, r.tls.DidResume)
	}
	if _, err := h.exportGRPC(context.Background(), req); err != nil {
		t.Errorf("a connection opened before the update: %v", err)
	}
}

// An update that cannot load every file changes nothing, and one that would turn TLS on or off
// is refused.
func TestUpdateCredentialsIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "ca")
	cert, replacement := ca.Server(t, "gateway"), ca.Server(t, "replacement")
	const newToken = "c0tg-5be1e0c2a8d94f7b9c33"
	rec := &recorder{}
	h := startTLS(t, withToken(t, tlsConfig(cert, nil), testToken), rec, clientTLS(ca.Pool, nil))
	req := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").request(t)
	badCert := testpki.WriteFile(t, t.TempDir(), "bad.pem", []byte("not a certificate"))

	for _, tc := range []struct {
		name string
		cfg  config.Ingest
		want string
	}{
		{"bad certificate with a good token", withToken(t, config.Ingest{TLSCertFile: badCert, TLSKeyFile: replacement.KeyFile}, newToken),
			`ingest.tls_cert_file "` + badCert + `": no certificate in it`},
		{"good certificate with a bad token", withToken(t, tlsConfig(replacement, nil), " "),
			`ingest.bearer_token_file`},
		{"turning TLS off", withToken(t, testConfig(), newToken),
			"ingest: turning TLS off needs the otlp listeners bound again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.srv.UpdateCredentials(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("UpdateCredentials = %v, want an error containing %s", err, tc.want)
			}
			ctx := withAuthorization(context.Background(), "Bearer "+testToken)
			var p peer.Peer
			conn := grpcConn(t, h.srv.GRPCAddr().String(), clientTLS(ca.Pool, nil))
			if _, err := exportOn(ctx, conn, req, grpc.Peer(&p)); err != nil {
				t.Fatalf("the old token over a new connection: %v", err)
			}
			if got := grpcPeerSerial(t, &p); got != cert.Serial.String() {
				t.Errorf("a new connection saw certificate %s, want the old one, %s", got, cert.Serial)
			}
			if _, err := exportOn(withAuthorization(context.Background(), "Bearer "+newToken), conn, req); status.Code(err) != codes.Unauthenticated {
				t.Errorf("the new token: %v, want UNAUTHENTICATED", err)
			}
		})
	}
}

// A server without TLS cannot be given it by an update.
func TestUpdateCredentialsCannotTurnTLSOn(t *testing.T) {
	t.Parallel()
	ca := testpki.NewCA(t, "ca")
	h := start(t, testConfig(), &recorder{})
	err := h.srv.UpdateCredentials(tlsConfig(ca.Server(t, "gateway"), nil))
	if err == nil || !strings.Contains(err.Error(), "turning TLS on needs the otlp listeners bound again") {
		t.Fatalf("UpdateCredentials = %v, want it refused", err)
	}
	if _, err := h.exportGRPC(context.Background(), fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb").request(t)); err != nil {
		t.Errorf("plaintext export after the refused update: %v", err)
	}
}

// grpcPeerSerial is the serial number of the certificate a gRPC server presented.
func grpcPeerSerial(t *testing.T, p *peer.Peer) string {
	t.Helper()
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		t.Fatalf("the connection is not TLS (%T)", p.AuthInfo)
	}
	return peerSerial(t, &info.State)
}
