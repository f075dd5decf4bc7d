package cloudmonitoring

import (
	"slices"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// label is one metric label of a written series.
type label struct{ key, value string }

// serviceName is the resource attribute that always gets a label when the resource has it:
// it tells Claude Code's series from those of anything else sending through the gateway.
const serviceName = "service.name"

// maxCachedKeys bounds the cache of sanitised attribute keys; keys beyond it are sanitised
// each time.
const maxCachedKeys = 4096

// labeler picks the labels of data points. It is not safe for concurrent use: its scratch
// space is reused from point to point.
type labeler struct {
	drop     map[string]bool // attribute keys, and the label keys they become, left out
	keys     map[string]string
	sorted   []*commonpb.KeyValue
	out      []label
	excess   int    // points that had more labels than fit, since the last report
	excessOf string // a metric they belonged to, for the log
}

func newLabeler(drop []string) *labeler {
	l := &labeler{drop: map[string]bool{}, keys: map[string]string{}}
	for _, k := range drop {
		l.drop[k] = true
		if lk := labelKey(k); lk != "" {
			l.drop[lk] = true
		}
	}
	return l
}

// key returns the label an attribute key becomes, "" if it has none or is dropped.
func (l *labeler) key(attr string) string {
	lk, ok := l.keys[attr]
	if !ok {
		lk = labelKey(attr)
		if l.drop[attr] || l.drop[lk] {
			lk = ""
		}
		if len(l.keys) < maxCachedKeys {
			l.keys[attr] = lk
		}
	}
	return lk
}

// resourceLabels are the labels a resource offers its points, in the order they are taken.
type resourceLabels struct {
	labels  []label
	service bool // the first label is service.name's
}

// resource picks a resource's candidate labels: service.name first, then the others by
// attribute key. Of two attributes that become one label, the first in that order wins.
func (l *labeler) resource(attrs []*commonpb.KeyValue) resourceLabels {
	var r resourceLabels
	for _, kv := range l.sortedAttrs(attrs) {
		lk := l.key(kv.GetKey())
		if lk == "" || has(r.labels, lk) {
			continue
		}
		v, ok := labelValue(kv.GetValue())
		if !ok {
			continue
		}
		if kv.GetKey() == serviceName {
			r.labels = slices.Insert(r.labels, 0, label{key: lk, value: v})
			r.service = true
			continue
		}
		r.labels = append(r.labels, label{key: lk, value: v})
	}
	l.release()
	return r
}

// point picks the labels of a data point, sorted by key, in scratch space valid until the
// next call: the point's attributes by key first, then the resource's, at most 30 in all,
// with a place kept for service.name. Of two attributes that become one label, the first
// wins; the point's copy of an attribute wins over the resource's, being the more specific.
func (l *labeler) point(attrs []*commonpb.KeyValue, res *resourceLabels, metric string) []label {
	out := l.out[:0]
	room := maxLabels
	if res.service && !hasAttr(attrs, serviceName) {
		room--
	}
	over := false
	for _, kv := range l.sortedAttrs(attrs) {
		lk := l.key(kv.GetKey())
		if lk == "" || has(out, lk) {
			continue
		}
		v, ok := labelValue(kv.GetValue())
		if !ok {
			continue
		}
		if len(out) >= room {
			over = true
			continue
		}
		out = append(out, label{key: lk, value: v})
	}
	l.release()
	for _, rl := range res.labels {
		if has(out, rl.key) {
			continue
		}
		if len(out) >= maxLabels {
			over = true
			continue
		}
		out = append(out, rl)
	}
	if over {
		l.excess++
		l.excessOf = metric
	}
	slices.SortFunc(out, func(a, b label) int { return strings.Compare(a.key, b.key) })
	l.out = out
	return out
}

// sortedAttrs returns attrs sorted by key, in scratch space, so that the labels picked do not
// depend on the order a client sent them in.
func (l *labeler) sortedAttrs(attrs []*commonpb.KeyValue) []*commonpb.KeyValue {
	s := append(l.sorted[:0], attrs...)
	slices.SortStableFunc(s, func(a, b *commonpb.KeyValue) int { return strings.Compare(a.GetKey(), b.GetKey()) })
	l.sorted = s
	return s
}

// release lets go of the request's attributes held in the scratch space.
func (l *labeler) release() {
	clear(l.sorted)
	l.sorted = l.sorted[:0]
}

func has(labels []label, key string) bool {
	for _, l := range labels {
		if l.key == key {
			return true
		}
	}
	return false
}

func hasAttr(attrs []*commonpb.KeyValue, key string) bool {
	for _, kv := range attrs {
		if kv.GetKey() == key {
			return true
		}
	}
	return false
}
