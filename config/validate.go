package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"path"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"claude-otel-gw/telemetry"
)

// checker finds every problem a decoded config has beyond types: ranges, names, references
// between tables, files that must exist.
type checker struct {
	c      *Config
	failed map[string]bool
	open   map[string][]string
	// asWritten holds path-like values as written, before ~ and the config's folder were
	// applied, so that messages show what the user wrote.
	asWritten map[string]string
	errs      Errors
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

const nameRule = "want a lower-case letter, then lower-case letters, digits, _ or -"

// bad reports whether key, or a table holding it, could not be decoded: its problem is
// already reported.
func (v *checker) bad(key string) bool {
	for k := key; k != ""; k = parentPath(k) {
		if v.failed[k] {
			return true
		}
	}
	return false
}

func (v *checker) report(key string, at Position, format string, args ...any) {
	if v.bad(key) {
		return
	}
	v.errs = append(v.errs, newError(v.c.Source, at, key, fmt.Sprintf(format, args...)))
}

// errf reports a problem with key's value.
func (v *checker) errf(key string, format string, args ...any) {
	v.report(key, v.c.pos.at(key), format, args...)
}

// errElem reports a problem with element i of the list at key.
func (v *checker) errElem(key string, i int, format string, args ...any) {
	v.report(key, v.c.pos.at(indexKey(key, i)), format, args...)
}

// errKey reports a problem with the key itself, such as its name.
func (v *checker) errKey(key string, format string, args ...any) {
	v.report(key, v.c.pos.keyAt(key), format, args...)
}

// missing reports a required key that was not written, at the header of its table.
func (v *checker) missing(key, why string) {
	v.report(key, v.c.pos.at(parentPath(key)), "required key is missing%s", why)
}

// validate runs every check on a decoded config with its defaults applied.
func validate(c *Config, failed map[string]bool, open map[string][]string, asWritten map[string]string) Errors {
	v := &checker{c: c, failed: failed, open: open, asWritten: asWritten}
	if c.ShutdownTimeout <= 0 {
		v.errf("shutdown_timeout", "must be greater than 0 (%s)", c.ShutdownTimeout)
	}
	v.listeners()
	v.ingest()
	if c.State.Dir == "" {
		v.errf("state.dir", "not set, and there is no platform default (set HOME or XDG_STATE_HOME)")
	}
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	for _, name := range slices.Sorted(maps.Keys(c.Redaction)) {
		v.profile(name, c.Redaction[name])
	}
	v.routes()
	for _, name := range slices.Sorted(maps.Keys(c.Sinks)) {
		v.sink(name, c.Sinks[name])
	}
	return v.errs
}

func (v *checker) oneOf(key, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		v.errf(key, "want %s (%s)", orList(allowed), quoteString(got))
	}
}

// orList writes "a, b or c".
func orList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// listener is one listen address, turned on.
type listener struct {
	key, addr string
	host      string
	port      uint64
}

