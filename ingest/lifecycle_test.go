package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/telemetry"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

func newServer(t *testing.T, cfg config.Ingest, c Consumer) *Server {
	t.Helper()
	s, err := New(cfg, c, admin.NewTestMetrics(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// freeAddr is a loopback address nothing listens on (as of now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestStartFailsCleanlyOnABusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := testConfig()
	cfg.GRPCListen = freeAddr(t) // bound first, so Start must let it go again
	cfg.HTTPListen = busy.Addr().String()
	s := newServer(t, cfg, &recorder{})
	err = s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "otlp/http listener") {
		t.Fatalf("Start = %v, want an error about the HTTP listener", err)
	}
	if s.GRPCAddr() != nil || s.HTTPAddr() != nil {
		t.Errorf("addresses %v, %v after a failed Start, want none", s.GRPCAddr(), s.HTTPAddr())
	}
	if s.Ready() == nil {
		t.Errorf("Ready after a failed Start")
	}
	ln, err := net.Listen("tcp", cfg.GRPCListen)
	if err != nil {
		t.Fatalf("the gRPC address is still held after a failed Start: %v", err)
	}
	ln.Close()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after a failed Start: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), &recorder{})
	if s.Ready() == nil {
		t.Errorf("Ready before Start")
	}
	if s.GRPCAddr() != nil || s.HTTPAddr() != nil {
		t.Errorf("addresses before Start")
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(); err != nil {
		t.Errorf("Ready after Start: %v", err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Errorf("a second Start succeeded")
	}
	for i := range 2 {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown #%d: %v", i+1, err)
		}
	}
	if s.Ready() == nil {
		t.Errorf("Ready after Shutdown")
	}
	for name, addr := range map[string]net.Addr{"grpc": s.GRPCAddr(), "http": s.HTTPAddr()} {
		if c, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Shutdown", name)
		}
	}
	if err := s.Start(context.Background()); err == nil {
		t.Errorf("Start after Shutdown succeeded")
	}
}

func TestShutdownBeforeStart(t *testing.T) {
	t.Parallel()
	s := newServer(t, testConfig(), &recorder{})
	for i := range 2 {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown #%d: %v", i+1, err)
		}
	}
	if err := s.Start(context.Background()); err == nil {
		t.Errorf("Start after Shutdown succeeded")
	}
}

func TestOneListenerOff(t *testing.T) {
	t.Parallel()
	for _, off := range []string{"grpc", "http"} {
		t.Run(off+" off", func(t *testing.T) {
			cfg := testConfig()
			if off == "grpc" {
				cfg.GRPCListen = ""
			} else {
				cfg.HTTPListen = ""
			}
			h := start(t, cfg, &recorder{})
			if err := h.srv.Ready(); err != nil {
				t.Errorf("Ready: %v", err)
			}
			if (h.srv.GRPCAddr() == nil) != (off == "grpc") || (h.srv.HTTPAddr() == nil) != (off == "http") {
				t.Errorf("addresses %v, %v with %s off", h.srv.GRPCAddr(), h.srv.HTTPAddr(), off)
			}
			f := fixtureNamed(t, "01-prompt-pii-grpc/metrics.grpc.pb")
			if off == "grpc" {
				if r := h.post(t, "/v1/metrics", mediaProtobuf, "", f.data); r.status != 200 {
					t.Errorf("HTTP export: %d", r.status)
				}
			} else if _, err := h.exportGRPC(context.Background(), f.request(t)); err != nil {
				t.Errorf("gRPC export: %v", err)
			}
		})
	}
}

// blocker is a Consumer that holds every request until released.
type blocker struct {
	entered chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}, 16), release: make(chan struct{})}
}

func (b *blocker) Consume(ctx context.Context, _ telemetry.Request) error {
	b.entered <- struct{}{}
	<-b.release
	return nil
}

func (b *blocker) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-b.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the consumer")
	}
}

