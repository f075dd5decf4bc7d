// Package config turns a TOML file into the gateway's typed configuration: it fills in defaults,
// expands ${VAR} references, and validates everything it can without starting anything,
// reporting every problem at once with its file, line and column. It is the one loader that
// running, --check, --print-config and reload all use.
//
// Every problem is one line, file:line:col: key.path: what is wrong (the bad value). The place
// is the thing at fault: the key for an unknown or misplaced key, the value (or the element of
// a list) for a bad value, the table's [header] for a required key that is missing; a problem
// with no place in the file (no route at all, anything in the embedded default) has none.
//
// Every string may use ${VAR}, ${VAR:-fallback} and $$. Paths (state.dir, a sink's path,
// hash_key_file) may start with ~/, and a relative one is relative to the config file's
// folder; a loaded Config holds them absolute.
//
// It is not for building components: the assembly turns a Config into running parts.
package config

// Config is the whole configuration. Load fills in every default, so a loaded Config needs no
// further defaulting by its users.
type Config struct {
	// ShutdownTimeout bounds a graceful stop: finishing in-flight requests and draining queues.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`

	Ingest    Ingest                `toml:"ingest"`
	Admin     Admin                 `toml:"admin"`
	State     State                 `toml:"state"`
	Log       Log                   `toml:"log"`
	Redaction map[string]*Redaction `toml:"redaction"`
	Routes    []*Route              `toml:"route"`
	Sinks     map[string]*Sink      `toml:"sink"`

	// Source names where the config came from: a file path, or EmbeddedName.
	Source string `toml:"-"`
	// pos remembers where each key was written, for errors found after loading.
	pos positions `toml:"-"`
}

// Ingest configures the OTLP listeners.
type Ingest struct {
	// GRPCListen is the OTLP/gRPC listen address; "" turns gRPC off.
	GRPCListen string `toml:"grpc_listen"`
	// HTTPListen is the OTLP/HTTP listen address; "" turns HTTP off.
	HTTPListen string `toml:"http_listen"`
	// MaxRequestBytes bounds a request after decompression.
	MaxRequestBytes ByteSize `toml:"max_request_bytes"`
	// MaxNestingDepth bounds how deeply AnyValues (maps and arrays in bodies and attributes)
	// may nest.
	MaxNestingDepth int `toml:"max_nesting_depth"`
	// ReadHeaderTimeout bounds the time to read a request's headers (HTTP) or the connection
	// handshake (gRPC).
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	// ReadTimeout bounds the time to read a whole HTTP request, body included.
	ReadTimeout Duration `toml:"read_timeout"`
	// IdleTimeout closes connections that carried no request for this long.
	IdleTimeout Duration `toml:"idle_timeout"`
	// TLSCertFile and TLSKeyFile turn on TLS for both OTLP listeners.
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
	// ClientCAFile, when set, makes clients present a certificate signed by one of its CAs
	// (mutual TLS). It needs TLS.
	ClientCAFile string `toml:"client_ca_file"`
	// BearerTokenFile, when set, holds the token every request must carry as
	// "authorization: Bearer <token>".
	BearerTokenFile string `toml:"bearer_token_file"`
	// AllowInsecureRemote permits a listener on a non-loopback address without TLS.
	AllowInsecureRemote bool `toml:"allow_insecure_remote"`
}

// TLS reports whether the OTLP listeners serve TLS.
func (i Ingest) TLS() bool { return i.TLSCertFile != "" }

// Admin configures the admin listener (/metrics, /healthz, /readyz).
type Admin struct {
	// Listen is the admin listen address; "" turns it off.
	Listen string `toml:"listen"`
}

// State configures where the gateway keeps what it writes.
type State struct {
	// Dir holds the file sink's default folder (and, later, spools and dead letters).
	// Default: the platform state dir.
	Dir string `toml:"dir"`
}

// Log configures the gateway's own log.
type Log struct {
	Level  string `toml:"level"`  // debug | info | warn | error
	Format string `toml:"format"` // text | json
}

