// Package claudesettings writes the Claude Code managed-settings JSON that points Claude Code at
// a gateway: the "env" block that turns telemetry on, sends metrics, logs and traces over OTLP
// to the gateway's configured listener, and sets export intervals that suit a local gateway.
//
// It is not for the gateway itself: it only reads the config to say how to reach it.
package claudesettings

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"

	"claude-otel-gw/config"
)

// Protocols are the values --protocol takes: Claude Code's OTEL_EXPORTER_OTLP_PROTOCOL.
var Protocols = []string{"grpc", "http/protobuf", "http/json"}

// Options choose what the settings say.
type Options struct {
	// Protocol is "grpc", "http/protobuf" or "http/json"; "" picks gRPC when its listener is
	// on, else HTTP/protobuf.
	Protocol string
	// WithToken adds the bearer token from ingest.bearer_token_file as an
	// OTEL_EXPORTER_OTLP_HEADERS header.
	WithToken bool
}

// Settings is the managed-settings document.
type Settings struct {
	Env map[string]string `json:"env"`
}

// Build returns the settings for cfg, and notes for the person deploying them (what the
// settings cannot say for them, such as trusting a private CA).
func Build(cfg *config.Config, o Options) (*Settings, []string, error) {
	in := cfg.Ingest
	protocol := o.Protocol
	if protocol == "" {
		protocol = "http/protobuf"
		if in.GRPCListen != "" {
			protocol = "grpc"
		}
	}
	listen, key := in.HTTPListen, "ingest.http_listen"
	switch protocol {
	case "grpc":
		listen, key = in.GRPCListen, "ingest.grpc_listen"
	case "http/protobuf", "http/json":
	default:
		return nil, nil, fmt.Errorf("unknown protocol %q (want %s)", protocol, strings.Join(Protocols, ", "))
	}
	if listen == "" {
		return nil, nil, fmt.Errorf("%s is off in %s: Claude Code cannot reach the gateway over %s", key, cfg.Source, protocol)
	}
	endpoint, err := endpointFor(listen, in.TLS())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", key, err)
	}
	env := map[string]string{
		"CLAUDE_CODE_ENABLE_TELEMETRY": "1",
		"OTEL_METRICS_EXPORTER":        "otlp",
		"OTEL_LOGS_EXPORTER":           "otlp",
		"OTEL_TRACES_EXPORTER":         "otlp",
		// Traces are a beta of Claude Code's and need this as well.
		"CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
		"OTEL_EXPORTER_OTLP_PROTOCOL":         protocol,
		"OTEL_EXPORTER_OTLP_ENDPOINT":         endpoint,
		// A local gateway costs nothing to export to: short intervals lose less when a
		// session ends abruptly.
		"OTEL_METRIC_EXPORT_INTERVAL": "10000",
		"OTEL_LOGS_EXPORT_INTERVAL":   "5000",
	}
	var notes []string
	if o.WithToken {
		if in.BearerTokenFile == "" {
			return nil, nil, fmt.Errorf("--with-token: ingest.bearer_token_file is not set in %s", cfg.Source)
		}
		data, err := os.ReadFile(in.BearerTokenFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--with-token: reading ingest.bearer_token_file: %w", err)
		}
		token := strings.TrimSpace(string(data))
		if token == "" || strings.ContainsAny(token, "\r\n,") {
			return nil, nil, fmt.Errorf("--with-token: ingest.bearer_token_file %s does not hold a single-line token", in.BearerTokenFile)
		}
		env["OTEL_EXPORTER_OTLP_HEADERS"] = "Authorization=Bearer " + token
		notes = append(notes, "the settings hold the bearer token: give them the protection the token file has")
	} else if in.BearerTokenFile != "" {
		notes = append(notes, "the gateway requires a bearer token: add --with-token, or Claude Code's exports will be refused")
	}
	if in.TLS() {
		if protocol == "grpc" {
			notes = append(notes, "TLS: unless its certificate is publicly trusted, set OTEL_EXPORTER_OTLP_CERTIFICATE to the CA that signed ingest.tls_cert_file")
		} else {
			notes = append(notes, "TLS: unless its certificate is publicly trusted, set NODE_EXTRA_CA_CERTS to the CA that signed ingest.tls_cert_file")
		}
	}
	if in.ClientCAFile != "" {
		if protocol == "grpc" {
			notes = append(notes, "mutual TLS: set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY to each machine's client certificate and key")
		} else {
			notes = append(notes, "mutual TLS: set CLAUDE_CODE_CLIENT_CERT and CLAUDE_CODE_CLIENT_KEY to each machine's client certificate and key")
		}
	}
	return &Settings{Env: env}, notes, nil
}

// endpointFor is the URL Claude Code dials for a listen address. A wildcard address is
// reached on loopback (by name under TLS, where the certificate must match it).
func endpointFor(listen string, tls bool) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("not a host:port address (%q)", listen)
	}
	if port == "0" {
		return "", fmt.Errorf("port 0 picks a port at start; Claude Code needs a fixed one (%q)", listen)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if tls {
			host = "localhost"
		}
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// JSON is the settings as written to a managed-settings file: indented, keys sorted.
func (s *Settings) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
