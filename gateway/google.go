package gateway

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/cloudlogging"
	"claude-otel-gw/sinks/cloudmonitoring"
	"claude-otel-gw/sinks/cloudtrace"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/sinks/gcs"
)

// newGoogleWriter builds the writer of a Google sink (gcs, cloud_logging, cloud_monitoring,
// cloud_trace). Each writer's New checks the credentials file, if any, but calls nothing: the
// clients are made when the sink starts.
func newGoogleWriter(name string, sc *config.Sink, m *admin.Metrics, log *slog.Logger, info Info) (sinks.Writer, error) {
	g := gcp.Options{
		Project:         sc.Project,
		CredentialsFile: sc.CredentialsFile,
		Endpoint:        sc.Endpoint,
		Insecure:        sc.Insecure,
		UserAgent:       "claude-otel-gw/" + info.Version,
	}
	switch sc.Type {
	case "gcs":
		return gcs.New(gcs.Options{
			Name: name, Google: g,
			Bucket: sc.Bucket, Prefix: sc.Prefix, KMSKey: sc.KMSKey,
			StorageClass: sc.StorageClass, RetentionDays: sc.RetentionDays,
			Logger: log,
		})
	case "cloud_logging":
		return cloudlogging.New(cloudlogging.Options{
			Name: name, Google: g,
			LogName: sc.LogName, Labels: sc.Labels, Resource: resource(sc),
			Metrics: m, Logger: log,
		})
	case "cloud_monitoring":
		return cloudmonitoring.New(cloudmonitoring.Options{
			Name: name, Google: g,
			MetricPrefix: sc.MetricPrefix, DropLabels: sc.DropLabels, Resource: resource(sc),
			MinInterval: time.Duration(sc.WriteInterval),
			Metrics:     m, Logger: log,
		})
	case "cloud_trace":
		return cloudtrace.New(cloudtrace.Options{Name: name, Google: g, Metrics: m, Logger: log})
	}
	return nil, fmt.Errorf("sink type %q is not a Google sink", sc.Type)
}

// resource is the monitored resource a cloud_logging or cloud_monitoring sink writes against;
// node_id "" is this machine's host name.
func resource(sc *config.Sink) gcp.Resource {
	r := gcp.Resource{Type: sc.Resource, Location: sc.Location, Namespace: sc.Namespace, NodeID: sc.NodeID}
	if r.NodeID == "" {
		r.NodeID, _ = os.Hostname()
	}
	return r
}
