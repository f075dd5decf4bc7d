package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

const (
	mediaProtobuf = "application/x-protobuf"
	mediaJSON     = "application/json"
)

// maxResponseBytes bounds how much of an answer is read. An OTLP response is a few bytes, an
// error page a few kilobytes; a destination sending more gets the rest discarded, up to
// maxDrainBytes so that the connection can be reused, and then cut off.
const (
	maxResponseBytes = 64 << 10
	maxDrainBytes    = 256 << 10
)

// maxIdleConns keeps a connection per concurrent Write idle between batches, so that batches do
// not pay for a TCP and TLS handshake each; Go's default keeps two per host.
const maxIdleConns = 16

// httpExporter exports over OTLP/HTTP with one client, whose connections every Write shares.
type httpExporter struct {
	client *http.Client
	ep     endpoint
	json   bool
	gzip   bool
	header http.Header // the headers every request carries
	scrub  scrubber
}

func newHTTP(ep endpoint, tlsConf *tls.Config, headers map[string]string, gzip, json bool, userAgent string, scrub scrubber) *httpExporter {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		ForceAttemptHTTP2:     true, // a TLS config of one's own turns HTTP/2 off unless asked for
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	h := &httpExporter{
		client: &http.Client{Transport: transport, CheckRedirect: sameOriginPOST},
		ep:     ep,
		json:   json,
		gzip:   gzip,
		header: http.Header{},
		scrub:  scrub,
	}
	for k, v := range headers {
		h.header.Set(k, v)
	}
	if h.header.Get("User-Agent") == "" {
		h.header.Set("User-Agent", userAgent)
	}
	h.header.Set("Content-Type", mediaProtobuf)
	if json {
		h.header.Set("Content-Type", mediaJSON)
	}
	h.header.Del("Content-Encoding")
	if gzip {
		h.header.Set("Content-Encoding", "gzip")
	}
	return h
}

// maxRedirects bounds the redirects followed for one export.
const maxRedirects = 3

// sameOriginPOST follows a redirect, as the HTTP specification has it, only where that keeps the
// batch and the credentials where they belong: a 307 or 308 (a POST stays a POST with its body;
// Go turns it into a GET on the others) to the same scheme, host and port. A redirect elsewhere
// would take the headers along, API keys and all. A redirect not followed is answered by
// refused.
func sameOriginPOST(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.Method != http.MethodPost || req.URL.Scheme != first.Scheme || req.URL.Host != first.Host || len(via) > maxRedirects {
		return http.ErrUseLastResponse
	}
	return nil
}

func (h *httpExporter) close() error {
	h.client.CloseIdleConnections()
	return nil
}

func (h *httpExporter) export(ctx context.Context, r telemetry.Request) (answer, error) {
	sig := r.Signal()
	body, err := h.encode(r.Message())
	if err != nil {
		// Whatever cannot be encoded now never will be.
		return answer{}, sinks.Permanent(fmt.Errorf("export %s to %s: encode: %w", sig, h.ep.httpDisplay[sig], err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.ep.httpURL[sig], bytes.NewReader(body))
	if err != nil {
		return answer{}, fmt.Errorf("export %s to %s: %w", sig, h.ep.httpDisplay[sig], err)
	}
	req.Header = h.header.Clone()
	resp, err := h.client.Do(req)
	if err != nil {
		return answer{}, h.transportError(sig, err)
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	// Reading the rest lets the connection be reused; a destination sending megabytes of
	// answer has it closed instead.
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return h.accepted(sig, resp.Header.Get("Content-Type"), data), nil
	}
	return answer{}, h.refused(sig, resp, data)
}

// encode marshals m in the exporter's encoding, compressed if it compresses. The result is
// a new slice each time: the transport may still read a request body after Do has returned,
// and may read it again to resend it on a fresh connection.
func (h *httpExporter) encode(m proto.Message) ([]byte, error) {
	if !h.gzip {
		if h.json {
			return otlpjson.Marshal(m)
		}
		return proto.Marshal(m)
	}
	bp := scratch.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledScratch {
			scratch.Put(bp)
		}
	}()
	var err error
	if h.json {
		*bp, err = otlpjson.AppendMarshal((*bp)[:0], m)
	} else {
		*bp, err = proto.MarshalOptions{}.MarshalAppend((*bp)[:0], m)
	}
	if err != nil {
		return nil, err
	}
	return compress(*bp), nil
}

// scratch holds encoding buffers for compressed requests, which are copied out compressed.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledScratch keeps one unusually large batch from pinning its buffer in the pool.
const maxPooledScratch = 8 << 20

// gzipWriters holds compressors: each one is a few hundred kilobytes of tables.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

func compress(in []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(in)/4 + 64) // telemetry compresses well
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&out)
	zw.Write(in) // a bytes.Buffer does not fail
	zw.Close()
	zw.Reset(io.Discard) // let go of out
	gzipWriters.Put(zw)
	return out.Bytes()
}

// accepted reads the answer to a delivered request for a partial success. The answer comes in
// the request's encoding unless its Content-Type says otherwise.
func (h *httpExporter) accepted(sig telemetry.Signal, contentType string, data []byte) answer {
	if len(data) == 0 {
		return answer{}
	}
	if len(data) > maxResponseBytes {
		return answer{unreadable: fmt.Errorf("longer than %d bytes", maxResponseBytes), contentType: contentType}
	}
	json := h.json
	switch media(contentType) {
	case mediaJSON:
		json = true
	case mediaProtobuf, "application/protobuf":
		json = false
	case "":
	default:
		return answer{unreadable: errors.New("not an OTLP content type"), contentType: contentType}
	}
	resp := newResponse(sig)
	var err error
	if json {
		err = otlpjson.Unmarshal(data, resp)
	} else {
		err = proto.Unmarshal(data, resp)
	}
	if err != nil {
		return answer{unreadable: err, contentType: contentType}
	}
	return partialSuccess(resp)
}

// media is a Content-Type without its parameters, lower-cased.
func media(contentType string) string {
	if contentType == "" {
		return ""
	}
	m, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType
	}
	return m
}