// Redaction is one redaction profile: [redaction.<name>].
type Redaction struct {
	// Detectors lists the built-in detectors to run (see Detectors); default: all. Load fills
	// in all of them when the key is not written, so in a loaded Config an empty list means
	// none (detectors = []).
	Detectors []string `toml:"detectors"`
	// Action is what happens to a detected value: "mask" or "hash".
	Action string `toml:"action"`
	// HashKeyFile holds the HMAC key for action = "hash".
	HashKeyFile string `toml:"hash_key_file"`
	// DropKeys are attribute keys removed entirely.
	DropKeys []string `toml:"drop_keys"`
	// MaskKeys are attribute keys whose whole value is replaced.
	MaskKeys []string `toml:"mask_keys"`
	// Patterns are custom detectors.
	Patterns []*Pattern `toml:"pattern"`
}

// Pattern is a custom detector: [[redaction.<profile>.pattern]].
type Pattern struct {
	Name  string `toml:"name"`
	Regex string `toml:"regex"`
}

// Route selects records and sends them, redacted by one profile, to sinks: [[route]].
type Route struct {
	// Name identifies the route in errors, logs and metrics.
	Name string `toml:"name"`
	// Signals the route takes; default: all three.
	Signals []string `toml:"signals"`
	// Names are globs on the metric name, span name or event name; empty: every name.
	Names []string `toml:"names"`
	// Match requires these attributes, on the record, its scope or its resource, to equal these
	// values.
	Match map[string]Value `toml:"match"`
	// Redaction is the profile applied for this route's sinks, or "none" for full fidelity.
	Redaction string `toml:"redaction"`
	// Sinks receive what the route selects.
	Sinks []string `toml:"sinks"`
	// Drop rules: records matching any of them are left out of this route.
	Drop []*DropRule `toml:"drop"`
}

// DropRule leaves matching records out of a route: [[route.drop]]. Every condition given must
// hold; at least one must be given.
type DropRule struct {
	// Name is a glob on the metric name, span name or event name.
	Name string `toml:"name"`
	// Attribute names an attribute (record, scope or resource) tested by Equals or Contains.
	Attribute string `toml:"attribute"`
	// Equals requires the attribute to have this value.
	Equals *Value `toml:"equals"`
	// Contains requires the attribute's value, as text, to contain this string.
	Contains string `toml:"contains"`
}

