// Package route decides, record by record, which sinks get what: it applies each [[route]]'s
// signal, name, attribute and drop rules, makes one copy of the request per redaction profile
// (shared read-only by every sink of that profile), and hands each sink its part with all-or-
// nothing admission, so a request is acknowledged only when every sink it goes to has taken it.
//
// It is not for decoding (ingest), for finding secrets (redact), or for delivery (sinks).
package route

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/logevery"
	"claude-otel-gw/telemetry"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
)

// Target is a sink as the router sees it: a queue with two-phase admission. Reserve makes room
// for size bytes or refuses (a *telemetry.ThrottledError when full); Unreserve gives the room
// back; Put hands over a request using room reserved before. The request passed to Put is
// read-only and may be shared with other targets.
type Target interface {
	Name() string
	Reserve(size int) error
	Unreserve(size int)
	Put(ctx context.Context, r telemetry.Request, size int) error
}

// Redactor is a compiled redaction profile. Redact must not modify r; it returns r itself or a
// copy, or an error when it could not finish (the router then fails closed).
type Redactor interface {
	Redact(r telemetry.Request) (telemetry.Request, error)
}

// Router routes requests. It is safe for concurrent use.
type Router struct {
	routes   []*route
	profiles []*profile // distinct redaction profiles in use, "none" included, in config order
	log      *slog.Logger

	// dropped[signal][reason] are resolved metric children.
	dropped map[telemetry.Signal]map[string]prometheus.Counter
}

type route struct {
	name    string
	signals [4]bool // indexed by telemetry.Signal
	names   []glob
	match   []matchKV
	drop    []dropRule
	prof    *profile
	targets [4][]int // by signal: indexes into prof.targets of the sinks that take it
	routed  [4]prometheus.Counter
	// selectsAll is true when the route takes every record of its signals.
	selectsAll bool
}

type matchKV struct{ key, text string }

// profile groups the routes and targets that share one redaction profile.
type profile struct {
	index    int // in Router.profiles
	name     string
	redactor Redactor // nil for "none"
	targets  []Target
	failLog  logevery.Limiter
}

// Drop reasons.
const (
	reasonNoRoute         = "no_route"  // no route selected the record
	reasonDropRule        = "drop_rule" // a route would have taken it but a drop rule left it out
	reasonRedactionFailed = "redaction_failed"
)

// New compiles the routes. profiles holds every redaction profile by name (routes with
// redaction = "none" need none); targets every sink by name. A route naming a missing profile or
// sink is an error (the config loader reports these with positions first).
func New(routes []*config.Route, profiles map[string]Redactor, targets map[string]Target, m *admin.Metrics, log *slog.Logger) (*Router, error) {
	r := &Router{log: log, dropped: map[telemetry.Signal]map[string]prometheus.Counter{}}
	for _, s := range telemetry.Signals {
		r.dropped[s] = map[string]prometheus.Counter{}
		for _, reason := range []string{reasonNoRoute, reasonDropRule, reasonRedactionFailed} {
			r.dropped[s][reason] = m.DroppedRecords.WithLabelValues("", s.String(), reason)
		}
	}
	byProfile := map[string]*profile{}
	for _, rc := range routes {
		pname := rc.Redaction
		if pname == "" {
			pname = config.DefaultProfile
		}
		p := byProfile[pname]
		if p == nil {
			p = &profile{index: len(r.profiles), name: pname, failLog: logevery.Limiter{Every: time.Minute}}
			if pname != config.NoRedaction {
				red, ok := profiles[pname]
				if !ok || red == nil {
					return nil, fmt.Errorf("route %q: redaction profile %q is not defined", rc.Name, pname)
				}
				p.redactor = red
			}
			byProfile[pname] = p
			r.profiles = append(r.profiles, p)
		}
		rt := &route{name: rc.Name, prof: p}
		if len(rc.Signals) == 0 {
			rt.signals = [4]bool{false, true, true, true}
		}
		for _, s := range rc.Signals {
			sig, ok := telemetry.ParseSignal(s)
			if !ok {
				return nil, fmt.Errorf("route %q: unknown signal %q", rc.Name, s)
			}
			rt.signals[sig] = true
		}
		for _, n := range rc.Names {
			rt.names = append(rt.names, compileGlob(n))
		}
		for k, v := range rc.Match {
			rt.match = append(rt.match, matchKV{k, v.Text})
		}
		for _, d := range rc.Drop {
			rt.drop = append(rt.drop, compileDrop(d))
		}
		rt.selectsAll = len(rt.names) == 0 && len(rt.match) == 0 && len(rt.drop) == 0
		for _, sn := range rc.Sinks {
			t, ok := targets[sn]
			if !ok || t == nil {
				return nil, fmt.Errorf("route %q: sink %q is not defined", rc.Name, sn)
			}
			ti := p.targetIndex(t)
			for _, s := range telemetry.Signals {
				if rt.signals[s] && takes(t, s) {
					rt.targets[s] = append(rt.targets[s], ti)
				}
			}
		}
		// A signal none of the route's sinks takes (metrics, for a route to Cloud Logging
		// alone) is not the route's: its records are left to other routes.
		for _, s := range telemetry.Signals {
			rt.signals[s] = rt.signals[s] && len(rt.targets[s]) > 0
		}
		for _, s := range telemetry.Signals {
			rt.routed[s] = m.RoutedRecords.WithLabelValues(rc.Name, s.String())
		}
		r.routes = append(r.routes, rt)
	}
	return r, nil
}