func (v *checker) listeners() {
	c := v.c
	var on []listener
	all := []struct {
		key, addr string
		tls       bool
	}{
		{"ingest.grpc_listen", c.Ingest.GRPCListen, c.Ingest.TLS()},
		{"ingest.http_listen", c.Ingest.HTTPListen, c.Ingest.TLS()},
		{"admin.listen", c.Admin.Listen, false},
	}
	for _, name := range slices.Sorted(maps.Keys(c.Sinks)) {
		if s := c.Sinks[name]; s.Type == "prometheus" {
			all = append(all, struct {
				key, addr string
				tls       bool
			}{joinKey("sink", name) + ".listen", s.Listen, false})
		}
	}
	for _, l := range all {
		if l.addr == "" {
			continue // turned off
		}
		host, port, err := net.SplitHostPort(l.addr)
		if err != nil {
			v.errf(l.key, "not a host:port address (%s)", quoteString(l.addr))
			continue
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			v.errf(l.key, "not a port number 0-65535 (%s)", quoteString(l.addr))
			continue
		}
		if !isLoopback(host) && !l.tls && !c.Ingest.AllowInsecureRemote {
			if strings.HasPrefix(l.key, "ingest.") {
				v.errf(l.key, "not a loopback address: telemetry would cross the network unencrypted; set ingest.tls_cert_file and tls_key_file, or ingest.allow_insecure_remote = true to allow it (%s)", quoteString(l.addr))
			} else {
				v.errf(l.key, "not a loopback address: this listener has no TLS; set ingest.allow_insecure_remote = true to allow it (%s)", quoteString(l.addr))
			}
		}
		if ip := net.ParseIP(host); ip != nil {
			host = ip.String()
		}
		cur := listener{key: l.key, addr: l.addr, host: strings.ToLower(host), port: p}
		for _, prev := range on {
			// Port 0 picks a free port each time, so two of them never collide.
			if cur.port != 0 && cur.port == prev.port && cur.host == prev.host {
				v.errf(l.key, "same address as %s (%s)", prev.key, quoteString(l.addr))
			}
		}
		on = append(on, cur)
	}
}

// IsLoopbackHost reports whether host (a name or an address, without a port) is localhost or
// a loopback address: the only place a listener without TLS, or a Google sink with insecure,
// may point at.
func IsLoopbackHost(host string) bool { return isLoopback(host) }

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *checker) ingest() {
	in := v.c.Ingest
	if in.MaxRequestBytes < 1 || in.MaxRequestBytes > 1<<30 {
		v.errf("ingest.max_request_bytes", "must be between 1 and 1GiB (%s)", in.MaxRequestBytes)
	}
	if in.MaxNestingDepth < 1 || in.MaxNestingDepth > 256 {
		v.errf("ingest.max_nesting_depth", "must be between 1 and 256 (%d)", in.MaxNestingDepth)
	}
	switch {
	case in.TLSCertFile != "" && in.TLSKeyFile == "":
		v.errf("ingest.tls_cert_file", "needs ingest.tls_key_file")
	case in.TLSCertFile == "" && in.TLSKeyFile != "":
		v.errf("ingest.tls_key_file", "needs ingest.tls_cert_file")
	}
	if in.ClientCAFile != "" && !in.TLS() {
		v.errf("ingest.client_ca_file", "needs TLS: set ingest.tls_cert_file and tls_key_file")
	}
	v.readableFile("ingest.tls_cert_file", in.TLSCertFile, false)
	v.readableFile("ingest.tls_key_file", in.TLSKeyFile, true)
	v.readableFile("ingest.client_ca_file", in.ClientCAFile, false)
	v.readableFile("ingest.bearer_token_file", in.BearerTokenFile, true)
	for _, t := range []struct {
		key string
		d   Duration
	}{
		{"ingest.read_header_timeout", in.ReadHeaderTimeout},
		{"ingest.read_timeout", in.ReadTimeout},
		{"ingest.idle_timeout", in.IdleTimeout},
	} {
		if t.d <= 0 {
			v.errf(t.key, "must be greater than 0 (%s)", t.d)
		}
	}
}