// Sink is one destination: [sink.<name>]. Which keys apply depends on Type.
type Sink struct {
	// Type is the kind of destination; see SinkTypes.
	Type string `toml:"type"`

	// Path is the file sink's folder; default <state.dir>/telemetry.
	Path string `toml:"path"`
	// MaxFileBytes rotates a file sink's file when it reaches this size.
	MaxFileBytes ByteSize `toml:"max_file_bytes"`
	// MaxFileAge rotates a file sink's file when it is this old; 0 never.
	MaxFileAge Duration `toml:"max_file_age"`
	// Compress gzips a file sink's files when they are rotated.
	Compress *bool `toml:"compress"`
	// MaxAge removes a file sink's rotated files older than this; 0 keeps them.
	MaxAge Duration `toml:"max_age"`

	// Endpoint is where an otlp sink sends: an http:// (plaintext) or https:// (TLS) URL.
	Endpoint string `toml:"endpoint"`
	// Protocol is an otlp sink's wire protocol: "grpc", "http/protobuf" or "http/json".
	Protocol string `toml:"protocol"`
	// Headers are sent with every export (gRPC metadata or HTTP headers).
	Headers map[string]Secret `toml:"headers"`
	// Compression is "gzip" or "none".
	Compression string `toml:"compression"`
	// CAFile replaces the system roots for verifying an https endpoint.
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are a client certificate presented to the endpoint.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`

	// Listen is a prometheus sink's own scrape address.
	Listen string `toml:"listen"`
	// Labels are the attributes (of the data point, then of the resource) a prometheus sink
	// keeps as labels; every other attribute is summed away. A cloud_logging sink copies these
	// attributes (of the record, then of the resource) into each entry's labels.
	Labels []string `toml:"labels"`

	// Project is a Google sink's project id; "" takes it from the credentials.
	Project string `toml:"project"`
	// CredentialsFile is a Google credentials JSON file (owner-only); "" uses Application
	// Default Credentials.
	CredentialsFile string `toml:"credentials_file"`
	// Insecure sends a Google sink's calls in plaintext and without credentials, to an
	// emulator or test server at a loopback endpoint.
	Insecure bool `toml:"insecure"`

	// Bucket is a gcs sink's bucket.
	Bucket string `toml:"bucket"`
	// Prefix starts a gcs sink's object names: <prefix>/signal=<signal>/date=.../hour=.../...
	Prefix string `toml:"prefix"`
	// KMSKey encrypts a gcs sink's objects with this Cloud KMS key (CMEK).
	KMSKey string `toml:"kms_key"`
	// RetentionDays makes sure the bucket deletes the prefix's objects this many days old; 0
	// leaves the bucket's lifecycle alone.
	RetentionDays int `toml:"retention_days"`
	// StorageClass of a gcs sink's objects; "" is the bucket's default.
	StorageClass string `toml:"storage_class"`

	// LogName is a cloud_logging sink's log: projects/<project>/logs/<log_name>.
	LogName string `toml:"log_name"`

	// Resource is the monitored resource of a cloud_logging or cloud_monitoring sink:
	// "generic_node" (with location, namespace and node_id) or "global".
	Resource string `toml:"resource"`
	// Location, Namespace and NodeID label a generic_node resource; node_id "" is the host
	// name.
	Location  string `toml:"location"`
	Namespace string `toml:"namespace"`
	NodeID    string `toml:"node_id"`

	// MetricPrefix is a cloud_monitoring sink's metric type prefix: workload.googleapis.com/
	// or custom.googleapis.com/.
	MetricPrefix string `toml:"metric_prefix"`
	// DropLabels are attributes a cloud_monitoring sink leaves out (high cardinality); the
	// series they would split are summed.
	DropLabels []string `toml:"drop_labels"`
	// WriteInterval is how often a cloud_monitoring sink writes a series at most (Cloud
	// Monitoring takes one point per series every 5 seconds).
	WriteInterval Duration `toml:"write_interval"`

	Queue Queue `toml:"queue"`
	Batch Batch `toml:"batch"`
	Retry Retry `toml:"retry"`
}

// Queue bounds what a sink holds before delivery: [sink.<name>.queue].
type Queue struct {
	// Durable spools the queue to <state.dir>/spool/<sink>, so it survives restarts and
	// crashes. Default: true for network sinks, false for file and prometheus.
	Durable bool `toml:"durable"`
	// MaxBytes is the queue's capacity in bytes (the protobuf size of what it holds); for a
	// durable queue, its disk budget.
	MaxBytes ByteSize `toml:"max_bytes"`
	// WhenFull is "refuse" (the client is told to retry) or "drop_oldest" (memory queues only).
	WhenFull string `toml:"when_full"`
	// FsyncDelay bounds how long a durable queue's append waits for others to share its fsync
	// (group commit); the acknowledgement waits for the fsync.
	FsyncDelay Duration `toml:"fsync_delay"`
	// Workers is how many deliveries run at once (a destination that must be written in
	// order takes one whatever this says).
	Workers int `toml:"workers"`
}

// Batch merges queued requests of one signal before delivery: [sink.<name>.batch]. A
// destination's own limits cap these.
type Batch struct {
	// MaxRecords and MaxBytes close a batch when adding the next request would pass them; a
	// single request larger than either goes alone.
	MaxRecords int      `toml:"max_records"`
	MaxBytes   ByteSize `toml:"max_bytes"`
	// MaxWait is how long a batch waits to fill; 0 sends what is queued at once.
	MaxWait Duration `toml:"max_wait"`
}

// Retry governs redelivery after a failed attempt: [sink.<name>.retry].
type Retry struct {
	InitialInterval Duration `toml:"initial_interval"`
	MaxInterval     Duration `toml:"max_interval"`
	// MaxElapsed gives up on a batch after this long and dead-letters it; 0 keeps trying until
	// it is delivered (a durable queue keeps it across restarts).
	MaxElapsed Duration `toml:"max_elapsed"`
	// AttemptTimeout bounds one delivery attempt.
	AttemptTimeout Duration `toml:"attempt_timeout"`
}

// The built-in detectors, by the names used in configs, masks and metrics.
var Detectors = []string{
	"email", "phone", "ssn", "credit_card", "ip",
	"cloud_key", "vcs_token", "ai_key", "saas_token",
	"jwt", "private_key", "auth_header", "url_credentials", "secret_assignment",
}

// SinkTypes lists the sink types this build can run.
var SinkTypes = []string{"file", "otlp", "gcs", "cloud_logging", "cloud_monitoring", "cloud_trace", "prometheus"}

// NoRedaction is the route redaction value that sends records unredacted.
const NoRedaction = "none"

// DefaultProfile is the redaction profile that exists even when not written.
const DefaultProfile = "default"
