package gateway

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sync"

	"claude-otel-gw/config"
	"claude-otel-gw/redact"
	"claude-otel-gw/route"
	"claude-otel-gw/sinks"
)

// pipeline is what a config makes of routes and sinks: the part of the gateway a reload
// replaces.
type pipeline struct {
	cfg    *config.Config
	sinks  []*sinks.Sink // every sink, sorted by name
	byName map[string]*sinks.Sink
	// fresh are the sinks this pipeline built (not taken over from the one before it): the
	// ones to start, or to close if it is never used.
	fresh  []*sinks.Sink
	router *route.Router
}

// buildPipeline builds cfg's redaction profiles, sinks and router without starting anything.
// A sink of prev whose config is unchanged is taken over as it is, queue, spool and all.
func (g *Gateway) buildPipeline(cfg *config.Config, prev *pipeline) (*pipeline, error) {
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
	p := &pipeline{cfg: cfg, byName: map[string]*sinks.Sink{}}
	targets := map[string]route.Target{}
	for _, name := range sortedKeys(cfg.Sinks) {
		sc := cfg.Sinks[name]
		s := prev.unchanged(name, cfg)
		if s == nil {
			w, err := newWriter(name, sc, g.metrics, g.log, g.info)
			if err != nil {
				errs = append(errs, cfg.Errorf("sink."+name, "%v", err))
				continue
			}
			s = sinks.New(w, sinks.Options{
				Name: name, Queue: sc.Queue, Batch: sc.Batch, Retry: sc.Retry,
				SpoolDir:      filepath.Join(cfg.State.Dir, "spool", name),
				DeadLetterDir: filepath.Join(cfg.State.Dir, "deadletter", name),
				Signals:       config.SinkSignals(sc.Type),
				Metrics:       g.metrics, Logger: g.log,
			})
			p.fresh = append(p.fresh, s)
		}
		p.sinks = append(p.sinks, s)
		p.byName[name] = s
		targets[name] = s
	}
	if len(errs) > 0 {
		p.closeFresh()
		return nil, errors.Join(errs...)
	}
	var err error
	if p.router, err = route.New(cfg.Routes, profiles, targets, g.metrics, g.log); err != nil {
		p.closeFresh()
		return nil, err
	}
	return p, nil
}

// unchanged returns p's sink called name if cfg configures it exactly as p's config did (its
// state folder included), else nil. p may be nil.
func (p *pipeline) unchanged(name string, cfg *config.Config) *sinks.Sink {
	if p == nil || p.byName[name] == nil || p.cfg.State.Dir != cfg.State.Dir {
		return nil
	}
	if !reflect.DeepEqual(p.cfg.Sinks[name], cfg.Sinks[name]) {
		return nil
	}
	return p.byName[name]
}

// closeFresh releases the sinks p built, for a pipeline that will not run. Shutdown before
// Start closes a writer without starting anything.
func (p *pipeline) closeFresh() error {
	return shutdownAll(context.Background(), p.fresh)
}

// shutdownAll stops sinks in parallel within ctx.
func shutdownAll(ctx context.Context, ss []*sinks.Sink) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ss))
	for i, s := range ss {
		wg.Go(func() { errs[i] = s.Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
