package otlp

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // the destination takes gzip, as OTLP receivers do
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// received is one export as the fake destination saw it.
type received struct {
	req         telemetry.Request
	header      http.Header // HTTP headers, or gRPC metadata (lower-case keys)
	gzip        bool
	path        string // HTTP path and query, or gRPC method
	contentType string
	httpMajor   int // 1 or 2 over HTTP
}

// headerValue is the first value of a header, looked up as HTTP or gRPC spells its names.
func (r received) headerValue(name string) string {
	if v := r.header.Get(name); v != "" {
		return v
	}
	if vs := r.header[strings.ToLower(name)]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// reply is what the fake destination answers. The zero reply is a plain success.
type reply struct {
	rejected  int64  // a partial success: this many records rejected...
	rejectMsg string // ... with this message (a warning when rejected is 0)

	code  codes.Code    // gRPC: the error code, or OK
	msg   string        // the error's message (over HTTP, in a google.rpc.Status body)
	retry time.Duration // > 0: a RetryInfo with this delay

	status      int    // HTTP: the status, 0 meaning 200
	retryAfter  string // HTTP: the Retry-After header
	location    string // HTTP: the Location header
	body        string // HTTP: the body, instead of an encoded response or status
	contentType string // HTTP: the Content-Type of body

	block bool // answer nothing until the client gives up
}

// collector is a fake OTLP destination, over gRPC or HTTP: it records what it receives and
// answers what answer says.
type collector struct {
	mu     sync.Mutex
	got    []received
	count  int // exports received
	answer func(received) reply

	endpoint string // what a Writer's Options.Endpoint should say
}

func (c *collector) setAnswer(f func(received) reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer = f
}

func (c *collector) answerAll(r reply) { c.setAnswer(func(received) reply { return r }) }

func (c *collector) record(rc received) reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count++
	c.got = append(c.got, rc)
	if c.answer == nil {
		return reply{}
	}
	return c.answer(rc)
}

func (c *collector) received() []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]received(nil), c.got...)
}

func (c *collector) exports() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// startGRPC serves the three OTLP collector services on 127.0.0.1, with TLS when conf is set.
func startGRPC(t testing.TB, conf *tls.Config) *collector {
	t.Helper()
	return serveGRPC(t, conf, "127.0.0.1:0")
}

// startGRPCOn serves them in plaintext on addr.
func startGRPCOn(t testing.TB, addr string) *collector {
	t.Helper()
	return serveGRPC(t, nil, addr)
}

func serveGRPC(t testing.TB, conf *tls.Config, addr string, opts ...grpc.ServerOption) *collector {
	t.Helper()
	c := &collector{}
	scheme := "http"
	if conf != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(conf)))
		scheme = "https"
	}
	opts = append(opts, grpc.StatsHandler(compressionSpy{}))
	s := grpc.NewServer(opts...)
	collogspb.RegisterLogsServiceServer(s, logsService{c: c})
	colmetricspb.RegisterMetricsServiceServer(s, metricsService{c: c})
	coltracepb.RegisterTraceServiceServer(s, traceService{c: c})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	c.endpoint = scheme + "://" + ln.Addr().String()
	return c
}

// serve records an export received over gRPC and turns the reply into an answer.
func (c *collector) serve(ctx context.Context, r telemetry.Request) (reply, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	method, _ := grpc.Method(ctx)
	var compression string
	if spy, ok := ctx.Value(compressionKey{}).(*compressionSeen); ok {
		compression = spy.get()
	}
	rep := c.record(received{req: r, header: http.Header(md), gzip: compression == "gzip", path: method})
	if rep.block {
		<-ctx.Done()
		return rep, ctx.Err()
	}
	if rep.code != codes.OK {
		st := status.New(rep.code, rep.msg)
		if rep.retry > 0 {
			var err error
			if st, err = st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(rep.retry)}); err != nil {
				return rep, err
			}
		}
		return rep, st.Err()
	}
	return rep, nil
}

type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	c *collector
}

func (s logsService) Export(ctx context.Context, r *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	rep, err := s.c.serve(ctx, telemetry.Request{Logs: r})
	if err != nil {
		return nil, err
	}
	return partialResponse(telemetry.Logs, rep).(*collogspb.ExportLogsServiceResponse), nil
}

type metricsService struct {
	colmetricspb.UnimplementedMetricsServiceServer
	c *collector
}

func (s metricsService) Export(ctx context.Context, r *colmetricspb.ExportMetricsServiceRequest) (*colmetricspb.ExportMetricsServiceResponse, error) {
	rep, err := s.c.serve(ctx, telemetry.Request{Metrics: r})
	if err != nil {
		return nil, err
	}
	return partialResponse(telemetry.Metrics, rep).(*colmetricspb.ExportMetricsServiceResponse), nil
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	c *collector
}