func (v *checker) profile(name string, r *Redaction) {
	key := joinKey("redaction", name)
	switch {
	case name == NoRedaction:
		v.errKey(key, `%q is reserved: a route says redaction = "none" to send records unredacted`, NoRedaction)
	case !nameRE.MatchString(name):
		v.errKey(key, "not a valid profile name (%s)", nameRule)
	}

	seen := map[string]bool{}
	for i, d := range r.Detectors {
		switch {
		case !slices.Contains(Detectors, d):
			v.errElem(key+".detectors", i, "unknown detector %s (known: %s)", quoteString(d), strings.Join(Detectors, ", "))
		case seen[d]:
			v.errElem(key+".detectors", i, "%s is listed twice", quoteString(d))
		}
		seen[d] = true
	}

	v.oneOf(key+".action", r.Action, "mask", "hash")
	if r.Action == "hash" && r.HashKeyFile == "" {
		if v.c.pos.written(key + ".hash_key_file") {
			v.errf(key+".hash_key_file", `must not be empty when action = "hash"`)
		} else {
			v.missing(key+".hash_key_file", ` (action = "hash" needs a key)`)
		}
	}
	v.readableFile(key+".hash_key_file", r.HashKeyFile, false)

	for _, list := range []struct {
		key  string
		keys []string
	}{{key + ".drop_keys", r.DropKeys}, {key + ".mask_keys", r.MaskKeys}} {
		for i, k := range list.keys {
			if k == "" {
				v.errElem(list.key, i, "an attribute key must not be empty")
			}
		}
	}

	names := map[string]int{}
	for i, p := range r.Patterns {
		pkey := indexKey(key+".pattern", i)
		v.pattern(pkey, p)
		if p.Name == "" {
			continue
		}
		if first, dup := names[p.Name]; dup {
			v.errf(pkey+".name", "already used by %s (%s)", indexKey(key+".pattern", first), quoteString(p.Name))
			continue
		}
		names[p.Name] = i
	}
}

// readableFile checks that a key, token or certificate file can be read: a missing one must
// stop the gateway from starting, not fail the first request that needs it. A private file (a
// private key, a token) open to its group or to others is refused, as ssh refuses such keys:
// whoever can read it can impersonate the gateway or its clients. "" is not checked.
func (v *checker) readableFile(key, name string, private bool) {
	if name == "" {
		return
	}
	shown := quoteString(v.writtenAs(key, name))
	info, err := os.Stat(name)
	if err != nil {
		v.errf(key, "cannot read the file: %v (%s)", pathErrReason(err), shown)
		return
	}
	if !info.Mode().IsRegular() {
		v.errf(key, "not a regular file (%s)", shown)
		return
	}
	if perm := info.Mode().Perm(); private && perm&0o077 != 0 {
		v.errf(key, "readable by others (mode %04o): a secret must be readable by its owner only; run chmod 600 on it (%s)", perm, shown)
		return
	}
	f, err := os.Open(name)
	if err != nil {
		v.errf(key, "cannot read the file: %v (%s)", pathErrReason(err), shown)
		return
	}
	defer f.Close()
	if n, err := f.Read(make([]byte, 1)); n == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			v.errf(key, "the file is empty (%s)", shown)
		} else {
			v.errf(key, "cannot read the file: %v (%s)", pathErrReason(err), shown)
		}
	}
}

// pathErrReason drops the path from an os error: the message shows the path as written.
func pathErrReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (v *checker) writtenAs(key, resolved string) string {
	if s, ok := v.asWritten[key]; ok {
		return s
	}
	return resolved
}

func (v *checker) pattern(key string, p *Pattern) {
	switch {
	case !v.c.pos.written(key + ".name"):
		v.missing(key+".name", "")
	case slices.Contains(Detectors, p.Name):
		v.errf(key+".name", "the name of a built-in detector; choose another (%s)", quoteString(p.Name))
	case p.Name == "key" || p.Name == "drop_key":
		v.errf(key+".name", "reserved: mask_keys and drop_keys are counted under it; choose another (%s)", quoteString(p.Name))
	case !nameRE.MatchString(p.Name):
		v.errf(key+".name", "not a valid pattern name (%s) (%s)", nameRule, quoteString(p.Name))
	}
	if !v.c.pos.written(key + ".regex") {
		v.missing(key+".regex", "")
		return
	}
	re, err := regexp.Compile(p.Regex)
	if err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) {
			msg = se.Code.String()
			if se.Expr != "" && se.Expr != p.Regex {
				msg += " at " + quoteString(se.Expr)
			}
		}
		v.errf(key+".regex", "does not compile: %s (%s)", msg, quoteString(p.Regex))
		return
	}
	if re.MatchString("") {
		v.errf(key+".regex", "matches the empty string (%s)", quoteString(p.Regex))
	}
}

