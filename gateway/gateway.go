// Package gateway assembles the daemon from a loaded config: it builds every component
// (redaction profiles, sinks, the router, the OTLP listeners, the admin server), starts them in
// dependency order and stops them in reverse, so that ingest stops first and the sinks' queues
// drain before the process exits.
//
// It is not for behaviour of its own: each layer does its work in its package.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"sync"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/ingest"
	"claude-otel-gw/redact"
	"claude-otel-gw/route"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/file"
	"claude-otel-gw/sinks/otlp"
	promsink "claude-otel-gw/sinks/prometheus"

	"github.com/prometheus/client_golang/prometheus"
)

// Info identifies the build.
type Info struct {
	Version, Revision string
}

// Gateway is the assembled daemon.
type Gateway struct {
	cfg     *config.Config
	info    Info
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *admin.Metrics
	sinks   []*sinks.Sink // sorted by name
	router  *route.Router
	ingest  *ingest.Server
	admin   *admin.Server // nil when the admin listener is off
}

// Build constructs every component from cfg without starting any, so that whatever passes
// Build (as --check runs it) also starts. Its errors name the config key at fault.
func Build(cfg *config.Config, log *slog.Logger, info Info) (*Gateway, error) {
	g := &Gateway{cfg: cfg, info: info, log: log, reg: prometheus.NewRegistry()}
	g.metrics = admin.NewMetrics(g.reg, info.Version, info.Revision)

	var errs []error
	profiles := map[string]route.Redactor{}
	for _, name := range sortedKeys(cfg.Redaction) {
		p, err := redact.Compile(name, cfg.Redaction[name], g.metrics)
		if err != nil {
			errs = append(errs, cfg.Errorf("redaction."+name, "%v", err))
			continue
		}
		profiles[name] = p
	}
	targets := map[string]route.Target{}
	for _, name := range sortedKeys(cfg.Sinks) {
		sc := cfg.Sinks[name]
		w, err := newWriter(name, sc, g.metrics, log, info)
		if err != nil {
			errs = append(errs, cfg.Errorf("sink."+name, "%v", err))
			continue
		}
		s := sinks.New(w, sinks.Options{
			Name: name, Queue: sc.Queue, Batch: sc.Batch, Retry: sc.Retry,
			SpoolDir:      filepath.Join(cfg.State.Dir, "spool", name),
			DeadLetterDir: filepath.Join(cfg.State.Dir, "deadletter", name),
			Signals:       config.SinkSignals(sc.Type),
			Metrics:       g.metrics, Logger: log,
		})
		g.sinks = append(g.sinks, s)
		targets[name] = s
	}
	if len(errs) > 0 {
		g.closeWriters()
		return nil, errors.Join(errs...)
	}
	var err error
	if g.router, err = route.New(cfg.Routes, profiles, targets, g.metrics, log); err != nil {
		g.closeWriters()
		return nil, err
	}
	if g.ingest, err = ingest.New(cfg.Ingest, g.router, g.metrics, log); err != nil {
		g.closeWriters()
		return nil, err
	}
	if cfg.Admin.Listen != "" {
		g.admin = admin.NewServer(cfg.Admin.Listen, g.reg, g.Ready, log)
	}
	return g, nil
}