// SignalTaker is implemented by a Target that takes only some signals (a Cloud Trace sink takes
// traces); a Target without it takes all three.
type SignalTaker interface {
	Takes(telemetry.Signal) bool
}

func takes(t Target, s telemetry.Signal) bool {
	st, ok := t.(SignalTaker)
	return !ok || st.Takes(s)
}

func (p *profile) targetIndex(t Target) int {
	for i, have := range p.targets {
		if have == t {
			return i
		}
	}
	p.targets = append(p.targets, t)
	return len(p.targets) - 1
}

// delivery is one request bound for one target.
type delivery struct {
	target Target
	req    telemetry.Request
	size   int
}

// Consume routes one request. It returns nil once every sink the request's records go to has
// accepted its part, or the first refusal, in which case no sink keeps any part. req is never
// modified.
func (r *Router) Consume(ctx context.Context, req telemetry.Request) error {
	sig := req.Signal()
	n := req.Records()
	if n == 0 {
		return nil
	}
	sel := r.selectRecords(req, sig, n)

	var deliveries []delivery
	unredactable := 0
	for pi, p := range r.profiles {
		ps := sel.profiles[pi]
		if ps == nil {
			continue
		}
		view := req
		if !ps.all.equal(sel.full) {
			view = filter(req, ps.all)
		}
		redacted := view
		if p.redactor != nil {
			var err error
			redacted, err = p.redactor.Redact(view)
			if err != nil {
				unredactable += ps.all.count()
				r.redactionFailed(p, sig, ps.all.count(), err)
				continue
			}
		}
		for ti, ts := range ps.targets {
			if ts == nil {
				continue
			}
			part := redacted
			if !ts.equal(ps.all) {
				part = filter(redacted, ps.all.rank(ts))
			}
			deliveries = append(deliveries, delivery{target: p.targets[ti], req: part, size: proto.Size(part.Message())})
		}
	}
	if err := admit(ctx, deliveries); err != nil {
		return err
	}
	// Counted once the request is accepted: a refused one comes back and would count twice.
	r.count(sig, reasonDropRule, sel.droppedByRule)
	r.count(sig, reasonNoRoute, sel.noRoute)
	r.count(sig, reasonRedactionFailed, unredactable)
	for i, rt := range r.routes {
		if c := sel.routed[i]; c > 0 {
			rt.routed[sig].Add(float64(c))
		}
	}
	return nil
}

// admit gives every delivery to its target, or none of them.
func admit(ctx context.Context, ds []delivery) error {
	for i, d := range ds {
		if err := d.target.Reserve(d.size); err != nil {
			for _, done := range ds[:i] {
				done.target.Unreserve(done.size)
			}
			return err
		}
	}
	// Puts run side by side: a durable sink's Put waits for its spool's fsync, and one request's
	// fsyncs on several spools need not queue behind each other.
	errs := make([]error, len(ds))
	if len(ds) == 1 {
		errs[0] = ds[0].target.Put(ctx, ds[0].req, ds[0].size)
	} else {
		var wg sync.WaitGroup
		for i, d := range ds {
			wg.Go(func() { errs[i] = d.target.Put(ctx, d.req, d.size) })
		}
		wg.Wait()
	}
	// Room was reserved, so Put fails only if the sink broke in between (a spool write error,
	// a disk that filled up). Other sinks keep their part; the client retries and may duplicate
	// it there, which at-least-once delivery allows.
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("sink %s: %w", ds[i].target.Name(), err)
		}
	}
	return nil
}

func (r *Router) count(sig telemetry.Signal, reason string, records int) {
	if records > 0 {
		r.dropped[sig][reason].Add(float64(records))
	}
}

// redactionFailed logs, at most once a minute per profile, that a profile could not redact.
func (r *Router) redactionFailed(p *profile, sig telemetry.Signal, records int, err error) {
	if ok, suppressed := p.failLog.Allow(time.Now()); ok {
		r.log.Error("redaction failed; the records were withheld from this profile's sinks",
			"profile", p.name, "signal", sig.String(), "records", records, "err", err, "earlier_failures_not_logged", suppressed)
	}
}