func (v *checker) routes() {
	c := v.c
	if len(c.Routes) == 0 {
		if !v.c.pos.written("route") {
			v.report("route", Position{}, "at least one [[route]] is required")
		} else {
			v.errf("route", "at least one [[route]] is required")
		}
		return
	}
	names := map[string]int{}
	for i, r := range c.Routes {
		key := indexKey("route", i)
		switch {
		case !c.pos.written(key + ".name"):
			v.missing(key+".name", "")
		case r.Name == "":
			v.errf(key+".name", "must not be empty")
		default:
			if first, dup := names[r.Name]; dup {
				v.errf(key+".name", "already used by %s (%s)", indexKey("route", first), quoteString(r.Name))
			} else {
				names[r.Name] = i
			}
		}
		v.signals(key+".signals", r.Signals)
		for j, g := range r.Names {
			v.glob(key+".names", indexKey(key+".names", j), g)
		}
		for _, k := range slices.Sorted(maps.Keys(r.Match)) {
			if k == "" {
				v.errKey(joinKey(key+".match", k), "an attribute key must not be empty")
			}
		}
		if r.Redaction != NoRedaction && c.Redaction[r.Redaction] == nil && !v.failed["redaction"] {
			v.errf(key+".redaction", "profile %s is not defined (defined: %s, or %q)",
				quoteString(r.Redaction), strings.Join(slices.Sorted(maps.Keys(c.Redaction)), ", "), NoRedaction)
		}
		v.routeSinks(key+".sinks", r.Sinks)
		for j, d := range r.Drop {
			v.drop(indexKey(key+".drop", j), d)
		}
	}
}

func (v *checker) signals(key string, signals []string) {
	if v.c.pos.written(key) && len(signals) == 0 {
		v.errf(key, "must not be empty (leave it out to take all three)")
		return
	}
	known := make([]string, len(telemetry.Signals))
	for i, s := range telemetry.Signals {
		known[i] = s.String()
	}
	seen := map[string]bool{}
	for i, s := range signals {
		switch {
		case !slices.Contains(known, s):
			v.errElem(key, i, "unknown signal %s (known: %s)", quoteString(s), strings.Join(known, ", "))
		case seen[s]:
			v.errElem(key, i, "%s is listed twice", quoteString(s))
		}
		seen[s] = true
	}
}

// glob checks a name pattern the way the router will use it.
func (v *checker) glob(key, at, g string) {
	if g == "" {
		v.report(key, v.c.pos.at(at), "a name pattern must not be empty")
		return
	}
	if _, err := path.Match(g, ""); err != nil {
		v.report(key, v.c.pos.at(at), "not a valid glob (%s)", quoteString(g))
	}
}

func (v *checker) routeSinks(key string, sinks []string) {
	if !v.c.pos.written(key) {
		v.missing(key, "")
		return
	}
	if len(sinks) == 0 {
		v.errf(key, "must not be empty")
		return
	}
	if v.failed["sink"] {
		return // the sinks could not be read, so which are defined is not known
	}
	defined := "no sinks are defined"
	if len(v.c.Sinks) > 0 {
		defined = "defined: " + strings.Join(slices.Sorted(maps.Keys(v.c.Sinks)), ", ")
	}
	seen := map[string]bool{}
	for i, s := range sinks {
		switch {
		case v.c.Sinks[s] == nil:
			v.errElem(key, i, "sink %s is not defined (%s)", quoteString(s), defined)
		case seen[s]:
			v.errElem(key, i, "%s is listed twice", quoteString(s))
		}
		seen[s] = true
	}
}