// Shutdown lets a request in flight finish and be acknowledged, on either transport.
func TestShutdownWaitsForRequestsInFlight(t *testing.T) {
	t.Parallel()
	f := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb")
	for _, tr := range []string{"grpc", "http"} {
		t.Run(tr, func(t *testing.T) {
			b := newBlocker()
			h := start(t, testConfig(), b)
			answered := make(chan error, 1)
			go func() {
				if tr == "grpc" {
					_, err := h.exportGRPC(context.Background(), f.request(t))
					answered <- err
					return
				}
				resp, err := h.client.Post(h.base+"/v1/logs", mediaProtobuf, bytes.NewReader(f.data))
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				answered <- err
			}()
			b.waitEntered(t)

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			stopped := make(chan error, 1)
			go func() { stopped <- h.srv.Shutdown(ctx) }()
			select {
			case err := <-stopped:
				t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
			case <-time.After(100 * time.Millisecond):
			}
			close(b.release)
			if err := <-answered; err != nil {
				t.Errorf("the request in flight failed: %v", err)
			}
			if err := <-stopped; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
	}
}

// When its deadline passes, Shutdown cuts off what is still in flight, says so, and returns.
func TestShutdownReturnsByItsDeadline(t *testing.T) {
	t.Parallel()
	f := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb")
	b := newBlocker()
	defer close(b.release)
	h := start(t, testConfig(), b)
	failed := make(chan error, 2)
	go func() {
		_, err := h.exportGRPC(context.Background(), f.request(t))
		failed <- err
	}()
	go func() {
		resp, err := h.client.Post(h.base+"/v1/logs", mediaProtobuf, bytes.NewReader(f.data))
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	b.waitEntered(t)
	b.waitEntered(t)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- h.srv.Shutdown(ctx) }()
	select {
	case err := <-stopped:
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "cut off 2 requests") {
			t.Errorf("Shutdown = %v, want it to say it cut off 2 requests at the deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after its deadline")
	}
	for range 2 {
		if err := <-failed; err == nil {
			t.Errorf("a request cut off by shutdown was acknowledged")
		}
	}
	if !strings.Contains(h.log.String(), "requests_cut_off=2") {
		t.Errorf("the log does not say what was cut off:\n%s", h.log.String())
	}
}

// A client that sends its headers too slowly is disconnected after ReadHeaderTimeout, over
// HTTP; over gRPC, one that never completes the HTTP/2 handshake.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.ReadHeaderTimeout = config.Duration(100 * time.Millisecond)
	h := start(t, cfg, &recorder{})
	for _, tc := range []struct {
		name, addr, send string
	}{
		{"http", h.srv.HTTPAddr().String(), "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Ty"},
		{"grpc", h.srv.GRPCAddr().String(), "PRI * HTTP/2.0\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.send); err != nil {
				t.Fatal(err)
			}
			if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			// Whatever the server says first (gRPC's settings frame), it must then hang up.
			_, err = io.Copy(io.Discard, conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept a stalled connection open")
			}
		})
	}
}

// Connections that carry nothing for IdleTimeout are closed, on both transports.
func TestIdleConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.IdleTimeout = config.Duration(200 * time.Millisecond)
	h := start(t, cfg, &recorder{})
	f := fixtureNamed(t, "01-prompt-pii-grpc/logs.grpc.pb")

	t.Run("http", func(t *testing.T) {
		conn, err := net.Dial("tcp", h.srv.HTTPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: %d\r\n\r\n%s", len(f.data), f.data)
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the idle connection was kept open")
		}
		if !strings.HasPrefix(string(got), "HTTP/1.1 200") {
			t.Fatalf("answer %q, want 200 before the connection closed", got)
		}
	})
	t.Run("grpc", func(t *testing.T) {
		conn, err := grpc.NewClient(h.srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		h := &harness{conn: conn}
		if _, err := h.exportGRPC(context.Background(), f.request(t)); err != nil {
			t.Fatal(err)
		}
		// The server's GOAWAY for an idle connection sends the client back to IDLE.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for s := conn.GetState(); s != connectivity.Idle; s = conn.GetState() {
			if !conn.WaitForStateChange(ctx, s) {
				t.Fatalf("the connection is still %v; the server did not close it", s)
			}
		}
	})
}
