package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/logevery"

	"google.golang.org/grpc"
)

const (
	// maxHeaderBytes bounds an HTTP request's headers; OTLP clients send a handful.
	maxHeaderBytes = 64 << 10
	// writeTimeoutSlack is how much longer than ReadTimeout a request may take in all: the
	// consumer's time to accept the data (a durable queue writes it to disk) plus the answer.
	writeTimeoutSlack = 10 * time.Second
	// logInterval is the least time between two warnings about refused requests, and between
	// two reports of a panicking consumer.
	logInterval = 10 * time.Second
)

// Server is the OTLP receiver: a gRPC listener and an HTTP listener, either of which may be off.
type Server struct {
	cfg      config.Ingest
	next     Consumer
	log      *slog.Logger
	counters *counters

	// creds are the certificate, client CAs and token in force; UpdateCredentials swaps them.
	creds atomic.Pointer[credentialSet]

	refusalLog logevery.Limiter
	authLog    logevery.Limiter
	panicLog   logevery.Limiter
	inflight   atomic.Int64 // requests being handled, on either transport

	grpc *grpc.Server
	http *http.Server
	// cancelHTTP cancels every HTTP request's context when shutdown runs out of time, so that
	// consumers still working on them give up.
	cancelHTTP context.CancelFunc

	mu       sync.Mutex
	started  bool
	stopping bool
	grpcLn   net.Listener
	httpLn   net.Listener
	serving  [numTransports]atomic.Bool
	serveErr [numTransports]atomic.Pointer[error]
	wg       sync.WaitGroup // the serving goroutines
	stopped  chan struct{}  // closed when the first Shutdown has finished
}

// New builds a Server from a loaded (defaulted and validated) config. It reads the TLS
// certificate and key, the client CAs and the bearer token the config names, and fails naming
// the file if one is unusable, but it opens no socket: Start does. A nil logger discards the log.
func New(cfg config.Ingest, next Consumer, m *admin.Metrics, log *slog.Logger) (*Server, error) {
	if next == nil {
		return nil, errors.New("ingest: no consumer")
	}
	if m == nil {
		return nil, errors.New("ingest: no metrics")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	creds, err := loadCredentials(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:        cfg,
		next:       next,
		log:        log,
		counters:   newCounters(m),
		refusalLog: logevery.Limiter{Every: logInterval},
		authLog:    logevery.Limiter{Every: logInterval},
		panicLog:   logevery.Limiter{Every: logInterval},
		stopped:    make(chan struct{}),
	}
	s.creds.Store(creds)
	if cfg.GRPCListen != "" {
		s.grpc = newGRPCServer(s)
	}
	if cfg.HTTPListen != "" {
		h, err := newHTTPHandler(s)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		base, cancel := context.WithCancel(context.Background())
		s.cancelHTTP = cancel
		s.http = &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cfg.ReadHeaderTimeout.D(),
			ReadTimeout:       cfg.ReadTimeout.D(),
			WriteTimeout:      writeTimeout(cfg.ReadTimeout.D()),
			IdleTimeout:       cfg.IdleTimeout.D(),
			MaxHeaderBytes:    maxHeaderBytes,
			BaseContext:       func(net.Listener) context.Context { return base },
			// net/http's own complaints (a client that sent garbage, a broken connection)
			// are the client's business; they go to the debug log.
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
		if cfg.TLS() {
			s.http.TLSConfig = s.listenerTLS(transportHTTP)
		}
	}
	return s, nil
}

func writeTimeout(read time.Duration) time.Duration {
	if read <= 0 {
		return 0
	}
	return read + writeTimeoutSlack
}

// Start binds the configured listeners and serves them in the background. If either address
// cannot be bound, Start fails and leaves nothing open. ctx bounds binding only; the server runs
// until Shutdown.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopping:
		return errors.New("ingest: start after shutdown")
	case s.started:
		return errors.New("ingest: already started")
	}
	var lc net.ListenConfig
	var grpcLn, httpLn net.Listener
	var err error
	if s.grpc != nil {
		if grpcLn, err = lc.Listen(ctx, "tcp", s.cfg.GRPCListen); err != nil {
			return fmt.Errorf("ingest: otlp/grpc listener: %w", err)
		}
	}
	if s.http != nil {
		if httpLn, err = lc.Listen(ctx, "tcp", s.cfg.HTTPListen); err != nil {
			if grpcLn != nil {
				grpcLn.Close()
			}
			return fmt.Errorf("ingest: otlp/http listener: %w", err)
		}
	}
	s.started = true
	s.grpcLn, s.httpLn = grpcLn, httpLn
	on := s.creds.Load().logAttrs()
	if grpcLn != nil {
		s.serve(transportGRPC, func() error { return s.grpc.Serve(grpcLn) }, grpc.ErrServerStopped)
		s.log.Info("otlp/grpc listening", append([]any{"addr", grpcLn.Addr().String()}, on...)...)
	}
	if httpLn != nil {
		serve := func() error { return s.http.Serve(httpLn) }
		if s.http.TLSConfig != nil {
			// The certificate comes from TLSConfig; ServeTLS also keeps HTTP/2 on offer.
			serve = func() error { return s.http.ServeTLS(httpLn, "", "") }
		}
		s.serve(transportHTTP, serve, http.ErrServerClosed)
		s.log.Info("otlp/http listening", append([]any{"addr", httpLn.Addr().String()}, on...)...)
	}
	return nil
}

