package otlp

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
)

// refused turns a status other than 2xx into the error the sinks engine acts on, per the OTLP
// specification: 429, 502, 503 and 504 are retried (no sooner than a Retry-After asks), every
// other 4xx and 5xx is permanent, with one exception below; a redirect left unfollowed is
// retried.
func (h *httpExporter) refused(sig telemetry.Signal, resp *http.Response, data []byte) error {
	code := resp.StatusCode
	msg := fmt.Sprintf("export %s to %s: HTTP %d", sig, h.ep.httpDisplay[sig], code)
	if text := http.StatusText(code); text != "" {
		msg += " " + text
	}
	why, retryInfo, hasRetryInfo := statusDetail(resp.Header.Get("Content-Type"), data)
	if ex := h.scrub.excerpt(why); ex != "" {
		msg += fmt.Sprintf(": %q", ex)
	}
	e := &exportError{msg: msg}
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
		code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return sinks.RetryAfter(e, d)
		}
		if hasRetryInfo {
			return sinks.RetryAfter(e, retryInfo)
		}
		return e
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		// The one exception to the specification, which calls these permanent: they say nothing
		// about the data, only that the key in the headers is wrong, expired or lacks a grant.
		// An operator will fix that, and the data queued meanwhile must still be delivered then,
		// not dead-lettered by the thousand in the meantime.
		e.msg += " (check the sink's headers; retrying until the destination accepts them)"
		return e
	case code/100 == 3:
		// A redirect sameOriginPOST would not follow: not the data's fault but an endpoint out of
		// date, retried like a refused key until an operator points the sink where it leads.
		if loc, err := resp.Location(); err == nil {
			e.msg += " to " + h.scrub.excerpt((&url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: loc.Path}).String())
		}
		e.msg += " (not followed: only a 307 or 308 to the same host is; set the endpoint to where it leads)"
		return e
	}
	return sinks.Permanent(e)
}

// maxRetryAfter caps a Retry-After: a day is already more than any destination means.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header: a number of seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return min(time.Duration(secs)*time.Second, maxRetryAfter), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// transportError reports an export that got no answer: the connection failed, TLS failed, or
// the attempt's time ran out. All are retried. The URL in Go's own message is left out: its
// query may hold a credential, and the message names the endpoint already.
func (h *httpExporter) transportError(sig telemetry.Signal, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &exportError{msg: fmt.Sprintf("export %s to %s: %s%v", sig, h.ep.httpDisplay[sig], tlsHint(err), err), cause: err}
}

// tlsHint names the setting to look at when a TLS handshake failed: such a failure is about
// configuration, not data, and is retried until an operator fixes it.
func tlsHint(err error) string {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		op       *net.OpError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &hostname):
		return "the destination's certificate is not for this host (check the endpoint): "
	case errors.As(err, &verify), errors.As(err, &unknown):
		return "the destination's certificate is not trusted (check ca_file): "
	case errors.As(err, &op) && op.Op == "remote error":
		// crypto/tls reports an alert from the peer this way, and the alert's own type is
		// unexported; the usual one is about the client's certificate.
		return "the destination refused the TLS handshake (check cert_file and key_file): "
	case errors.As(err, &record):
		return "the destination does not speak TLS (should the endpoint be http://?): "
	}
	return ""
}

// statusDetail reads why a destination refused a request: the message of the google.rpc.Status
// that OTLP/HTTP puts in error bodies, in the request's encoding, with the delay of a RetryInfo
// among its details; or else the body itself, which excerpt shows if it is text.
func statusDetail(contentType string, body []byte) (why string, delay time.Duration, hasDelay bool) {
	if len(body) == 0 {
		return "", 0, false
	}
	var st spb.Status
	switch media(contentType) {
	case mediaProtobuf, "application/protobuf":
		if proto.Unmarshal(body, &st) != nil {
			return string(body), 0, false
		}
	case mediaJSON:
		if (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &st) != nil {
			// A detail of a type this binary does not know makes protojson give up on the
			// whole status; its message is still worth reading.
			var loose struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(body, &loose) == nil && loose.Message != "" {
				return loose.Message, 0, false
			}
			return string(body), 0, false
		}
		if st.GetCode() == 0 && st.GetMessage() == "" && len(st.GetDetails()) == 0 {
			return string(body), 0, false // JSON, but not a Status: {"error": "..."}
		}
	default:
		return string(body), 0, false
	}
	delay, hasDelay = retryInfo(status.FromProto(&st))
	return st.GetMessage(), delay, hasDelay
}
