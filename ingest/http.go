package ingest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// The media types OTLP/HTTP uses. application/protobuf is accepted as a synonym of
// application/x-protobuf, which is what the specification names.
const (
	mediaProtobuf    = "application/x-protobuf"
	mediaProtobufAlt = "application/protobuf"
	mediaJSON        = "application/json"
)

// bodyEncoding is how an OTLP/HTTP body is encoded. Answers use the request's encoding; a request
// without a usable one (a 415, or a 404 or 405 that named none) is answered in JSON, which a
// person trying things with curl can read.
type bodyEncoding uint8

const (
	encodingNone bodyEncoding = iota
	encodingProtobuf
	encodingJSON
)

// parseContentType reads a Content-Type header, ignoring parameters such as charset, without
// allocating.
func parseContentType(v string) (bodyEncoding, string) {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	switch {
	case strings.EqualFold(v, mediaProtobuf):
		return encodingProtobuf, mediaProtobuf
	case strings.EqualFold(v, mediaProtobufAlt):
		return encodingProtobuf, mediaProtobufAlt
	case strings.EqualFold(v, mediaJSON):
		return encodingJSON, mediaJSON
	}
	return encodingNone, ""
}

func signalForPath(path string) telemetry.Signal {
	switch path {
	case "/v1/logs":
		return telemetry.Logs
	case "/v1/metrics":
		return telemetry.Metrics
	case "/v1/traces":
		return telemetry.Traces
	}
	return 0
}

var _ http.Handler = (*httpHandler)(nil)

// httpHandler serves OTLP/HTTP.
type httpHandler struct {
	s *Server
	// ok holds the acknowledgement for each signal and encoding: an empty
	// Export*ServiceResponse, the same bytes every time.
	ok [telemetry.Traces + 1][encodingJSON + 1][]byte
}

func newHTTPHandler(s *Server) (*httpHandler, error) {
	h := &httpHandler{s: s}
	for _, sig := range telemetry.Signals {
		resp := emptyResponse(sig)
		pb, err := proto.Marshal(resp)
		if err != nil {
			return nil, fmt.Errorf("encoding the %s response: %w", sig, err)
		}
		js, err := otlpjson.Marshal(resp)
		if err != nil {
			return nil, fmt.Errorf("encoding the %s response: %w", sig, err)
		}
		h.ok[sig][encodingProtobuf], h.ok[sig][encodingJSON] = pb, js
	}
	return h, nil
}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	s.inflight.Add(1)
	defer s.inflight.Add(-1)

	enc, media := parseContentType(r.Header.Get("Content-Type"))
	sig := signalForPath(r.URL.Path)
	// Before anything else, and before a byte of the body is read: a client without the token
	// learns nothing about the server and costs it no decompressing or decoding.
	if err := s.creds.Load().authenticate(r.Header.Get("Authorization")); err != nil {
		h.refuse(w, enc, media, s.refused(transportHTTP, sig, telemetry.Request{}, err))
		return
	}
	if sig == 0 {
		h.refuse(w, enc, media, s.refused(transportHTTP, 0, telemetry.Request{},
			fmt.Errorf("%w: %s; OTLP/HTTP takes /v1/logs, /v1/metrics and /v1/traces", errNotFound, r.URL.Path)))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, enc, media, s.refused(transportHTTP, sig, telemetry.Request{},
			fmt.Errorf("%w: %s; OTLP/HTTP takes POST", errMethod, r.Method)))
		return
	}
	if enc == encodingNone {
		h.refuse(w, enc, media, s.refused(transportHTTP, sig, telemetry.Request{},
			fmt.Errorf("%w: Content-Type %q; want %s or %s", errMediaType, r.Header.Get("Content-Type"), mediaProtobuf, mediaJSON)))
		return
	}
	gzipped, err := contentEncoding(r.Header.Get("Content-Encoding"))
	if err != nil {
		h.refuse(w, enc, media, s.refused(transportHTTP, sig, telemetry.Request{}, err))
		return
	}

	req := telemetry.Empty(sig)
	buf := getBuffer()
	err = readBody(w, r, gzipped, int64(s.cfg.MaxRequestBytes), buf)
	if err == nil {
		err = h.decode(*buf, enc, req)
	}
	// Both decoders copy what they keep, so the buffer can go back now, before the consumer
	// runs, which may take a while.
	putBuffer(buf)

	if ref := s.settle(r.Context(), transportHTTP, sig, req, err); ref != nil {
		h.refuse(w, enc, media, *ref)
		return
	}
	w.Header().Set("Content-Type", media)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(h.ok[sig][enc])
}

func (h *httpHandler) decode(data []byte, enc bodyEncoding, req telemetry.Request) error {
	depth := h.s.cfg.MaxNestingDepth
	if enc == encodingProtobuf {
		return decodeProtobuf(data, req, depth)
	}
	if err := (otlpjson.UnmarshalOptions{MaxDepth: depth}).Unmarshal(data, req.Message()); err != nil {
		return fmt.Errorf("%w: not valid OTLP/JSON: %v", errMalformed, err)
	}
	return checkRequest(req, depth)
}

// contentEncoding reads a Content-Encoding header: gzip, or nothing (identity).
func contentEncoding(v string) (gzipped bool, err error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "identity":
		return false, nil
	case "gzip", "x-gzip":
		return true, nil
	}
	return false, fmt.Errorf("%w: Content-Encoding %q; want gzip or identity", errMediaType, v)
}

// refuse writes a refusal as OTLP/HTTP asks: the status code, Retry-After when the client should
// retry, and a google.rpc.Status body in the request's encoding.
func (h *httpHandler) refuse(w http.ResponseWriter, enc bodyEncoding, media string, ref refusal) {
	st := ref.status().Proto()
	var body []byte
	var err error
	if enc == encodingProtobuf {
		body, err = proto.Marshal(st)
	} else {
		// google.rpc.Status has no ids or enums, so its standard JSON mapping is also its
		// OTLP/JSON one.
		media = mediaJSON
		body, err = protojson.Marshal(st)
	}
	if err != nil {
		// Cannot happen for a Status built here; the status code alone still says enough.
		body = nil
	}
	hdr := w.Header()
	hdr.Set("Content-Type", media)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	switch ref.reason {
	case reasonTooLarge:
		// The rest of an oversize body is not worth reading just to keep the connection.
		hdr.Set("Connection", "close")
	case reasonUnauthenticated:
		hdr.Set("WWW-Authenticate", "Bearer")
		// Without it net/http would read (though not decode) up to 256KiB of the body before
		// answering, to keep the connection for a client that has no business using it.
		hdr.Set("Connection", "close")
	}
	if ref.retryAfter > 0 {
		hdr.Set("Retry-After", strconv.FormatInt(ref.retryAfterSeconds(), 10))
	}
	w.WriteHeader(ref.httpStatus)
	_, _ = w.Write(body)
}
