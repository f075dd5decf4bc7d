package capture

import (
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// Receiver is an OTLP/HTTP destination for tests: it takes POST /v1/logs, /v1/metrics and
// /v1/traces in protobuf or JSON, gzipped or not, keeps every request, and answers 503 while
// Down is set, as a destination that is away.
type Receiver struct {
	URL  string // http://host:port
	Down atomic.Bool

	mu  sync.Mutex
	got map[telemetry.Signal][]telemetry.Request
}

// StartReceiver listens on addr ("" for a free loopback port) until the test ends.
func StartReceiver(t testing.TB, addr string) *Receiver {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("receiver: %v", err)
	}
	rc := &Receiver{URL: "http://" + ln.Addr().String(), got: map[telemetry.Signal][]telemetry.Request{}}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return rc
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var sig telemetry.Signal
	switch r.URL.Path {
	case "/v1/logs":
		sig = telemetry.Logs
	case "/v1/metrics":
		sig = telemetry.Metrics
	case "/v1/traces":
		sig = telemetry.Traces
	default:
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
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
	if rc.Down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	req := telemetry.Empty(sig)
	jsonBody := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
	if jsonBody {
		err = otlpjson.Unmarshal(data, req.Message())
	} else {
		err = proto.Unmarshal(data, req.Message())
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.got[sig] = append(rc.got[sig], req)
	rc.mu.Unlock()
	// An empty response is a full success, in either encoding.
	if jsonBody {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// Requests returns what the receiver has taken of one signal, in order.
func (rc *Receiver) Requests(sig telemetry.Signal) []telemetry.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]telemetry.Request(nil), rc.got[sig]...)
}

// Missing returns how many of ids were never received as the integer value of the log
// record attribute key, and how many were received more than once.
func (rc *Receiver) Missing(key string, ids []int64) (missing, duplicated int) {
	seen := map[int64]int{}
	for _, r := range rc.Requests(telemetry.Logs) {
		for _, rl := range r.Logs.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					for _, kv := range lr.Attributes {
						if kv.Key == key {
							seen[kv.Value.GetIntValue()]++
						}
					}
				}
			}
		}
	}
	for _, id := range ids {
		switch n := seen[id]; {
		case n == 0:
			missing++
		case n > 1:
			duplicated++
		}
	}
	return missing, duplicated
}
