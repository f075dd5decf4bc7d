package gcs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	raw "google.golang.org/api/storage/v1"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

const testBucket = "acme-claude-audit"

// fakeGCS is fake-gcs-server on a loopback socket behind a handler of the test's that records
// every upload, fails uploads on demand, and keeps the bucket settings fake-gcs-server leaves
// out: the lifecycle and the metageneration, with Cloud Storage's precondition on it.
type fakeGCS struct {
	fake *fakestorage.Server
	srv  *httptest.Server

	mu          sync.Mutex
	uploads     []upload
	bucketCalls []string // "GET", "PATCH", in order
	failures    []failure
	lifecycle   *raw.BucketLifecycle
	metagen     int64
	getFails    []int          // statuses to answer the next bucket reads with instead
	patchStatus int            // answer bucket updates with this status instead (0: do not)
	beforePatch func(*fakeGCS) // runs once, before the next update is looked at, under mu
}

// upload is one upload request and the status it was answered with.
type upload struct {
	query  url.Values
	meta   raw.Object // the metadata part of a multipart upload
	status int
}

// failure is an injected answer to an upload: status, before the upload reaches the bucket,
// or after it has (the answer lost on its way back).
type failure struct {
	status int
	after  bool
}

func newFakeGCS(t testing.TB) *fakeGCS {
	t.Helper()
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	fake.CreateBucket(testBucket)
	f := &fakeGCS{fake: fake, metagen: 1}
	f.srv = httptest.NewServer(f)
	t.Cleanup(func() {
		f.srv.Close()
		fake.Stop()
	})
	return f
}

// options are a writer's options pointed at the fake.
func (f *fakeGCS) options() Options {
	return Options{
		Name:   "audit",
		Google: gcp.Options{Endpoint: f.srv.URL + "/storage/v1/", Insecure: true, Project: "p"},
		Bucket: testBucket,
		Prefix: "claude-code",
		Host:   "dev-laptop",
	}
}

// fail makes the next uploads fail, one per failure.
func (f *fakeGCS) fail(fs ...failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fs...)
}

func (f *fakeGCS) uploadLog() []upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.uploads)
}

func (f *fakeGCS) bucketLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.bucketCalls)
}

func (f *fakeGCS) setRules(rules ...*raw.BucketLifecycleRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifecycle = &raw.BucketLifecycle{Rule: rules}
	f.metagen++
}

func (f *fakeGCS) rules() []*raw.BucketLifecycleRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lifecycle == nil {
		return nil
	}
	return f.lifecycle.Rule
}

func (f *fakeGCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/upload/storage/v1/b/"):
		f.serveUpload(w, r)
	case r.URL.Path == "/storage/v1/b/"+testBucket && r.Method == http.MethodGet:
		f.serveBucketGet(w, r)
	case r.URL.Path == "/storage/v1/b/"+testBucket && r.Method == http.MethodPatch:
		f.serveBucketPatch(w, r)
	default:
		f.fake.HTTPHandler().ServeHTTP(w, r)
	}
}

func (f *fakeGCS) serveUpload(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u := upload{query: r.URL.Query(), meta: multipartMeta(r.Header.Get("Content-Type"), body)}
	f.mu.Lock()
	var fl failure
	if len(f.failures) > 0 {
		fl, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()
	if fl.status != 0 && fl.after {
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.fake.HTTPHandler().ServeHTTP(httptest.NewRecorder(), r)
	}
	if fl.status != 0 {
		u.status = fl.status
		f.record(u)
		writeError(w, fl.status)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	f.fake.HTTPHandler().ServeHTTP(rec, r)
	u.status = rec.Code
	f.record(u)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func (f *fakeGCS) record(u upload) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads = append(f.uploads, u)
}

// multipartMeta reads the metadata part of a multipart upload (the zero Object if it is none).
func multipartMeta(contentType string, body []byte) raw.Object {
	var o raw.Object
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return o
	}
	part, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).NextPart()
	if err != nil {
		return o
	}
	json.NewDecoder(part).Decode(&o)
	return o
}

func writeError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":"injected by the test"}}`, status)
}

func (f *fakeGCS) serveBucketGet(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.bucketCalls = append(f.bucketCalls, "GET")
	status := 0
	if len(f.getFails) > 0 {
		status, f.getFails = f.getFails[0], f.getFails[1:]
	}
	f.mu.Unlock()
	if status != 0 {
		writeError(w, status)
		return
	}
	f.writeBucket(w, r)
}

