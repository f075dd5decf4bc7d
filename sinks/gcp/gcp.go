// Package gcp is what the Google Cloud sinks (gcs, cloud_logging, cloud_monitoring,
// cloud_trace) share: how they authenticate and reach their service, and how a failed call is
// classified for the delivery engine.
//
// It is not a destination: each service's writer lives in its own package and builds its own
// client from ClientOptions.
package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"claude-otel-gw/config"
)

// Options are the keys every Google sink takes.
type Options struct {
	// Project is the Google Cloud project id the sink writes into.
	Project string
	// CredentialsFile is a JSON credentials file (a service account key, an authorized user,
	// an external account); empty means Application Default Credentials.
	CredentialsFile string
	// Endpoint replaces the service's own (host:port for a gRPC service, a URL for Cloud
	// Storage): an emulator, a test server, a private service connect address.
	Endpoint string
	// Insecure talks to Endpoint in plaintext and without credentials; only a loopback
	// endpoint may be insecure (the config refuses anything else).
	Insecure bool
	// UserAgent names the gateway and its version to the service.
	UserAgent string
}

// credentialTypes maps the "type" field of a credentials file to the type the client library
// is told to expect, so that a file of an unexpected kind is refused rather than trusted.
var credentialTypes = map[string]option.CredentialsType{
	"service_account":              option.ServiceAccount,
	"authorized_user":              option.AuthorizedUser,
	"impersonated_service_account": option.ImpersonatedServiceAccount,
	"external_account":             option.ExternalAccount,
}

// credentialsType reads a credentials file and reports what is wrong with it, offline: it must
// be readable JSON with a known "type". Whether the key is still valid only the service can
// tell.
func credentialsType(path string) (option.CredentialsType, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("credentials file: %w", err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		// The JSON error's offset, never its text: the file holds a private key.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return "", fmt.Errorf("credentials file %s: not JSON (syntax error at byte %d)", path, se.Offset)
		}
		return "", fmt.Errorf("credentials file %s: not a JSON object", path)
	}
	t, ok := credentialTypes[head.Type]
	if !ok {
		if head.Type == "" {
			return "", fmt.Errorf("credentials file %s: no \"type\" field: not a Google credentials file", path)
		}
		return "", fmt.Errorf("credentials file %s: credentials of type %q are not supported", path, head.Type)
	}
	return t, nil
}

// IsLoopback reports whether endpoint (host:port, or a URL) names a loopback address or
// localhost, the only places Insecure may point at.
func IsLoopback(endpoint string) bool {
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		host = u.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return config.IsLoopbackHost(strings.Trim(host, "[]"))
}

// GRPCClientOptions are the options for a gRPC client of a Google service (Logging,
// Monitoring, Trace).
func GRPCClientOptions(o Options) ([]option.ClientOption, error) {
	opts, err := common(o)
	if err != nil {
		return nil, err
	}
	if o.Insecure {
		opts = append(opts, option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	return opts, nil
}

// HTTPClientOptions are the options for an HTTP/JSON client of a Google service (Cloud
// Storage).
func HTTPClientOptions(o Options) ([]option.ClientOption, error) {
	return common(o)
}

func common(o Options) ([]option.ClientOption, error) {
	var opts []option.ClientOption
	if o.UserAgent != "" {
		opts = append(opts, option.WithUserAgent(o.UserAgent))
	}
	if o.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(o.Endpoint))
	}
	switch {
	case o.Insecure:
		if !IsLoopback(o.Endpoint) {
			return nil, fmt.Errorf("insecure is only for a loopback endpoint, not %q", o.Endpoint)
		}
		opts = append(opts, option.WithoutAuthentication())
	case o.CredentialsFile != "":
		t, err := credentialsType(o.CredentialsFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, option.WithAuthCredentialsFile(t, o.CredentialsFile))
	}
	// The library would trace its own calls through the global OpenTelemetry provider; a
	// telemetry gateway must not feed on itself.
	opts = append(opts, option.WithTelemetryDisabled())
	return opts, nil
}

// ProjectFromCredentials finds the project id Application Default Credentials (or the
// credentials file) name, for a sink whose config leaves project empty.
func ProjectFromCredentials(ctx context.Context, o Options) (string, error) {
	dopts := &credentials.DetectOptions{Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"}}
	var (
		creds *auth.Credentials
		err   error
	)
	if o.CredentialsFile != "" {
		t, terr := credentialsType(o.CredentialsFile)
		if terr != nil {
			return "", terr
		}
		data, rerr := os.ReadFile(o.CredentialsFile)
		if rerr != nil {
			return "", fmt.Errorf("credentials file: %w", rerr)
		}
		creds, err = credentials.NewCredentialsFromJSON(credentials.CredType(t), data, dopts)
	} else {
		creds, err = credentials.DetectDefault(dopts)
	}
	if err != nil {
		return "", fmt.Errorf("no project set and no credentials to take it from: %w", err)
	}
	p, err := creds.ProjectID(ctx)
	if err != nil || p == "" {
		return "", errors.New("no project set, and the credentials name none: set project")
	}
	return p, nil
}
