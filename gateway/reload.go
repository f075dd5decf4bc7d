package gateway

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/ingest"
	"claude-otel-gw/sinks"
)

// Reload replaces the running config with cfg, which has been loaded and validated. Sinks
// whose config is unchanged keep running, queues and spools and all; a changed sink is stopped
// and its successor started on the same spool, so what it had acknowledged is delivered by the
// successor; a removed sink drains. The OTLP listeners are bound again only when their
// addresses or settings changed; certificates, client CAs and the token are read again either
// way. Requests arriving during the swap wait for it rather than being refused.
//
// On failure the running config stays in place, and the error says every problem;
// claude_otel_gw_config_last_reload_successful is 0 until a reload succeeds.
func (g *Gateway) Reload(ctx context.Context, cfg *config.Config) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	if err := g.reload(ctx, cfg); err != nil {
		g.ReloadFailed()
		return err
	}
	g.metrics.ConfigReloadSuccess.Set(1)
	return nil
}

// ReloadFailed records a reload that failed before it reached the gateway (a config that does
// not load).
func (g *Gateway) ReloadFailed() { g.metrics.ConfigReloadSuccess.Set(0) }

func (g *Gateway) reload(ctx context.Context, cfg *config.Config) error {
	old := g.pipe.Load()
	next, err := g.buildPipeline(cfg, old)
	if err != nil {
		return err
	}
	// The listeners' part comes first, opening nothing: a certificate or token that does not
	// load fails the reload before any sink is touched.
	var newIngest *ingest.Server
	rebind := !sameListeners(g.cfg.Ingest, cfg.Ingest)
	if rebind {
		newIngest, err = ingest.New(cfg.Ingest, g, g.metrics, g.log)
	} else {
		err = g.ingest.UpdateCredentials(cfg.Ingest)
	}
	if err != nil {
		next.closeFresh()
		return err
	}
	if err := g.swapPipeline(ctx, old, next); err != nil {
		if !rebind {
			// Back to the running config's files. They loaded before; if they no longer do,
			// the new ones stay, which is the better of two bad choices.
			if cerr := g.ingest.UpdateCredentials(g.cfg.Ingest); cerr != nil {
				g.log.Warn("reload: the otlp credentials could not be restored", "err", cerr)
			}
		}
		return err
	}
	// applied is the config as it runs: where a listener could not move, its old settings, so
	// that the next reload tries again.
	applied := *cfg
	var errs []error
	if rebind {
		if err := g.rebindIngest(ctx, newIngest, cfg.Ingest); err != nil {
			errs = append(errs, fmt.Errorf("routes and sinks were reloaded, but the otlp listeners kept their old settings: %w", err))
			applied.Ingest = g.cfg.Ingest
		}
	}
	if cfg.Admin.Listen != g.cfg.Admin.Listen {
		if err := g.rebindAdmin(ctx, cfg.Admin.Listen); err != nil {
			errs = append(errs, fmt.Errorf("the admin listener kept its old address: %w", err))
			applied.Admin = g.cfg.Admin
		}
	}
	if cfg.Log.Format != g.cfg.Log.Format {
		g.log.Warn("log.format changes at the next restart", "format", g.cfg.Log.Format, "configured", cfg.Log.Format)
	}
	g.cfg = &applied
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrPartlyApplied, errors.Join(errs...))
	}
	g.log.Info("config reloaded", "config", cfg.Source, "routes", len(cfg.Routes), "sinks", len(next.sinks),
		"sinks_started", len(next.fresh), "sinks_kept", len(next.sinks)-len(next.fresh))
	return nil
}

// ErrPartlyApplied is in the error of a reload whose routes and sinks took effect but whose
// listeners could not be moved as the new config says.
var ErrPartlyApplied = errors.New("config partly reloaded")

// swapPipeline puts next in old's place. Sinks old has and next does not (removed, or
// replaced by a changed successor) are stopped first, so that a successor can open the same
// spool and bind the same port; then next's new sinks start. Admissions wait meanwhile. If a
// sink fails to start, the old sinks are built again and the old pipeline restored.
func (g *Gateway) swapPipeline(ctx context.Context, old, next *pipeline) error {
	var gone []*sinks.Sink
	for _, s := range old.sinks {
		if next.byName[s.Name()] != s {
			gone = append(gone, s)
		}
	}
	g.swap.Lock()
	defer g.swap.Unlock()

	// A durable sink stops at once (what it holds stays in its spool for the successor); a
	// memory queue drains for up to shutdown_timeout, as it would at a restart.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), old.cfg.ShutdownTimeout.D())
	err := shutdownAll(sctx, gone)
	cancel()
	if err != nil {
		g.log.Warn("reload: stopping the sinks it removes or changes", "err", err)
	}
	for _, s := range gone {
		if next.byName[s.Name()] == nil {
			g.forgetSink(s.Name())
		}
	}
	var started []*sinks.Sink
	for _, s := range next.fresh {
		if err := s.Start(ctx); err != nil {
			startErr := fmt.Errorf("sink %s: %w", s.Name(), err)
			shutdownAll(context.WithoutCancel(ctx), started)    //nolint:errcheck // the start error matters more
			next.closeFresh()                                   //nolint:errcheck
			if rerr := g.restore(ctx, old, gone); rerr != nil { // the old config's sinks, again
				return errors.Join(startErr, fmt.Errorf("restoring the running config's sinks: %w", rerr))
			}
			return startErr
		}
		started = append(started, s)
	}
	g.pipe.Store(next)
	return nil
}