// writeBucket answers with the fake's bucket resource, completed with the lifecycle and the
// metageneration.
func (f *fakeGCS) writeBucket(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	get := r.Clone(r.Context())
	get.Method, get.Body = http.MethodGet, http.NoBody
	f.fake.HTTPHandler().ServeHTTP(rec, get)
	if rec.Code != http.StatusOK {
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	var b map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	f.mu.Lock()
	b["metageneration"] = fmt.Sprint(f.metagen)
	if f.lifecycle != nil {
		b["lifecycle"] = f.lifecycle
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(b)
}

func (f *fakeGCS) serveBucketPatch(w http.ResponseWriter, r *http.Request) {
	var b raw.Bucket
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.bucketCalls = append(f.bucketCalls, "PATCH")
	if hook := f.beforePatch; hook != nil {
		f.beforePatch = nil
		hook(f)
	}
	status := f.patchStatus
	if m := r.URL.Query().Get("ifMetagenerationMatch"); status == 0 && m != "" && m != fmt.Sprint(f.metagen) {
		status = http.StatusPreconditionFailed
	}
	if status == 0 && b.Lifecycle != nil {
		f.lifecycle = b.Lifecycle
		f.metagen++
	}
	f.mu.Unlock()
	if status != 0 {
		writeError(w, status)
		return
	}
	f.writeBucket(w, r)
}

// object is one object found in the bucket.
type object struct {
	attrs  fakestorage.ObjectAttrs
	parsed parsedName
	data   []byte              // decompressed
	lines  []telemetry.Request // each line decoded, as a request of the name's signal
}

// parsedName is an object name taken apart.
type parsedName struct {
	nonce                            string // the random part telling apart batches of the same content
	prefix, date, hour, host, unique string
	signal                           telemetry.Signal
}

// parseName takes a name apart, or fails the test if it is not one this package writes.
func parseName(t testing.TB, name string) parsedName {
	t.Helper()
	parts := strings.Split(name, "/")
	if len(parts) < 4 {
		t.Fatalf("object %q: not <prefix>/signal=/date=/hour=/<file>", name)
	}
	n := len(parts)
	var p parsedName
	p.prefix = strings.Join(parts[:n-4], "/")
	sig, ok := strings.CutPrefix(parts[n-4], "signal=")
	date, ok2 := strings.CutPrefix(parts[n-3], "date=")
	hour, ok3 := strings.CutPrefix(parts[n-2], "hour=")
	file, ok4 := strings.CutSuffix(parts[n-1], ".jsonl.gz")
	p.date, p.hour = date, hour
	p.signal, _ = telemetry.ParseSignal(sig)
	cut := strings.LastIndexByte(file, '-')
	hashCut := -1
	if cut > 0 {
		hashCut = strings.LastIndexByte(file[:cut], '-')
	}
	if !ok || !ok2 || !ok3 || !ok4 || p.signal == 0 || hashCut < 0 {
		t.Fatalf("object %q: not <prefix>/signal=<signal>/date=<date>/hour=<hour>/<host>-<hash>-<nonce>.jsonl.gz", name)
	}
	p.host, p.unique, p.nonce = file[:hashCut], file[hashCut+1:cut], file[cut+1:]
	if _, err := time.Parse("2006-01-02/15", p.date+"/"+p.hour); err != nil {
		t.Fatalf("object %q: partition: %v", name, err)
	}
	return p
}

// objects reads every object in the bucket, in name order, decompressing and decoding it.
func (f *fakeGCS) objects(t testing.TB) []object {
	t.Helper()
	list, _, err := f.fake.ListObjectsWithOptions(testBucket, fakestorage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []object
	for _, a := range list {
		obj, err := f.fake.GetObject(testBucket, a.Name)
		if err != nil {
			t.Fatal(err)
		}
		o := object{attrs: obj.ObjectAttrs, parsed: parseName(t, a.Name)}
		zr, err := gzip.NewReader(bytes.NewReader(obj.Content))
		if err != nil {
			t.Fatalf("%s: not gzip: %v", a.Name, err)
		}
		if o.data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		if len(o.data) > 0 && o.data[len(o.data)-1] != '\n' {
			t.Errorf("%s does not end with a whole line", a.Name)
		}
		sc := bufio.NewScanner(bytes.NewReader(o.data))
		sc.Buffer(nil, 64<<20)
		for i := 1; sc.Scan(); i++ {
			r := telemetry.Empty(o.parsed.signal)
			if err := otlpjson.Unmarshal(sc.Bytes(), r.Message()); err != nil {
				t.Fatalf("%s line %d: %v", a.Name, i, err)
			}
			o.lines = append(o.lines, r)
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b object) int { return strings.Compare(a.attrs.Name, b.attrs.Name) })
	return out
}

// captured loads every request Claude Code sent in the captured sessions, in name order.
func captured(t testing.TB) []telemetry.Request {
	t.Helper()
	all, err := capture.All()
	if err != nil {
		t.Fatal(err)
	}
	var out []telemetry.Request
	for _, p := range all {
		out = append(out, p.Request)
	}
	return out
}

// loadCaptured loads one captured request by name.
func loadCaptured(t testing.TB, name string) telemetry.Request {
	t.Helper()
	p, err := capture.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Request
}

// built builds a writer with o, closing it when the test ends.
func built(t testing.TB, o Options) *Writer {
	t.Helper()
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// started builds and starts a writer with o, closing it when the test ends.
func started(t testing.TB, o Options) *Writer {
	t.Helper()
	w := built(t, o)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

// engine is w (built, not started: the engine starts it) behind the real delivery engine: a memory queue, short retries.
func engine(t testing.TB, w *Writer, batch config.Batch, deadLetters string, m *admin.Metrics) *sinks.Sink {
	t.Helper()
	s := sinks.New(w, sinks.Options{
		Name:    "audit",
		Metrics: m,
		Batch:   batch,
		Retry: config.Retry{
			InitialInterval: config.Duration(time.Millisecond),
			MaxInterval:     config.Duration(10 * time.Millisecond),
			AttemptTimeout:  config.Duration(10 * time.Second),
		},
		DeadLetterDir: deadLetters,
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// put queues r on s as the router would.
func put(t testing.TB, s *sinks.Sink, r telemetry.Request) {
	t.Helper()
	n := proto.Size(r.Message())
	if err := s.Reserve(n); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), r, n); err != nil {
		t.Fatal(err)
	}
}

// drain shuts s down, which delivers what it holds, and fails the test if anything was left.
func drain(t testing.TB, s *sinks.Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// recordKeys splits requests into their records (see splitRecords) and counts them by their
// deterministic encoding: equal keys are records equal field for field, in equal resources and
// scopes.
func recordKeys(t testing.TB, rs []telemetry.Request) map[string]int {
	t.Helper()
	out := map[string]int{}
	add := func(m proto.Message) {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out[string(b)]++
	}
	for _, r := range rs {
		for _, one := range splitRecords(r) {
			add(one.Message())
		}
	}
	return out
}

// splitRecords splits r into requests of one record each (for metrics, one metric with its
// data points), each with the record's resource and scope.
func splitRecords(r telemetry.Request) []telemetry.Request {
	var out []telemetry.Request
	switch {
	case r.Logs != nil:
		for _, rl := range r.Logs.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, l := range sl.LogRecords {
					out = append(out, telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
						Resource: rl.Resource, SchemaUrl: rl.SchemaUrl,
						ScopeLogs: []*logspb.ScopeLogs{{Scope: sl.Scope, SchemaUrl: sl.SchemaUrl, LogRecords: []*logspb.LogRecord{l}}},
					}}}})
				}
			}
		}
	case r.Metrics != nil:
		for _, rm := range r.Metrics.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					out = append(out, telemetry.Request{Metrics: &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
						Resource: rm.Resource, SchemaUrl: rm.SchemaUrl,
						ScopeMetrics: []*metricspb.ScopeMetrics{{Scope: sm.Scope, SchemaUrl: sm.SchemaUrl, Metrics: []*metricspb.Metric{m}}},
					}}}})
				}
			}
		}
	case r.Traces != nil:
		for _, rs := range r.Traces.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, telemetry.Request{Traces: &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
						Resource: rs.Resource, SchemaUrl: rs.SchemaUrl,
						ScopeSpans: []*tracepb.ScopeSpans{{Scope: ss.Scope, SchemaUrl: ss.SchemaUrl, Spans: []*tracepb.Span{s}}},
					}}}})
				}
			}
		}
	}
	return out
}

func protoEqual(a, b telemetry.Request) bool { return proto.Equal(a.Message(), b.Message()) }