// newWriter builds the destination writer for one sink.
func newWriter(name string, sc *config.Sink, m *admin.Metrics, log *slog.Logger, info Info) (sinks.Writer, error) {
	log = log.With("sink", name)
	switch sc.Type {
	case "otlp":
		headers := make(map[string]string, len(sc.Headers))
		for k, v := range sc.Headers {
			headers[k] = string(v)
		}
		return otlp.New(otlp.Options{
			Name:        name,
			Endpoint:    sc.Endpoint,
			Protocol:    sc.Protocol,
			Headers:     headers,
			Compression: sc.Compression,
			CAFile:      sc.CAFile,
			CertFile:    sc.CertFile,
			KeyFile:     sc.KeyFile,
			UserAgent:   "claude-otel-gw/" + info.Version,
			Metrics:     m,
			Logger:      log,
		})
	case "prometheus":
		return promsink.New(promsink.Options{
			Name:    name,
			Listen:  sc.Listen,
			Labels:  sc.Labels,
			Metrics: m,
			Logger:  log,
		})
	case "file":
		return file.New(file.Options{
			Dir:          sc.Path,
			MaxFileBytes: int64(sc.MaxFileBytes),
			MaxFileAge:   sc.MaxFileAge.D(),
			Compress:     *sc.Compress, // the loader fills it in
			MaxAge:       sc.MaxAge.D(),
			Logger:       log,
		})
	}
	return nil, fmt.Errorf("sink type %q is not available in this build", sc.Type)
}

// Close releases what Build made, for a gateway that will not be started (--check).
func (g *Gateway) Close() error { return g.closeWriters() }

func (g *Gateway) closeWriters() error {
	var errs []error
	for _, s := range g.sinks {
		// Shutdown before Start closes the writer without starting anything.
		errs = append(errs, s.Shutdown(context.Background()))
	}
	return errors.Join(errs...)
}

// Start starts the sinks, then the admin server, then the OTLP listeners, so nothing is accepted
// before it has somewhere to go. If a part fails to start, what was started is stopped again and
// the error returned: nothing is left half-started.
func (g *Gateway) Start(ctx context.Context) error {
	fail := func(err error) error {
		g.Shutdown(context.WithoutCancel(ctx)) //nolint:errcheck // the start error matters more
		return err
	}
	for _, s := range g.sinks {
		if err := s.Start(ctx); err != nil {
			return fail(fmt.Errorf("sink %s: %w", s.Name(), err))
		}
	}
	if g.admin != nil {
		if err := g.admin.Start(ctx); err != nil {
			return fail(err)
		}
	}
	if err := g.ingest.Start(ctx); err != nil {
		return fail(err)
	}
	g.log.Info("gateway started", "version", g.info.Version, "config", g.cfg.Source, "state_dir", g.cfg.State.Dir,
		"routes", len(g.cfg.Routes), "sinks", len(g.sinks))
	return nil
}

// Shutdown stops ingest first (in-flight requests finish), then drains the sinks in parallel,
// then stops the admin server, all within ctx. It is safe before Start and safe twice.
func (g *Gateway) Shutdown(ctx context.Context) error {
	var errs []error
	if g.ingest != nil {
		errs = append(errs, g.ingest.Shutdown(ctx))
	}
	var wg sync.WaitGroup
	sinkErrs := make([]error, len(g.sinks))
	for i, s := range g.sinks {
		wg.Go(func() { sinkErrs[i] = s.Shutdown(ctx) })
	}
	wg.Wait()
	errs = append(errs, sinkErrs...)
	if g.admin != nil {
		errs = append(errs, g.admin.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Ready reports nil when the listeners are up and no sink is stuck.
func (g *Gateway) Ready() error {
	if err := g.ingest.Ready(); err != nil {
		return err
	}
	for _, s := range g.sinks {
		if err := s.Healthy(); err != nil {
			return fmt.Errorf("sink %s: %w", s.Name(), err)
		}
	}
	return nil
}

// Registry is where the gateway's metrics are registered.
func (g *Gateway) Registry() *prometheus.Registry { return g.reg }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// GRPCAddr, HTTPAddr and AdminAddr are the bound listener addresses (nil when off or not
// started).
func (g *Gateway) GRPCAddr() net.Addr { return g.ingest.GRPCAddr() }

// HTTPAddr is the bound OTLP/HTTP address.
func (g *Gateway) HTTPAddr() net.Addr { return g.ingest.HTTPAddr() }

// AdminAddr is the bound admin address.
func (g *Gateway) AdminAddr() net.Addr {
	if g.admin == nil {
		return nil
	}
	return g.admin.Addr()
}
