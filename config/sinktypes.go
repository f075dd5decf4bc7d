package config

import "slices"

// sinkKeys lists, for each sink type, the keys a [sink.<name>] table of that type may hold
// besides type. Any other key is an error, so a key meant for another type of destination is
// caught rather than ignored. A new sink type is a new row here (and in SinkTypes), plus its
// defaults in defaultSink.
var sinkKeys = map[string][]string{
	"file":       {"path", "max_file_bytes", "max_file_age", "compress", "max_age", "queue", "batch", "retry"},
	"otlp":       {"endpoint", "protocol", "headers", "compression", "ca_file", "cert_file", "key_file", "queue", "batch", "retry"},
	"prometheus": {"listen", "labels", "queue", "batch", "retry"},
}

// networkSinks are the sink types whose queues are durable by default: their destination can
// be away for hours, and what the gateway acknowledged must wait for it on disk.
var networkSinks = []string{"otlp"}

// sinkTakes reports whether a sink of type typ takes key.
func sinkTakes(typ, key string) bool {
	return key == "type" || slices.Contains(sinkKeys[typ], key)
}
