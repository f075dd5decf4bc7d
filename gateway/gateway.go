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
	"slices"
	"sync"
	"sync/atomic"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/ingest"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/file"
	"claude-otel-gw/sinks/otlp"
	promsink "claude-otel-gw/sinks/prometheus"
	"claude-otel-gw/telemetry"

	"github.com/prometheus/client_golang/prometheus"
)

// Info identifies the build.
type Info struct {
	Version, Revision string
}

// Gateway is the assembled daemon.
type Gateway struct {
	info    Info
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *admin.Metrics

	// pipe is the running config's sinks and router. Consume holds swap for reading while it
	// routes a request; a reload holds it for writing while it replaces sinks, so no request is
	// half-admitted to a sink being stopped, and admissions wait through the swap instead of
	// being refused.
	pipe atomic.Pointer[pipeline]
	swap sync.RWMutex

	// reloadMu serialises reloads and shutdown; it guards cfg, ingest and admin.
	reloadMu sync.Mutex
	cfg      *config.Config
	ingest   *ingest.Server
	admin    *admin.Server // nil when the admin listener is off
}

// Build constructs every component from cfg without starting any, so that whatever passes
// Build (as --check runs it) also starts. Its errors name the config key at fault.
func Build(cfg *config.Config, log *slog.Logger, info Info) (*Gateway, error) {
	g := &Gateway{cfg: cfg, info: info, log: log, reg: prometheus.NewRegistry()}
	g.metrics = admin.NewMetrics(g.reg, info.Version, info.Revision)
	p, err := g.buildPipeline(cfg, nil)
	if err != nil {
		return nil, err
	}
	g.pipe.Store(p)
	if g.ingest, err = ingest.New(cfg.Ingest, g, g.metrics, log); err != nil {
		p.closeFresh()
		return nil, err
	}
	if cfg.Admin.Listen != "" {
		g.admin = admin.NewServer(cfg.Admin.Listen, g.reg, g.Ready, log)
	}
	return g, nil
}

// Consume routes one request through the running config's router.
func (g *Gateway) Consume(ctx context.Context, r telemetry.Request) error {
	g.swap.RLock()
	defer g.swap.RUnlock()
	return g.pipe.Load().router.Consume(ctx, r)
}

// newWriter builds the destination writer for one sink.
func newWriter(name string, sc *config.Sink, m *admin.Metrics, base *slog.Logger, info Info) (sinks.Writer, error) {
	log := base.With("sink", name)
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
	case "gcs", "cloud_logging", "cloud_monitoring", "cloud_trace":
		// These name their sink in their logs themselves.
		return newGoogleWriter(name, sc, m, base, info)
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
func (g *Gateway) Close() error { return g.pipe.Load().closeFresh() }

// Start starts the sinks, then the admin server, then the OTLP listeners, so nothing is accepted
// before it has somewhere to go. If a part fails to start, what was started is stopped again and
// the error returned: nothing is left half-started.
func (g *Gateway) Start(ctx context.Context) error {
	fail := func(err error) error {
		g.Shutdown(context.WithoutCancel(ctx)) //nolint:errcheck // the start error matters more
		return err
	}
	p := g.pipe.Load()
	for _, s := range p.sinks {
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
		"routes", len(g.cfg.Routes), "sinks", len(p.sinks))
	return nil
}

// Shutdown stops ingest first (in-flight requests finish), then drains the sinks in parallel,
// then stops the admin server, all within ctx. It is safe before Start and safe twice.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	var errs []error
	if g.ingest != nil {
		errs = append(errs, g.ingest.Shutdown(ctx))
	}
	errs = append(errs, shutdownAll(ctx, g.pipe.Load().sinks))
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
	for _, s := range g.pipe.Load().sinks {
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