func (v *checker) drop(key string, d *DropRule) {
	written := func(k string) bool { return v.c.pos.written(key + "." + k) }
	if !written("name") && !written("attribute") {
		v.errf(key, "a drop rule needs name or attribute")
	}
	if written("name") {
		v.glob(key+".name", key+".name", d.Name)
	}
	if written("attribute") && d.Attribute == "" {
		v.errf(key+".attribute", "must not be empty")
	}
	switch {
	case written("equals") && written("contains"):
		v.errf(key+".contains", "give equals or contains, not both")
	case written("attribute") && !written("equals") && !written("contains"):
		v.errf(key+".attribute", "needs equals or contains")
	case !written("attribute") && written("equals"):
		v.errf(key+".equals", "needs attribute")
	case !written("attribute") && written("contains"):
		v.errf(key+".contains", "needs attribute")
	}
	if written("contains") && d.Contains == "" {
		v.errf(key+".contains", "must not be empty")
	}
}

func (v *checker) sink(name string, s *Sink) {
	key := joinKey("sink", name)
	if !nameRE.MatchString(name) {
		v.errKey(key, "not a valid sink name (%s)", nameRule)
	}
	_, known := sinkKeys[s.Type]
	switch {
	case !v.c.pos.written(key + ".type"):
		v.missing(key+".type", fmt.Sprintf(" (want %s)", orList(SinkTypes)))
	case !known:
		v.errf(key+".type", "unknown sink type %s (known: %s)", quoteString(s.Type), strings.Join(SinkTypes, ", "))
	}
	// Which keys apply depends on the type. Under a type this build does not know, the type is
	// the one problem worth reporting; without a type, any key of any sink type may be meant.
	all := fieldsOf(reflect.TypeFor[Sink]()).names
	typed := v.c.pos.written(key + ".type")
	for _, k := range v.open[key] {
		switch {
		case known && !sinkTakes(s.Type, k):
			v.errKey(joinKey(key, k), "not a key of a %s sink%s", quoteString(s.Type), suggest(k, sinkKeys[s.Type]))
		case !typed && !slices.Contains(all, k):
			v.errKey(joinKey(key, k), "unknown key%s", suggest(k, all))
		}
	}
	if s.Type == "file" && s.MaxFileBytes < 4<<10 {
		v.errf(key+".max_file_bytes", "must be at least 4KiB (%s)", s.MaxFileBytes)
	}
	if s.Queue.MaxBytes <= 0 {
		v.errf(key+".queue.max_bytes", "must be greater than 0 (%s)", s.Queue.MaxBytes)
	}
	v.oneOf(key+".queue.when_full", s.Queue.WhenFull, "refuse", "drop_oldest")
	if s.Queue.Durable && s.Queue.WhenFull == "drop_oldest" {
		v.errf(key+".queue.when_full", `a durable queue refuses when its disk budget is spent; "drop_oldest" is for memory queues (durable = false)`)
	}
	if s.Queue.FsyncDelay < 0 || s.Queue.FsyncDelay > Duration(time.Second) {
		v.errf(key+".queue.fsync_delay", "must be between 0s and 1s (%s)", s.Queue.FsyncDelay)
	}
	if s.Queue.Workers < 1 || s.Queue.Workers > 64 {
		v.errf(key+".queue.workers", "must be between 1 and 64 (%d)", s.Queue.Workers)
	}
	b := s.Batch
	if b.MaxRecords < 1 {
		v.errf(key+".batch.max_records", "must be at least 1 (%d)", b.MaxRecords)
	}
	if b.MaxBytes < 1 {
		v.errf(key+".batch.max_bytes", "must be greater than 0 (%s)", b.MaxBytes)
	}
	if b.MaxWait < 0 {
		v.errf(key+".batch.max_wait", "must not be negative (%s)", b.MaxWait)
	}
	switch s.Type {
	case "otlp":
		v.otlpSink(key, s)
	case "prometheus":
		v.attributeKeys(key+".labels", s.Labels)
	case "gcs":
		v.googleSink(key, s)
		v.gcsSink(key, s)
	case "cloud_logging":
		v.googleSink(key, s)
		v.attributeKeys(key+".labels", s.Labels)
		switch {
		case s.LogName == "":
			v.errf(key+".log_name", "must not be empty")
		case !ValidLogName(s.LogName):
			v.errf(key+".log_name", "want at most 512 letters, digits and / _ - . (%s)", quoteString(s.LogName))
		}
		v.resource(key, s)
	case "cloud_monitoring":
		v.googleSink(key, s)
		v.oneOf(key+".metric_prefix", s.MetricPrefix, "workload.googleapis.com/", "custom.googleapis.com/")
		v.attributeKeys(key+".drop_labels", s.DropLabels)
		if s.WriteInterval < Duration(5*time.Second) {
			v.errf(key+".write_interval", "must be at least 5s: Cloud Monitoring takes one point per series every 5 seconds (%s)", s.WriteInterval)
		}
		v.resource(key, s)
	case "cloud_trace":
		v.googleSink(key, s)
	}
	r := s.Retry
	if r.InitialInterval <= 0 {
		v.errf(key+".retry.initial_interval", "must be greater than 0 (%s)", r.InitialInterval)
	} else if r.MaxInterval < r.InitialInterval {
		v.errf(key+".retry.max_interval", "must be at least initial_interval, %s (%s)", r.InitialInterval, r.MaxInterval)
	}
	if r.MaxElapsed < 0 {
		v.errf(key+".retry.max_elapsed", "must not be negative (%s)", r.MaxElapsed)
	}
	if r.AttemptTimeout <= 0 {
		v.errf(key+".retry.attempt_timeout", "must be greater than 0 (%s)", r.AttemptTimeout)
	}
}

