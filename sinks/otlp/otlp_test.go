package otlp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claude-otel-gw/internal/testpki"
	"claude-otel-gw/telemetry"
)

// TestNewErrors checks that New refuses what cannot work and says which setting, which file
// and what is wrong with it.
func TestNewErrors(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	garbage := testpki.WriteFile(t, dir, "garbage.pem", []byte("not a certificate\n"))
	brokenCert := testpki.WriteFile(t, dir, "broken.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	keyPEM, err := os.ReadFile(p.clientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	https := Options{Endpoint: "https://otlp.example.com", Protocol: GRPC}
	with := func(f func(o *Options)) Options {
		o := https
		f(&o)
		return o
	}
	for _, tc := range []struct {
		name string
		o    Options
		says []string
	}{
		{"not a URL", Options{Endpoint: "://x", Protocol: GRPC}, []string{"endpoint"}},
		{"no scheme", Options{Endpoint: "otlp.example.com:4317", Protocol: GRPC}, []string{"endpoint: want an http:// or https:// URL"}},
		{"credentials in the URL", Options{Endpoint: "https://user:hunter2@otlp.example.com", Protocol: GRPC}, []string{"put them in headers"}},
		{"protocol", with(func(o *Options) { o.Protocol = "thrift" }), []string{`protocol "thrift"`}},
		{"compression", with(func(o *Options) { o.Compression = "zstd" }), []string{`compression "zstd"`}},
		{"TLS files with http", Options{Endpoint: "http://otlp.example.com", Protocol: GRPC, CAFile: p.caFile}, []string{"need an https:// endpoint"}},
		{"ca_file missing", with(func(o *Options) { o.CAFile = missing }), []string{"ca_file", missing, "no such file"}},
		{"ca_file not PEM", with(func(o *Options) { o.CAFile = garbage }), []string{"ca_file " + garbage + ": no PEM certificate"}},
		{"ca_file holds a key", with(func(o *Options) { o.CAFile = p.clientKeyFile }), []string{"ca_file " + p.clientKeyFile, "no PEM certificate", "PRIVATE KEY"}},
		{"ca_file broken certificate", with(func(o *Options) { o.CAFile = brokenCert }), []string{"ca_file " + brokenCert + ": certificate 1:"}},
		{"cert_file missing", with(func(o *Options) { o.CertFile, o.KeyFile = missing, p.clientKeyFile }), []string{"cert_file", missing}},
		{"key_file missing", with(func(o *Options) { o.CertFile, o.KeyFile = p.clientCertFile, missing }), []string{"key_file", missing}},
		{"cert_file without key_file", with(func(o *Options) { o.CertFile = p.clientCertFile }), []string{"cert_file needs key_file"}},
		{"key_file without cert_file", with(func(o *Options) { o.KeyFile = p.clientKeyFile }), []string{"key_file needs cert_file"}},
		{"cert_file holds a key", with(func(o *Options) { o.CertFile, o.KeyFile = p.clientKeyFile, p.clientKeyFile }),
			[]string{"cert_file " + p.clientKeyFile + ": no PEM certificate", "PRIVATE KEY"}},
		{"key_file holds a certificate", with(func(o *Options) { o.CertFile, o.KeyFile = p.clientCertFile, p.clientCertFile }),
			[]string{"key_file " + p.clientCertFile + ": no PEM private key", "CERTIFICATE"}},
		{"key does not match", with(func(o *Options) { o.CertFile, o.KeyFile = p.clientCertFile, p.strangerKeyFile }),
			[]string{"cert_file " + p.clientCertFile + " with key_file " + p.strangerKeyFile, "does not match"}},
		{"header name", with(func(o *Options) { o.Headers = map[string]string{"x api key": "v"} }), []string{`headers: "x api key" is not a valid header name`}},
		{"header name gRPC cannot carry", with(func(o *Options) { o.Headers = map[string]string{"x-key!": "v"} }), []string{`"x-key!" is not a valid gRPC metadata name`}},
		{"header value with a newline", Options{Endpoint: "https://otlp.example.com", Protocol: HTTPJSON, Headers: map[string]string{"x-api-key": "hunter2\r\nx-evil: 1"}},
			[]string{`headers: the value of "x-api-key" has control characters`}},
		{"header value gRPC cannot carry", with(func(o *Options) { o.Headers = map[string]string{"x-api-key": "hunter2-ключ"} }),
			[]string{`headers: the value of "x-api-key" has characters gRPC metadata cannot carry`}},
		{"key_file not PEM", with(func(o *Options) { o.CertFile, o.KeyFile = p.clientCertFile, garbage }), []string{"key_file " + garbage}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.o)
			if err == nil {
				w.Close()
				t.Fatal("New succeeded")
			}
			if !strings.HasPrefix(err.Error(), `otlp sink "":`) {
				t.Errorf("error %q does not start with the sink", err)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), string(keyPEM[30:60])) {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

// TestNewDialsNothing checks that New succeeds for a destination that is not there: building a
// sink (as --check does) must not depend on the network.
func TestNewDialsNothing(t *testing.T) {
	for _, protocol := range protocols {
		w, err := New(Options{Name: "dx", Endpoint: "https://otlp.invalid:4317", Protocol: protocol, Compression: "gzip"})
		if err != nil {
			t.Fatalf("%s: New: %v", protocol, err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("%s: Close: %v", protocol, err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("%s: second Close: %v", protocol, err)
		}
	}
}

// TestLimits checks what the sinks engine is told: batches within gRPC's default message size,
// and concurrent writes.
func TestLimits(t *testing.T) {
	for _, protocol := range protocols {
		h := newHarness(t, Options{Endpoint: "http://127.0.0.1:1", Protocol: protocol})
		l := h.w.Limits()
		if l.MaxBytes <= 0 || l.MaxBytes >= 4<<20 || l.Serial {
			t.Errorf("%s: Limits = %+v, want MaxBytes under 4 MiB and not Serial", protocol, l)
		}
	}
}

// TestEmptyRequest checks that a request without a signal is refused for good, not sent.
func TestEmptyRequest(t *testing.T) {
	dest := startHTTP(t, nil, "")
	h := newHarness(t, Options{Endpoint: dest.endpoint, Protocol: HTTPProtobuf})
	if err := h.write(t, telemetry.Request{}); outcomeOf(err) != permanent {
		t.Errorf("Write(empty) = %v, want a permanent error", err)
	}
	if n := dest.exports(); n != 0 {
		t.Errorf("an empty request was sent")
	}
}