// serve runs one listener's serving loop in a tracked goroutine; clean is the error that loop
// returns when it was shut down on purpose.
func (s *Server) serve(t transport, loop func() error, clean error) {
	s.serving[t].Store(true)
	s.wg.Go(func() {
		err := loop()
		s.serving[t].Store(false)
		if err != nil && !errors.Is(err, clean) {
			s.serveErr[t].Store(&err)
			s.log.Error("otlp listener failed; it no longer takes data", "transport", t.String(), "error", err)
		}
	})
}

// Shutdown stops accepting connections and waits for requests in flight to finish until ctx
// ends; then it cuts off what is left and returns an error saying so. It is safe before Start
// and more than once: later calls wait for the first to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		select {
		case <-s.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.stopping = true
	started := s.started
	s.mu.Unlock()
	defer close(s.stopped)
	if !started {
		return nil
	}

	var forced atomic.Bool
	var inflight atomic.Int64
	var wg sync.WaitGroup
	if s.grpcLn != nil {
		wg.Go(func() {
			done := make(chan struct{})
			go func() {
				s.grpc.GracefulStop()
				close(done)
			}()
			select {
			case <-done:
				return
			case <-ctx.Done():
			}
			select {
			case <-done: // finished just as time ran out
			default:
				inflight.Store(s.inflight.Load())
				forced.Store(true)
				// Stop closes every connection, which cancels the requests' contexts, but
				// GracefulStop keeps waiting for their handlers: its goroutine ends when the
				// last consumer returns, and Shutdown does not wait for that.
				s.grpc.Stop()
			}
		})
	}
	if s.httpLn != nil {
		wg.Go(func() {
			if err := s.http.Shutdown(ctx); err != nil {
				inflight.Store(s.inflight.Load())
				forced.Store(true)
				s.cancelHTTP()
				s.http.Close()
			}
			s.cancelHTTP()
		})
	}
	wg.Wait()
	s.wg.Wait()
	if forced.Load() {
		n := inflight.Load()
		s.log.Warn("otlp listeners stopped before every request finished; those clients got no answer and will send again or lose the data",
			"requests_cut_off", n)
		return fmt.Errorf("ingest: shutdown cut off %d requests in flight: %w", n, ctx.Err())
	}
	s.log.Info("otlp listeners stopped")
	return nil
}

// GRPCAddr is the gRPC listener's address; nil when gRPC is off or the server was not started.
func (s *Server) GRPCAddr() net.Addr { return s.addr(func() net.Listener { return s.grpcLn }) }

// HTTPAddr is the HTTP listener's address; nil when HTTP is off or the server was not started.
func (s *Server) HTTPAddr() net.Addr { return s.addr(func() net.Listener { return s.httpLn }) }

func (s *Server) addr(ln func() net.Listener) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := ln(); l != nil {
		return l.Addr()
	}
	return nil
}

// Ready returns nil when every configured listener is serving, and otherwise says which is not.
func (s *Server) Ready() error {
	s.mu.Lock()
	started, stopping := s.started, s.stopping
	s.mu.Unlock()
	switch {
	case stopping:
		return errors.New("ingest: shut down")
	case !started:
		return errors.New("ingest: not started")
	}
	var errs []error
	for t, on := range [numTransports]bool{transportGRPC: s.grpc != nil, transportHTTP: s.http != nil} {
		if !on || s.serving[t].Load() {
			continue
		}
		err := errors.New("stopped")
		if p := s.serveErr[t].Load(); p != nil {
			err = *p
		}
		errs = append(errs, fmt.Errorf("ingest: otlp/%s listener not serving: %w", transport(t), err))
	}
	return errors.Join(errs...)
}