// otlpSink checks an otlp sink's endpoint and TLS files.
func (v *checker) otlpSink(key string, s *Sink) {
	switch {
	case !v.c.pos.written(key + ".endpoint"):
		v.missing(key+".endpoint", ` (an http:// or https:// URL)`)
	default:
		u, err := url.Parse(s.Endpoint)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			v.errf(key+".endpoint", "want an http:// or https:// URL with a host (%s)", quoteString(s.Endpoint))
		case u.User != nil:
			v.errf(key+".endpoint", "credentials in the URL are not sent; put them in headers (%s://%s)", u.Scheme, u.Host)
		case u.Scheme == "http" && (s.CAFile != "" || s.CertFile != ""):
			v.errf(key+".endpoint", "ca_file and cert_file need an https:// endpoint (%s)", quoteString(s.Endpoint))
		}
	}
	v.oneOf(key+".protocol", s.Protocol, "grpc", "http/protobuf", "http/json")
	v.oneOf(key+".compression", s.Compression, "gzip", "none")
	switch {
	case s.CertFile != "" && s.KeyFile == "":
		v.errf(key+".cert_file", "needs key_file")
	case s.CertFile == "" && s.KeyFile != "":
		v.errf(key+".key_file", "needs cert_file")
	}
	v.readableFile(key+".ca_file", s.CAFile, false)
	v.readableFile(key+".cert_file", s.CertFile, false)
	v.readableFile(key+".key_file", s.KeyFile, true)
	for _, h := range slices.Sorted(maps.Keys(s.Headers)) {
		if !headerNameRE.MatchString(h) {
			v.errKey(joinKey(key+".headers", h), "not a valid header name")
		}
	}
}

// attributeKeys checks a list of attribute keys.
func (v *checker) attributeKeys(key string, keys []string) {
	for i, l := range keys {
		if l == "" {
			v.errElem(key, i, "an attribute key must not be empty")
		}
	}
}

