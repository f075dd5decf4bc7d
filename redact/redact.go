// Package redact removes personal data and secrets from OTLP telemetry before it is sent on.
// A Profile, compiled once from a [redaction.<name>] section of the config, finds values with
// built-in detectors (email addresses, phone, card and social security numbers, IP addresses,
// keys and tokens, credentials) and custom patterns, and replaces each with a mask
// ("[REDACTED:email]") or a keyed hash tag ("[email:3f5a0c9e1b2d]"). Redact applies a profile to
// a whole export request, copy-on-write; String applies it to one piece of text.
//
// How it finds things: one pass over each string with a prefilter, an Aho-Corasick automaton
// that stops only where a detector could match (literal prefixes such as "AKIA" or "ghp_", the
// custom patterns' literal prefixes, '@', the shapes that card, phone and social security
// numbers and IP addresses start with, a ':' or '=' after a key that may name a secret);
// detectors then confirm around that spot with hand-written parsers and validators (Luhn, SSN
// ranges, net/netip), and custom patterns run only on strings that hold their prefix. A string
// with nothing to find costs that one pass and no allocation.
//
// It is not for deciding which records go where (routing does that), nor for reporting config
// errors with positions (the config loader does that; Compile only refuses what it cannot
// run). And it finds the shapes it knows: a secret in a shape no detector or pattern describes
// passes through.
package redact

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/telemetry"
)

// ErrIncomplete is wrapped by every error Redact returns: redaction could not finish, and the
// request must not be sent anywhere redacted data is due.
var ErrIncomplete = errors.New("redaction incomplete")

// Profile is a compiled redaction profile. It is immutable, and safe for concurrent use by any
// number of goroutines.
type Profile struct {
	name   string
	on     [numBuiltin]bool
	custom []customPattern
	pf     *prefilter

	names []string // detector names by id: built-ins, custom patterns, the key rule, the drop rule
	masks []string // "[REDACTED:<name>]" by id
	hash  *hasher  // nil: mask

	keyID, dropID detID
	dropKeys      map[string]bool
	maskKeys      map[string]bool
	keyMask       *commonpb.AnyValue // the value of every masked key, shared (it is read-only)

	counters []prometheus.Counter // by id; nil without metrics, or for a detector not run
}

// Compile builds a profile once; it is then safe for concurrent use by many goroutines. A nil
// cfg is the default profile: every detector, mask. m may be nil.
//
// Detectors left out (nil) means all of them; an empty list means none, for a profile that
// only drops or masks keys.
func Compile(name string, cfg *config.Redaction, m *admin.Metrics) (*Profile, error) {
	if cfg == nil {
		cfg = &config.Redaction{}
	}
	p := &Profile{name: name}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("redaction profile %q: "+format, append([]any{name}, args...)...))
	}

	if cfg.Detectors == nil {
		for i := range p.on {
			p.on[i] = true
		}
	}
	for _, d := range cfg.Detectors {
		i := slices.Index(builtinNames[:], d)
		if i < 0 {
			fail("unknown detector %q (known: %s)", d, strings.Join(builtinNames[:], ", "))
			continue
		}
		p.on[i] = true
	}

	p.names = append(p.names, builtinNames[:]...)
	for i, pat := range cfg.Patterns {
		if pat == nil {
			continue
		}
		switch {
		case !validPatternName(pat.Name):
			fail("pattern %d: name %q must be 1 to 64 letters, digits, underscores or hyphens", i+1, pat.Name)
			continue
		case slices.Contains(p.names, pat.Name) || pat.Name == keyRuleName || pat.Name == dropRuleName || pat.Name == "REDACTED":
			fail("pattern %q: the name is already taken", pat.Name)
			continue
		}
		re, err := regexp.Compile(pat.Regex)
		if err != nil {
			fail("pattern %q: %w", pat.Name, err)
			continue
		}
		if re.MatchString("") {
			fail("pattern %q: regex %q matches empty text", pat.Name, pat.Regex)
			continue
		}
		p.custom = append(p.custom, newCustomPattern(detID(len(p.names)), re, len(p.custom)))
		p.names = append(p.names, pat.Name)
	}
	p.keyID = detID(len(p.names))
	p.dropID = p.keyID + 1
	p.names = append(p.names, keyRuleName, dropRuleName)

	switch cfg.Action {
	case "", "mask":
	case "hash":
		key, err := readHashKey(cfg.HashKeyFile)
		if err != nil {
			fail("%w", err)
			break
		}
		p.hash = newHasher(key)
	default:
		fail("unknown action %q (want \"mask\" or \"hash\")", cfg.Action)
	}

	p.dropKeys = keySet(cfg.DropKeys)
	p.maskKeys = keySet(cfg.MaskKeys)
	for _, k := range cfg.DropKeys {
		if k == "" {
			fail("drop_keys: an empty key")
		}
	}
	for _, k := range cfg.MaskKeys {
		if k == "" {
			fail("mask_keys: an empty key")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	p.masks = make([]string, len(p.names))
	for i, n := range p.names {
		p.masks[i] = "[REDACTED:" + n + "]"
	}
	p.keyMask = &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: p.masks[p.keyID]}}
	var err error
	if p.pf, err = newPrefilter(&p.on, p.custom); err != nil {
		return nil, fmt.Errorf("redaction profile %q: %w", name, err)
	}
	if m != nil {
		p.counters = make([]prometheus.Counter, len(p.names))
		for i, n := range p.names {
			if i < int(numBuiltin) && !p.on[i] {
				continue
			}
			p.counters[i] = m.Redactions.WithLabelValues(name, n)
		}
	}
	return p, nil
}

