package promsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// errClosed is returned by Start after Close.
var errClosed = errors.New("closed")

// Start binds the listener and serves /metrics on it; every other path is a 404.
func (w *Writer) Start(ctx context.Context) error {
	w.life.Lock()
	defer w.life.Unlock()
	if w.closed {
		return fmt.Errorf("prometheus sink %q: %w", w.o.Name, errClosed)
	}
	if w.ln != nil {
		return fmt.Errorf("prometheus sink %q: already started", w.o.Name)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", w.o.Listen)
	if err != nil {
		return fmt.Errorf("prometheus sink %q: %w", w.o.Name, err)
	}
	w.ln = ln
	w.srv = &http.Server{
		Handler:           w.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(w.log.Handler(), slog.LevelWarn),
	}
	w.served = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			w.log.Error("prometheus sink: serving stopped", "err", err)
		}
	}(w.srv, w.served)
	w.log.Info("prometheus sink: serving /metrics", "addr", ln.Addr().String())
	return nil
}

func (w *Writer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{
		ErrorLog:      scrapeErrors{w.log},
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("/", http.NotFound)
	return mux
}

// scrapeErrors lets promhttp report what went wrong in a scrape to the sink's log.
type scrapeErrors struct{ log *slog.Logger }

func (e scrapeErrors) Println(v ...any) {
	e.log.Warn("prometheus sink: scrape", "err", fmt.Sprint(v...))
}

// closeTimeout bounds how long Close waits for scrapes in flight.
const closeTimeout = 5 * time.Second

// Close stops the listener, waiting a little for scrapes in flight. It is safe before Start and
// safe twice; the exported state is dropped with the Writer.
func (w *Writer) Close() error {
	w.life.Lock()
	defer w.life.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	err := w.srv.Shutdown(ctx)
	if err != nil {
		w.srv.Close()
		err = fmt.Errorf("prometheus sink %q: stopping the listener: %w", w.o.Name, err)
	}
	<-w.served
	w.log.Info("prometheus sink: stopped", "addr", w.ln.Addr().String())
	return err
}

// Addr is the bound address after Start (nil before).
func (w *Writer) Addr() net.Addr {
	w.life.Lock()
	defer w.life.Unlock()
	if w.ln == nil {
		return nil
	}
	return w.ln.Addr()
}