// googleSink checks the keys every Google sink takes. Whether the credentials work only the
// service can say; that they can be read is checked here, and what they hold when the sink is
// built, both offline.
func (v *checker) googleSink(key string, s *Sink) {
	if s.Project != "" && !projectRE.MatchString(s.Project) {
		v.errf(key+".project", "not a project id: 6 to 30 lower-case letters, digits and hyphens, starting with a letter (%s)", quoteString(s.Project))
	}
	v.readableFile(key+".credentials_file", s.CredentialsFile, true)
	if s.Endpoint != "" {
		host := s.Endpoint
		if s.Type == "gcs" {
			u, err := url.Parse(s.Endpoint)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				v.errf(key+".endpoint", "want an http:// or https:// URL with a host (%s)", quoteString(s.Endpoint))
				return
			}
			host = u.Host
		} else if _, _, err := net.SplitHostPort(host); err != nil {
			v.errf(key+".endpoint", "want host:port (%s)", quoteString(s.Endpoint))
			return
		}
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if s.Insecure && !isLoopback(strings.Trim(host, "[]")) {
			v.errf(key+".insecure", "plaintext without credentials is only for an emulator on loopback, not %s", quoteString(s.Endpoint))
		}
	} else if s.Insecure {
		v.errf(key+".insecure", "needs an endpoint on loopback (an emulator or test server)")
	}
	if s.Insecure && s.CredentialsFile != "" {
		v.errf(key+".credentials_file", "is not sent when insecure = true")
	}
	if s.Insecure && s.Project == "" {
		v.missing(key+".project", " (with insecure = true there are no credentials to take it from)")
	}
}

// gcsSink checks a gcs sink's bucket and object settings.
func (v *checker) gcsSink(key string, s *Sink) {
	switch {
	case !v.c.pos.written(key + ".bucket"):
		v.missing(key+".bucket", "")
	case !bucketRE.MatchString(s.Bucket) || strings.Contains(s.Bucket, ".."):
		v.errf(key+".bucket", "not a bucket name: 3 to 63 lower-case letters, digits, - _ and ., starting and ending with a letter or digit (%s)", quoteString(s.Bucket))
	}
	if strings.HasPrefix(s.Prefix, "/") || strings.HasSuffix(s.Prefix, "/") || strings.Contains(s.Prefix, "//") {
		v.errf(key+".prefix", "must not start or end with / or hold // (%s)", quoteString(s.Prefix))
	}
	if s.KMSKey != "" && !ValidKMSKey(s.KMSKey) {
		v.errf(key+".kms_key", "want projects/P/locations/L/keyRings/R/cryptoKeys/K (%s)", quoteString(s.KMSKey))
	}
	if s.RetentionDays < 0 {
		v.errf(key+".retention_days", "must not be negative (%d)", s.RetentionDays)
	}
	if s.StorageClass != "" {
		v.oneOf(key+".storage_class", s.StorageClass, StorageClasses...)
	}
}

// resource checks the monitored resource of a cloud_logging or cloud_monitoring sink.
func (v *checker) resource(key string, s *Sink) {
	v.oneOf(key+".resource", s.Resource, "generic_node", "global")
	if s.Resource == "generic_node" {
		if s.Location == "" {
			v.errf(key+".location", "a generic_node resource needs a location (a zone, a region or \"global\")")
		}
		if s.Namespace == "" {
			v.errf(key+".namespace", "a generic_node resource needs a namespace")
		}
	}
}

var (
	projectRE = regexp.MustCompile(`^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`)
	kmsKeyRE  = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)
	logNameRE = regexp.MustCompile(`^[A-Za-z0-9/_.-]+$`)
)

// Google's naming rules, shared by the config's checks and the sinks' own (a sink built
// without the config checks its options too).

// StorageClasses are the storage classes a gcs sink may set on its objects.
var StorageClasses = []string{"STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"}

// ValidKMSKey reports whether s is a Cloud KMS key name,
// projects/P/locations/L/keyRings/R/cryptoKeys/K.
func ValidKMSKey(s string) bool { return kmsKeyRE.MatchString(s) }

// ValidLogName reports whether s is a log id Cloud Logging takes: at most 512 letters,
// digits and / _ - . (before URL-encoding).
func ValidLogName(s string) bool { return len(s) <= 512 && logNameRE.MatchString(s) }

// headerNameRE is what HTTP and gRPC both take as a header name.
var headerNameRE = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]+$`)