func (s traceService) Export(ctx context.Context, r *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	rep, err := s.c.serve(ctx, telemetry.Request{Traces: r})
	if err != nil {
		return nil, err
	}
	return partialResponse(telemetry.Traces, rep).(*coltracepb.ExportTraceServiceResponse), nil
}

// partialResponse is the export response of the signal, with a partial success when rep asks.
func partialResponse(sig telemetry.Signal, rep reply) proto.Message {
	if rep.rejected == 0 && rep.rejectMsg == "" {
		return newResponse(sig)
	}
	switch sig {
	case telemetry.Logs:
		return &collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{
			RejectedLogRecords: rep.rejected, ErrorMessage: rep.rejectMsg}}
	case telemetry.Metrics:
		return &colmetricspb.ExportMetricsServiceResponse{PartialSuccess: &colmetricspb.ExportMetricsPartialSuccess{
			RejectedDataPoints: rep.rejected, ErrorMessage: rep.rejectMsg}}
	}
	return &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
		RejectedSpans: rep.rejected, ErrorMessage: rep.rejectMsg}}
}

// compressionSpy tells the services which compression each request arrived with: grpc-go keeps
// grpc-encoding out of the metadata a handler sees.
type compressionSpy struct{}

type compressionKey struct{}

type compressionSeen struct {
	mu   sync.Mutex
	name string
}

func (s *compressionSeen) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

func (compressionSpy) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, compressionKey{}, &compressionSeen{})
}

func (compressionSpy) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if h, ok := s.(*stats.InHeader); ok && !h.IsClient() {
		if seen, ok := ctx.Value(compressionKey{}).(*compressionSeen); ok {
			seen.mu.Lock()
			seen.name = h.Compression
			seen.mu.Unlock()
		}
	}
}

func (compressionSpy) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (compressionSpy) HandleConn(context.Context, stats.ConnStats)                       {}

// startHTTP serves OTLP/HTTP on 127.0.0.1 under base (e.g. "" or "/otlp"), with TLS (and
// HTTP/2) when conf is set.
func startHTTP(t testing.TB, conf *tls.Config, base string) *collector {
	t.Helper()
	c := &collector{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.serveHTTP(t, base, w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what some tests are about
	if conf != nil {
		srv.TLS = conf
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	c.endpoint = srv.URL + base
	return c
}

func (c *collector) serveHTTP(t testing.TB, base string, w http.ResponseWriter, r *http.Request) {
	sigName, ok := strings.CutPrefix(r.URL.Path, base+"/v1/")
	sig, known := telemetry.ParseSignal(sigName)
	if !ok || !known || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	gz := r.Header.Get("Content-Encoding") == "gzip"
	if gz {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctype := r.Header.Get("Content-Type")
	json := ctype == mediaJSON
	req := telemetry.Empty(sig)
	if json {
		err = otlpjson.Unmarshal(data, req.Message())
	} else {
		err = proto.Unmarshal(data, req.Message())
	}
	if err != nil {
		t.Errorf("the destination cannot decode a %s request: %v", ctype, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rep := c.record(received{req: req, header: r.Header.Clone(), gzip: gz, path: r.URL.RequestURI(), contentType: ctype, httpMajor: r.ProtoMajor})
	if rep.block {
		<-r.Context().Done()
		return
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	var out []byte
	switch {
	case rep.body != "" || rep.contentType != "":
		out = []byte(rep.body)
		ctype = rep.contentType
	case status == http.StatusOK:
		out = encodeAs(t, json, partialResponse(sig, rep))
	default:
		out = encodeAs(t, json, statusBody(t, rep))
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	w.Write(out)
}

// statusBody is the google.rpc.Status an OTLP/HTTP destination puts in an error body.
func statusBody(t testing.TB, rep reply) proto.Message {
	code := rep.code
	if code == codes.OK {
		code = codes.Unknown
	}
	st := status.New(code, rep.msg)
	if rep.retry > 0 {
		var err error
		if st, err = st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(rep.retry)}); err != nil {
			t.Fatal(err)
		}
	}
	return st.Proto()
}

func encodeAs(t testing.TB, json bool, m proto.Message) []byte {
	var (
		b   []byte
		err error
	)
	switch {
	case !json:
		b, err = proto.Marshal(m)
	case strings.HasPrefix(string(m.ProtoReflect().Descriptor().FullName()), "google.rpc."):
		b, err = protojson.Marshal(m) // as the Collector writes error bodies
	default:
		b, err = otlpjson.Marshal(m)
	}
	if err != nil {
		t.Error(err)
	}
	return b
}
