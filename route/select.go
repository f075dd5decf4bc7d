package route

import (
	"claude-otel-gw/telemetry"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

// selection is where each record of one request goes.
type selection struct {
	full     bitset
	profiles []*profileSelection // like Router.profiles; nil where no record goes
	routed   []int               // records taken, by route index
	// Records no route takes: left out by a drop rule, or matched by no route at all.
	droppedByRule, noRoute int
}

type profileSelection struct {
	all     bitset   // records that go through this profile
	targets []bitset // like profile.targets; nil where no record goes
}

func (r *Router) selectRecords(req telemetry.Request, sig telemetry.Signal, n int) selection {
	s := selection{full: newBitset(n), profiles: make([]*profileSelection, len(r.profiles)), routed: make([]int, len(r.routes))}
	for i := range n {
		s.full.set(i)
	}
	anyRoute := newBitset(n)
	var ruleDropped bitset
	for ri, rt := range r.routes {
		if !rt.signals[sig] {
			continue
		}
		chosen := s.full
		if !rt.selectsAll {
			chosen = newBitset(n)
			eachRecord(req, func(i int, name recordName, a attrs) {
				if len(rt.names) > 0 && !name.matches(rt.names) {
					return
				}
				for _, m := range rt.match {
					if v := a.get(m.key); v == nil || !equals(v, m.text) {
						return
					}
				}
				for d := range rt.drop {
					if rt.drop[d].match(name, a) {
						if ruleDropped == nil {
							ruleDropped = newBitset(n)
						}
						ruleDropped.set(i)
						return
					}
				}
				chosen.set(i)
			})
		}
		c := chosen.count()
		if c == 0 {
			continue
		}
		s.routed[ri] = c
		anyRoute.or(chosen)
		ps := s.profiles[rt.prof.index]
		if ps == nil {
			ps = &profileSelection{all: newBitset(n), targets: make([]bitset, len(rt.prof.targets))}
			s.profiles[rt.prof.index] = ps
		}
		ps.all.or(chosen)
		for _, ti := range rt.targets[sig] {
			if ps.targets[ti] == nil {
				ps.targets[ti] = newBitset(n)
			}
			ps.targets[ti].or(chosen)
		}
	}
	if left := n - anyRoute.count(); left > 0 {
		byRule := 0
		for i := range ruleDropped.len() {
			if ruleDropped.has(i) && !anyRoute.has(i) {
				byRule++
			}
		}
		s.droppedByRule, s.noRoute = byRule, left-byRule
	}
	return s
}

// eachRecord calls fn for every record of req in walk order, with its index, its name and
// where its attributes are.
func eachRecord(req telemetry.Request, fn func(i int, name recordName, a attrs)) {
	i := 0
	switch {
	case req.Logs != nil:
		for _, rl := range req.Logs.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					fn(i, logName(lr), attrs{lr.Attributes, sl.Scope.GetAttributes(), rl.Resource.GetAttributes()})
					i++
				}
			}
		}
	case req.Traces != nil:
		for _, rs := range req.Traces.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					fn(i, recordName{name: sp.Name}, attrs{sp.Attributes, ss.Scope.GetAttributes(), rs.Resource.GetAttributes()})
					i++
				}
			}
		}
	case req.Metrics != nil:
		for _, rm := range req.Metrics.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				scope, res := sm.Scope.GetAttributes(), rm.Resource.GetAttributes()
				for _, m := range sm.Metrics {
					name := recordName{name: m.Name}
					eachPointAttrs(m, func(pa []*commonpb.KeyValue) {
						fn(i, name, attrs{pa, scope, res})
						i++
					})
				}
			}
		}
	}
}

func eachPointAttrs(m *metricspb.Metric, fn func([]*commonpb.KeyValue)) {
	switch d := m.Data.(type) {
	case *metricspb.Metric_Gauge:
		for _, p := range d.Gauge.GetDataPoints() {
			fn(p.Attributes)
		}
	case *metricspb.Metric_Sum:
		for _, p := range d.Sum.GetDataPoints() {
			fn(p.Attributes)
		}
	case *metricspb.Metric_Histogram:
		for _, p := range d.Histogram.GetDataPoints() {
			fn(p.Attributes)
		}
	case *metricspb.Metric_ExponentialHistogram:
		for _, p := range d.ExponentialHistogram.GetDataPoints() {
			fn(p.Attributes)
		}
	case *metricspb.Metric_Summary:
		for _, p := range d.Summary.GetDataPoints() {
			fn(p.Attributes)
		}
	}
}
