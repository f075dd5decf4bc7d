package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"claude-otel-gw/telemetry"
)

// Every default lives here. Load starts from Default() and decodes the file over it; tables
// the user names ([redaction.<name>], [[route]], [sink.<name>]) start empty and take the
// defaults below for every key not written.

// Default returns the top-level defaults: loopback listeners, the platform state dir, and the
// "default" redaction profile. It has no routes and no sinks; Embedded is the config that runs.
func Default() *Config {
	return &Config{
		ShutdownTimeout: Duration(10 * time.Second),
		Ingest: Ingest{
			GRPCListen:        "127.0.0.1:4317",
			HTTPListen:        "127.0.0.1:4318",
			MaxRequestBytes:   16 << 20,
			MaxNestingDepth:   32,
			ReadHeaderTimeout: Duration(10 * time.Second),
			ReadTimeout:       Duration(30 * time.Second),
			IdleTimeout:       Duration(2 * time.Minute),
		},
		Admin: Admin{Listen: "127.0.0.1:9317"},
		State: State{Dir: DefaultStateDir()},
		Log:   Log{Level: "info", Format: "text"},
		Redaction: map[string]*Redaction{
			DefaultProfile: defaultProfile(),
		},
	}
}

// defaultProfile is a redaction profile with nothing written: every detector, masking.
func defaultProfile() *Redaction {
	return &Redaction{
		Detectors: slices.Clone(Detectors),
		Action:    "mask",
	}
}

// defaultRoute is a route with nothing but its name and sinks written.
func defaultRoute() *Route {
	signals := make([]string, len(telemetry.Signals))
	for i, s := range telemetry.Signals {
		signals[i] = s.String()
	}
	return &Route{Signals: signals, Redaction: DefaultProfile}
}

// defaultSink is a sink of type typ with nothing else written. Queue and retry defaults are
// the same for every type.
func defaultSink(typ, stateDir string) *Sink {
	s := &Sink{
		Type: typ,
		Queue: Queue{
			MaxBytes: 64 << 20,
			WhenFull: "refuse",
		},
		Retry: Retry{
			InitialInterval: Duration(time.Second),
			MaxInterval:     Duration(30 * time.Second),
		},
	}
	switch typ {
	case "file":
		s.Path = filepath.Join(stateDir, "telemetry")
		s.MaxFileBytes = 64 << 20
		s.MaxFileAge = Duration(time.Hour)
		s.Compress = new(true)
		s.MaxAge = Duration(7 * 24 * time.Hour)
	}
	return s
}

// applyDefaults fills every key that was not written in the tables the user named.
func applyDefaults(c *Config) {
	if c.State.Dir == "" {
		c.State.Dir = DefaultStateDir()
	}
	if c.Redaction == nil {
		c.Redaction = map[string]*Redaction{}
	}
	if c.Redaction[DefaultProfile] == nil {
		c.Redaction[DefaultProfile] = defaultProfile()
	}
	for name, r := range c.Redaction {
		fillUnwritten(r, defaultProfile(), joinKey("redaction", name), c.pos)
	}
	for i, r := range c.Routes {
		fillUnwritten(r, defaultRoute(), indexKey("route", i), c.pos)
	}
	for name, s := range c.Sinks {
		def := defaultSink(s.Type, c.State.Dir)
		fillUnwritten(s, def, joinKey("sink", name), c.pos)
		// An empty path is how a config says "the default folder".
		if s.Path == "" {
			s.Path = def.Path
		}
	}
}

// fillUnwritten copies into dst each field of def whose key was not written under path,
// going into nested tables.
func fillUnwritten[T any](dst, def *T, path string, pos positions) {
	fillStruct(reflect.ValueOf(dst).Elem(), reflect.ValueOf(def).Elem(), path, pos)
}

func fillStruct(dst, def reflect.Value, path string, pos positions) {
	fields := fieldsOf(dst.Type())
	for _, name := range fields.names {
		i := fields.index[name]
		key := joinKey(path, name)
		f := dst.Field(i)
		if f.Kind() == reflect.Struct && isTableType(f.Type()) {
			fillStruct(f, def.Field(i), key, pos)
			continue
		}
		if !pos.written(key) {
			f.Set(def.Field(i))
		}
	}
}
