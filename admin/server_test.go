package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, "1.2.3", "abc")
	m.ReceivedRecords.WithLabelValues("logs", "grpc").Add(7)
	var notReady error = errors.New("sink audit: every attempt failed for 2m")
	s := NewServer("127.0.0.1:0", reg, func() error { return notReady }, slog.New(slog.DiscardHandler))
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown before start: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr().String()

	code, body := get(t, base+"/metrics")
	for _, want := range []string{
		`claude_otel_gw_received_records_total{signal="logs",transport="grpc"} 7`,
		`claude_otel_gw_build_info{goversion="go`,
		`version="1.2.3"`,
		"go_goroutines",
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "sink audit") {
		t.Errorf("/readyz = %d %q, want 503 with the reason", code, body)
	}
	notReady = nil
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d once ready", code)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
}

func TestBusyPortFailsStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := NewServer(ln.Addr().String(), prometheus.NewRegistry(), func() error { return nil }, slog.New(slog.DiscardHandler))
	if err := s.Start(context.Background()); err == nil {
		s.Shutdown(context.Background())
		t.Fatal("start on a busy port succeeded")
	}
}
