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
			Durable:  slices.Contains(networkSinks, typ),
			MaxBytes: memoryQueueBytes,
			WhenFull: "refuse",
			Workers:  4,
		},
		Batch: Batch{
			MaxRecords: 1000,
			MaxBytes:   4 << 20,
			MaxWait:    Duration(200 * time.Millisecond),
		},
		Retry: Retry{
			InitialInterval: Duration(time.Second),
			MaxInterval:     Duration(30 * time.Second),
			AttemptTimeout:  Duration(30 * time.Second),
		},
	}
	if s.Queue.Durable {
		s.Queue.MaxBytes = durableQueueBytes
	}
	switch typ {
	case "file":
		s.Path = filepath.Join(stateDir, "telemetry")
		s.MaxFileBytes = 64 << 20
		s.MaxFileAge = Duration(time.Hour)
		s.Compress = new(true)
		s.MaxAge = Duration(7 * 24 * time.Hour)
		// Local disk takes what is queued at once; waiting to fill a batch gains nothing.
		s.Batch.MaxWait = 0
		s.Queue.Workers = 1
	case "otlp":
		s.Protocol = "http/protobuf"
		s.Compression = "gzip"
	case "gcs":
		s.Prefix = "claude-code"
		// One batch is one object: these close an object by size or age. Fewer, larger
		// objects are cheaper to store and to query.
		s.Batch = Batch{MaxRecords: 1_000_000, MaxBytes: 16 << 20, MaxWait: Duration(5 * time.Minute)}
	case "cloud_logging":
		s.LogName = "claude_code"
		s.Labels = []string{"event.name", "session.id"}
		setResource(s)
	case "cloud_monitoring":
		s.MetricPrefix = "workload.googleapis.com/"
		s.DropLabels = []string{"session.id"}
		s.WriteInterval = Duration(10 * time.Second)
		setResource(s)
		// Points are summed between writes anyway; a batch may as well collect them.
		s.Batch.MaxWait = Duration(time.Second)
		s.Queue.Workers = 1
	case "prometheus":
		s.Listen = "127.0.0.1:9464"
		s.Labels = []string{"user.id", "model", "type", "decision", "tool_name"}
		s.Batch.MaxWait = 0
		s.Queue.Workers = 1
	}
	return s
}

// setResource gives a sink the generic_node resource: the developer's machine, by host name
// (node_id "" is resolved when the sink is built).
func setResource(s *Sink) {
	s.Resource = "generic_node"
	s.Location = "global"
	s.Namespace = "claude-code"
}

// A memory queue's default holds minutes of a busy client; a durable queue's default is a disk
// budget for hours offline, since every refusal loses data at the source.
const (
	memoryQueueBytes  = 64 << 20
	durableQueueBytes = 1 << 30
)

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
		key := joinKey("sink", name)
		fillUnwritten(s, def, key, c.pos)
		// An empty path is how a config says "the default folder".
		if s.Path == "" {
			s.Path = def.Path
		}
		// The default size follows the kind of queue the sink ends up with.
		if !c.pos.written(key + ".queue.max_bytes") {
			s.Queue.MaxBytes = memoryQueueBytes
			if s.Queue.Durable {
				s.Queue.MaxBytes = durableQueueBytes
			}
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
