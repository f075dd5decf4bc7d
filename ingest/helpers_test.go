package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/telemetry"

	"github.com/prometheus/client_golang/prometheus/testutil"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// recorder is a Consumer that keeps every request it accepts.
type recorder struct {
	mu   sync.Mutex
	reqs []telemetry.Request
}

func (r *recorder) Consume(_ context.Context, req telemetry.Request) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *recorder) last(t *testing.T) telemetry.Request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("the consumer got no request")
	}
	return r.reqs[len(r.reqs)-1]
}

func testConfig() config.Ingest {
	return config.Ingest{
		GRPCListen:        "127.0.0.1:0",
		HTTPListen:        "127.0.0.1:0",
		MaxRequestBytes:   1 << 20,
		MaxNestingDepth:   8,
		ReadHeaderTimeout: config.Duration(5 * time.Second),
		ReadTimeout:       config.Duration(10 * time.Second),
		IdleTimeout:       config.Duration(30 * time.Second),
	}
}

// harness is a started server with real clients for both transports.
type harness struct {
	srv     *Server
	metrics *admin.Metrics
	log     *testlog.Buffer
	conn    *grpc.ClientConn
	client  *http.Client
	base    string
}

func start(t testing.TB, cfg config.Ingest, c Consumer) *harness {
	t.Helper()
	return startTLS(t, cfg, c, nil)
}

