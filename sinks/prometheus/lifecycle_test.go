package promsink

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"

	"claude-otel-gw/sinks"
)

// TestStartBindsAndCloseFrees: New binds nothing (so --check binds nothing), Start binds and
// serves /metrics and only /metrics, Close frees the port.
func TestStartBindsAndCloseFrees(t *testing.T) {
	// Hold a port, so that a New that bound it would fail.
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := held.Addr().String()
	w, err := New(Options{Name: "prom", Listen: addr})
	if err != nil {
		t.Fatalf("New with a busy address: %v; want no bind, no error", err)
	}
	if w.Addr() != nil {
		t.Errorf("Addr before Start = %v; want nil", w.Addr())
	}
	if err := w.Start(context.Background()); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Start on a busy address: %v; want address in use", err)
	}
	held.Close()
	if err := w.Start(context.Background()); err != nil {
		t.Fatalf("Start once the address is free: %v", err)
	}
	if got := w.Addr().String(); got != addr {
		t.Errorf("Addr = %s; want %s", got, addr)
	}
	if err := w.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}

	if resp, _ := get(t, w, "/metrics"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /metrics: %s", resp.Status)
	}
	for _, path := range []string{"/", "/metrics/", "/metrics/x", "/healthz", "/debug/pprof/"} {
		if resp, _ := get(t, w, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s; want 404", path, resp.Status)
		}
	}
	resp, err := http.Post("http://"+addr+"/metrics", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /metrics: %s; want 404", resp.Status)
	}

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the listener still answers after Close")
	}
	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port is not free after Close: %v", err)
	}
	again.Close()
	if err := w.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if err := w.Start(context.Background()); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestCloseBeforeStart(t *testing.T) {
	w, err := New(Options{Name: "prom", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close before Start: %v", err)
	}
}

func TestSerialLimits(t *testing.T) {
	w, err := New(Options{Name: "prom", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Limits(); got != (sinks.Limits{Serial: true}) {
		t.Errorf("Limits = %+v; want Serial only", got)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	many := make([]string, 65)
	for i := range many {
		many[i] = "k" + strings.Repeat("x", i)
	}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no address", Options{}, "no listen address"},
		{"not host:port", Options{Listen: "9464"}, "listen address"},
		{"negative cap", Options{Listen: ":0", MaxSeries: -1}, "must not be negative"},
		{"a key twice", Options{Listen: ":0", Labels: []string{"model", "model"}}, `attribute "model" is listed twice`},
		{"two keys, one label", Options{Listen: ":0", Labels: []string{"user.id", "user_id"}}, `attributes "user.id" and "user_id" would both become label "user_id"`},
		{"reserved label", Options{Listen: ":0", Labels: []string{"__name__"}}, "reserved to Prometheus"},
		{"histogram label", Options{Listen: ":0", Labels: []string{"le"}}, "reserves for histograms"},
		{"empty key", Options{Listen: ":0", Labels: []string{""}}, "must not be empty"},
		{"too many labels", Options{Listen: ":0", Labels: many}, "at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Name = "prom"
			_, err := New(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `prometheus sink "prom": `) {
				t.Errorf("New: %v; want an error about %q", err, tt.want)
			}
		})
	}
}

// TestWritesDuringScrapes runs writes and scrapes at once; with -race it checks the locking,
// and the last scrape must see every write.
func TestWritesDuringScrapes(t *testing.T) {
	w := started(t, Options{})
	reqs := capturedMetrics(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 20 {
			for _, r := range reqs {
				if err := w.Write(context.Background(), r); err != nil {
					t.Error(err)
				}
			}
		}
	})
	for range 20 {
		scrape(t, w)
	}
	wg.Wait()
	fams, _ := scrape(t, w)
	if got := value(t, fams, "claude_code_session_count_total", "user_id", "ff6978d4f4f5cba7d1c0a20ce6ce4853da60479333be1256f84097d8ae2a10fb"); got != 5*20+1 {
		t.Errorf("sessions = %v; want %v (5 delta sessions 20 times, 1 cumulative)", got, 5*20+1)
	}
}
