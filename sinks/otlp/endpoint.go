package otlp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"claude-otel-gw/telemetry"
)

// endpoint is the configured URL, parsed once into what each protocol needs.
type endpoint struct {
	tls bool
	// display is the URL as messages name it: scheme, host and path, without the query, which
	// some intakes use for credentials.
	display string
	path    string // the base path, "" when there is none
	// grpcTarget is host:port, the port filled in from the scheme when the URL has none.
	grpcTarget string
	// httpURL and httpDisplay are the OTLP/HTTP URLs of each signal: the base URL with
	// /v1/<signal> appended to its path, with and without the query.
	httpURL, httpDisplay [telemetry.Traces + 1]string
}

func parseEndpoint(raw string) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the message would quote the whole URL, query and all
		}
		return endpoint{}, fmt.Errorf("endpoint: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return endpoint{}, errors.New("endpoint: want an http:// or https:// URL with a host")
	case u.User != nil:
		return endpoint{}, fmt.Errorf("endpoint: credentials in the URL are not sent; put them in headers (%s://%s)", u.Scheme, u.Host)
	}
	bare := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	ep := endpoint{tls: u.Scheme == "https", display: bare.String()}
	if p := strings.TrimRight(u.Path, "/"); p != "" {
		ep.path = p
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if ep.tls {
			port = "443"
		}
	}
	ep.grpcTarget = net.JoinHostPort(u.Hostname(), port)
	for _, sig := range telemetry.Signals {
		// The OTLP/HTTP specification appends the signal's path to a base endpoint.
		ep.httpURL[sig] = u.JoinPath("v1", sig.String()).String()
		ep.httpDisplay[sig] = bare.JoinPath("v1", sig.String()).String()
	}
	return ep, nil
}