// startTLS is start with clients that speak TLS configured by clientTLS; nil: plaintext.
func startTLS(t testing.TB, cfg config.Ingest, c Consumer, clientTLS *tls.Config) *harness {
	t.Helper()
	h := &harness{metrics: admin.NewTestMetrics(), log: &testlog.Buffer{}}
	srv, err := New(cfg, c, h.metrics, h.log.Logger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	h.srv = srv
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	if a := srv.GRPCAddr(); a != nil {
		h.conn = grpcConn(t, a.String(), clientTLS)
	}
	if a := srv.HTTPAddr(); a != nil {
		h.client = httpClient(t, clientTLS)
		h.base = "http://" + a.String()
		if clientTLS != nil {
			h.base = "https://" + a.String()
		}
	}
	return h
}

// grpcConn is a gRPC client of its own (so its own connection) that speaks TLS configured by
// clientTLS, or plaintext if it is nil.
func grpcConn(t testing.TB, addr string, clientTLS *tls.Config) *grpc.ClientConn {
	t.Helper()
	creds := insecure.NewCredentials()
	if clientTLS != nil {
		creds = credentials.NewTLS(clientTLS)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// httpClient is an HTTP client of its own (so its own connections) that speaks TLS configured
// by clientTLS, with HTTP/2 on offer as OTLP exporters have it, or plaintext if it is nil.
func httpClient(t testing.TB, clientTLS *tls.Config) *http.Client {
	t.Helper()
	var conns connTracker
	tr := &http.Transport{TLSClientConfig: clientTLS, ForceAttemptHTTP2: true, DialContext: conns.dial}
	t.Cleanup(conns.closeAll)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// connTracker dials a client's connections and closes them all when the test is done with the
// client. Closing only the idle ones is not enough: an HTTP/2 connection whose last request has
// only just been answered may not count as idle yet, and the server's shutdown would then wait
// a second for the client to hang up.
type connTracker struct {
	d     net.Dialer
	mu    sync.Mutex
	conns []net.Conn
}

func (c *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.d.DialContext(ctx, network, addr)
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *connTracker) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// exportGRPC sends r with the generated OTLP client of its signal.
func (h *harness) exportGRPC(ctx context.Context, r telemetry.Request, opts ...grpc.CallOption) (proto.Message, error) {
	return exportOn(ctx, h.conn, r, opts...)
}

// exportOn sends r over conn with the generated OTLP client of its signal.
func exportOn(ctx context.Context, conn *grpc.ClientConn, r telemetry.Request, opts ...grpc.CallOption) (proto.Message, error) {
	switch {
	case r.Logs != nil:
		return collogspb.NewLogsServiceClient(conn).Export(ctx, r.Logs, opts...)
	case r.Metrics != nil:
		return colmetricspb.NewMetricsServiceClient(conn).Export(ctx, r.Metrics, opts...)
	}
	return coltracepb.NewTraceServiceClient(conn).Export(ctx, r.Traces, opts...)
}

// response is what an HTTP client saw.
type response struct {
	status int
	header http.Header
	body   []byte
	proto  int                  // the HTTP major version
	tls    *tls.ConnectionState // nil over plaintext
}

// roundTrip sends req and reads the whole answer.
func roundTrip(client *http.Client, req *http.Request) (response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("reading the response: %w", err)
	}
	return response{resp.StatusCode, resp.Header, b, resp.ProtoMajor, resp.TLS}, nil
}

// post sends an OTLP/HTTP request; contentEncoding "" sends none.
func (h *harness) post(t testing.TB, path, contentType, contentEncoding string, body []byte) response {
	t.Helper()
	return h.do(t, http.MethodPost, path, contentType, contentEncoding, bytes.NewReader(body))
}

// postAuth is post with an authorization header; "" sends none.
func (h *harness) postAuth(t testing.TB, path, contentType, authorization string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	r, err := roundTrip(h.client, req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return r
}

func (h *harness) do(t testing.TB, method, path, contentType, contentEncoding string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, h.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if contentEncoding != "" {
		req.Header.Set("Content-Encoding", contentEncoding)
	}
	r, err := roundTrip(h.client, req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// rpcStatus decodes an OTLP/HTTP error body, a google.rpc.Status in the response's encoding.
func (r response) rpcStatus(t testing.TB) *spb.Status {
	t.Helper()
	st := &spb.Status{}
	var err error
	switch ct := r.header.Get("Content-Type"); ct {
	case mediaProtobuf, mediaProtobufAlt:
		err = proto.Unmarshal(r.body, st)
	case mediaJSON:
		err = protojson.Unmarshal(r.body, st)
	default:
		t.Fatalf("error body has Content-Type %q", ct)
	}
	if err != nil {
		t.Fatalf("error body %q is not a google.rpc.Status: %v", r.body, err)
	}
	return st
}

// fixture is one captured Claude Code request from ../testdata/claude-code.
type fixture struct {
	name string // folder/file
	sig  telemetry.Signal
	kind string // grpc.pb, http.pb or http.json
	data []byte
}

func fixtures(t testing.TB) []fixture {
	t.Helper()
	all, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{capture.GRPC: "grpc.pb", capture.HTTPProtobuf: "http.pb", capture.HTTPJSON: "http.json"}
	var fs []fixture
	for _, p := range all {
		fs = append(fs, fixture{name: p.Name, sig: p.Signal, kind: kinds[p.Encoding], data: p.Body})
	}
	if len(fs) != 18 {
		t.Fatalf("found %d captured requests, want 18", len(fs))
	}
	return fs
}

// request decodes a protobuf fixture.
func (f fixture) request(t testing.TB) telemetry.Request {
	t.Helper()
	r := telemetry.Empty(f.sig)
	if err := proto.Unmarshal(f.data, r.Message()); err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	return r
}

func fixtureNamed(t testing.TB, name string) fixture {
	t.Helper()
	for _, f := range fixtures(t) {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no captured request %s", name)
	return fixture{}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawCodec sends and receives messages as the bytes given, so a real gRPC client can send what
// no generated client would.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// grpcFrame sends one gRPC message, already encoded (and compressed if encoding is set), over
// plain HTTP/2, the way a client with a broken compressor would, and returns the grpc-status
// code and message. A real client cannot be made to send a compressed payload it did not
// compress itself.
func grpcFrame(t testing.TB, addr, method, encoding string, payload []byte) (code int, msg string) {
	t.Helper()
	return grpcFrameWith(t, addr, method, encoding, nil, payload)
}

// grpcFrameWith is grpcFrame with extra request headers.
func grpcFrameWith(t testing.TB, addr, method, encoding string, hdr http.Header, payload []byte) (code int, msg string) {
	t.Helper()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	var conns connTracker
	tr := &http.Transport{Protocols: &protocols, DialContext: conns.dial}
	defer conns.closeAll()
	frame := make([]byte, 5, 5+len(payload))
	if encoding != "" {
		frame[0] = 1
	}
	binary.BigEndian.PutUint32(frame[1:], uint32(len(payload)))
	frame = append(frame, payload...)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+method, bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	if encoding != "" {
		req.Header.Set("Grpc-Encoding", encoding)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("gRPC over HTTP/2: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	s, m := resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message")
	if s == "" { // a trailers-only answer
		s, m = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	code, err = strconv.Atoi(s)
	if err != nil {
		t.Fatalf("no grpc-status in the answer (HTTP %d, headers %v, trailers %v)", resp.StatusCode, resp.Header, resp.Trailer)
	}
	return code, m
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// refusedSoon waits up to 5s for refused_requests_total{transport,reason} to reach want and
// returns its value. A refusal grpc-go answers itself (a message over the limit, a payload that
// does not decompress) reaches the client from inside the handler's decode, before the handler
// counts it: the count can trail the client's answer by a moment.
func refusedSoon(h *harness, transport, reason string, want float64) float64 {
	c := h.metrics.RefusedRequests.WithLabelValues(transport, reason)
	for deadline := time.Now().Add(5 * time.Second); testutil.ToFloat64(c) != want && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	return testutil.ToFloat64(c)
}