// restore builds and starts again the sinks of old that were stopped, and puts old's router
// back in place, rebuilt over them.
func (g *Gateway) restore(ctx context.Context, old *pipeline, stopped []*sinks.Sink) error {
	kept := &pipeline{cfg: old.cfg, byName: map[string]*sinks.Sink{}}
	for _, s := range old.sinks {
		if !slices.Contains(stopped, s) {
			kept.sinks = append(kept.sinks, s)
			kept.byName[s.Name()] = s
		}
	}
	p, err := g.buildPipeline(old.cfg, kept)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range p.fresh {
		if err := s.Start(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", s.Name(), err))
		}
	}
	g.pipe.Store(p)
	return errors.Join(errs...)
}

// forgetSink removes a removed sink's gauges, which would otherwise report its last queue
// forever.
func (g *Gateway) forgetSink(name string) {
	for _, v := range []interface{ DeleteLabelValues(...string) bool }{
		g.metrics.QueueRecords, g.metrics.QueueBytes, g.metrics.SpoolBytes,
		g.metrics.QueueOldestAge, g.metrics.QueueCapacityBytes,
	} {
		v.DeleteLabelValues(name)
	}
}

// sameListeners reports whether two ingest configs differ at most in their credential files,
// which UpdateCredentials changes without binding again.
func sameListeners(a, b config.Ingest) bool {
	if a.TLS() != b.TLS() {
		return false
	}
	a.TLSCertFile, a.TLSKeyFile, a.ClientCAFile, a.BearerTokenFile = "", "", "", ""
	b.TLSCertFile, b.TLSKeyFile, b.ClientCAFile, b.BearerTokenFile = "", "", "", ""
	return reflect.DeepEqual(a, b)
}

// rebindIngest replaces the OTLP listeners with next. When next binds addresses the running
// server does not hold, it starts first and clients never find the port closed; when it binds
// the same addresses (other settings changed), the old server stops first, and if next cannot
// bind, a server with the old settings is started again.
func (g *Gateway) rebindIngest(ctx context.Context, next *ingest.Server, newCfg config.Ingest) error {
	old := g.ingest
	oldCfg := g.cfg.Ingest
	shared := (oldCfg.GRPCListen != "" && oldCfg.GRPCListen == newCfg.GRPCListen) ||
		(oldCfg.HTTPListen != "" && oldCfg.HTTPListen == newCfg.HTTPListen)
	if !shared {
		if err := next.Start(ctx); err != nil {
			return err
		}
		g.ingest = next
		return g.stopIngest(ctx, old)
	}
	if err := g.stopIngest(ctx, old); err != nil {
		g.log.Warn("reload: stopping the otlp listeners", "err", err)
	}
	if err := next.Start(ctx); err != nil {
		again, aerr := ingest.New(oldCfg, g, g.metrics, g.log)
		if aerr == nil {
			aerr = again.Start(ctx)
		}
		if aerr != nil {
			return errors.Join(err, fmt.Errorf("the old listeners could not be started again either: %w", aerr))
		}
		g.ingest = again
		return err
	}
	g.ingest = next
	return nil
}

// stopIngest lets the running server's requests in flight finish, within shutdown_timeout.
func (g *Gateway) stopIngest(ctx context.Context, s *ingest.Server) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.ShutdownTimeout.D())
	defer cancel()
	return s.Shutdown(sctx)
}

// rebindAdmin moves the admin listener to addr ("" turns it off): the new one starts before
// the old one stops.
func (g *Gateway) rebindAdmin(ctx context.Context, addr string) error {
	var next *admin.Server
	if addr != "" {
		next = admin.NewServer(addr, g.reg, g.Ready, g.log)
		if err := next.Start(ctx); err != nil {
			return err
		}
	}
	old := g.admin
	g.admin = next
	if old == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.ShutdownTimeout.D())
	defer cancel()
	return old.Shutdown(sctx)
}