func validPatternName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isWord(n[i]) && n[i] != '-' {
			return false
		}
	}
	return true
}

// readHashKey reads the HMAC key: the file's bytes, less one trailing newline (files written by
// echo or an editor end with one; the key should not depend on that).
func readHashKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("action \"hash\" needs hash_key_file")
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hash_key_file: %w", err)
	}
	if k, ok := bytes.CutSuffix(key, []byte("\n")); ok {
		key, _ = bytes.CutSuffix(k, []byte("\r"))
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("hash_key_file %s: the key is empty", path)
	}
	return key, nil
}

func keySet(keys []string) map[string]bool {
	if len(keys) == 0 {
		return nil
	}
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// Name returns the profile's name, as written in the config.
func (p *Profile) Name() string { return p.name }

// failedText is what String returns when redaction fails: nothing of the input, since
// nothing of it is known to be safe.
const failedText = "[REDACTED:unredactable]"

// String redacts one piece of text (used by `claude-otel-gw --redact`, a dry run on stdin).
func (p *Profile) String(s string) (out string) {
	defer func() {
		if recover() != nil {
			out = failedText
		}
	}()
	var t tally
	out, _ = p.text(s, &t)
	p.flush(&t)
	return out
}

// Redact returns r with every string value redacted, copy-on-write: r and everything it points
// to are never modified (they are shared read-only with other routes and sinks); the result
// shares every unchanged subtree with r, and is r itself (no allocation beyond the walk) when
// nothing needed changing. An error means redaction could not finish (fail closed): the caller
// must not send r anywhere redacted data is due.
//
// Every string value is covered: resource, scope, record, data point and exemplar attributes
// and metric metadata, log bodies (maps and arrays too), log event names, span names, span
// event names and attributes, link attributes and status messages. Ids and other fields that
// are not text (trace and span ids, times, schema URLs, scope names and versions, metric names,
// units and descriptions, trace state) stay as they are, and so do the values of attributes
// that hold ids (session.id, prompt.id, ...) when they look like one.
func (p *Profile) Redact(r telemetry.Request) (out telemetry.Request, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = telemetry.Request{}, fmt.Errorf("redaction profile %q: %w: %v", p.name, ErrIncomplete, v)
		}
	}()
	w := walker{p: p}
	out = r
	if r.Logs != nil {
		out.Logs = w.logs(r.Logs)
	}
	if r.Metrics != nil {
		out.Metrics = w.metrics(r.Metrics)
	}
	if r.Traces != nil {
		out.Traces = w.traces(r.Traces)
	}
	if w.err != nil {
		return telemetry.Request{}, fmt.Errorf("redaction profile %q: %w: %w", p.name, ErrIncomplete, w.err)
	}
	p.flush(&w.t)
	return out, nil
}

// tally counts what one call replaced, so the shared counters are touched once per call and
// detector rather than once per value.
type tally struct {
	n   [48]uint32
	any bool
}

func (t *tally) add(p *Profile, id detID) {
	if int(id) < len(t.n) {
		t.n[id]++
		t.any = true
	} else if p.counters != nil && p.counters[id] != nil {
		p.counters[id].Inc()
	}
}

func (p *Profile) flush(t *tally) {
	if !t.any || p.counters == nil {
		return
	}
	for id, n := range t.n[:min(len(t.n), len(p.counters))] {
		if n > 0 && p.counters[id] != nil {
			p.counters[id].Add(float64(n))
		}
	}
}
