package config

import (
	"slices"

	"claude-otel-gw/telemetry"
)

// sinkKeys lists, for each sink type, the keys a [sink.<name>] table of that type may hold
// besides type. Any other key is an error, so a key meant for another type of destination is
// caught rather than ignored. A new sink type is a new row here (and in SinkTypes), plus its
// defaults in defaultSink.
var sinkKeys = map[string][]string{
	"file":       {"path", "max_file_bytes", "max_file_age", "compress", "max_age", "queue", "batch", "retry"},
	"otlp":       {"endpoint", "protocol", "headers", "compression", "ca_file", "cert_file", "key_file", "queue", "batch", "retry"},
	"prometheus": {"listen", "labels", "queue", "batch", "retry"},

	"gcs":              googleKeys("bucket", "prefix", "kms_key", "retention_days", "storage_class"),
	"cloud_logging":    googleKeys("log_name", "labels", "resource", "location", "namespace", "node_id"),
	"cloud_monitoring": googleKeys("metric_prefix", "drop_labels", "write_interval", "resource", "location", "namespace", "node_id"),
	"cloud_trace":      googleKeys(),
}

// googleSinks are the sink types that write to Google Cloud: they share how they find their
// project, credentials and endpoint.
var googleSinks = []string{"gcs", "cloud_logging", "cloud_monitoring", "cloud_trace"}

// googleKeys are the keys of a Google sink: its own, then those every Google sink takes.
func googleKeys(own ...string) []string {
	return append(own, "project", "credentials_file", "endpoint", "insecure", "queue", "batch", "retry")
}

// networkSinks are the sink types whose queues are durable by default: their destination can
// be away for hours, and what the gateway acknowledged must wait for it on disk.
var networkSinks = []string{"otlp", "gcs", "cloud_logging", "cloud_monitoring", "cloud_trace"}

// sinkTakes reports whether a sink of type typ takes key.
func sinkTakes(typ, key string) bool {
	return key == "type" || slices.Contains(sinkKeys[typ], key)
}

// SinkSignals are the signals a sink of type typ takes; nil is all three. A route offers a sink
// only these, so one route may send everything to Cloud Logging, Monitoring and Trace at once.
func SinkSignals(typ string) []telemetry.Signal {
	switch typ {
	case "cloud_logging":
		return []telemetry.Signal{telemetry.Logs}
	case "cloud_monitoring", "prometheus":
		return []telemetry.Signal{telemetry.Metrics}
	case "cloud_trace":
		return []telemetry.Signal{telemetry.Traces}
	}
	return nil
}
