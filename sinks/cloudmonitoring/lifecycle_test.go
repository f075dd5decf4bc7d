package cloudmonitoring

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	metricpb "google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"

	fakemonitoring "claude-otel-gw/internal/fakegcp/monitoring"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// New refuses bad options, offline, and says which sink and what.
func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notCreds := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(notCreds, []byte(`{"type": "bogus"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"prefix", Options{MetricPrefix: "external.googleapis.com/"}, `metric prefix "external.googleapis.com/": want workload.googleapis.com/ or custom.googleapis.com/`},
		{"prefix without slash", Options{MetricPrefix: "custom.googleapis.com"}, `metric prefix "custom.googleapis.com"`},
		{"interval", Options{MinInterval: -time.Second}, "minimum write interval -1s is negative"},
		{"resource", Options{Resource: gcp.Resource{Type: "k8s_container"}}, `resource type "k8s_container": want generic_node or global`},
		{"drop label", Options{DropLabels: []string{""}}, "drop_labels: an empty attribute key"},
		{"insecure remote", Options{Google: gcp.Options{Endpoint: "monitoring.example.com:443", Insecure: true}}, "insecure is only for a loopback endpoint"},
		{"missing credentials", Options{Google: gcp.Options{CredentialsFile: filepath.Join(dir, "none.json")}}, "credentials file"},
		{"bad credentials", Options{Google: gcp.Options{CredentialsFile: notCreds}}, `credentials of type "bogus" are not supported`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Name = "gcm"
			_, err := New(c.o)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if !strings.HasPrefix(err.Error(), `cloud_monitoring sink "gcm": `) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %q; want it to name the sink and say %q", err, c.want)
			}
		})
	}
}

// Logs and traces are not the sink's: accepted and ignored, with nothing sent.
func TestOtherSignalsIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	for _, sig := range []telemetry.Signal{telemetry.Logs, telemetry.Traces} {
		e.write(t, telemetry.Empty(sig))
	}
	e.write(t, telemetry.Empty(telemetry.Metrics))
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent; want none", n)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	e := newUnstarted(t, Options{})
	r := costPoint(1, time.Now(), "opus")
	if err := e.w.Write(context.Background(), r); err == nil {
		t.Error("Write before Start succeeded")
	}
	if err := e.w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.w.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
	e.write(t, r)
	if err := e.w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.w.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if err := e.w.Write(context.Background(), r); err == nil {
		t.Error("Write after Close succeeded")
	}
	if n := len(e.fake.Requests()); n != 1 {
		t.Errorf("%d requests sent; want 1", n)
	}
}

// The custom.googleapis.com prefix, a generic_node resource, and the project taken from the
// credentials when the options name none.
func TestPrefixResourceAndProject(t *testing.T) {
	t.Parallel()
	fake, err := fakemonitoring.Start(fakemonitoring.Options{MinInterval: testInterval})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	creds := filepath.Join(t.TempDir(), "creds.json")
	// A service account key naming its project; the key is never used, the endpoint being an
	// insecure loopback one.
	if err := os.WriteFile(creds, []byte(`{"type": "service_account", "project_id": "from-creds", "client_email": "gw@from-creds.iam.gserviceaccount.com", "private_key": "unused", "token_uri": "https://oauth2.googleapis.com/token"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	res := gcp.Resource{Type: "generic_node", Location: "us-central1", Namespace: "platform", NodeID: "laptop-7"}
	w, err := New(Options{
		Name:         "gcm",
		Google:       gcp.Options{Endpoint: fake.Addr(), Insecure: true, CredentialsFile: creds},
		MetricPrefix: CustomPrefix,
		Resource:     res,
		MinInterval:  testInterval,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Write(context.Background(), costPoint(1, time.Now(), "opus")); err != nil {
		t.Fatal(err)
	}
	for _, v := range fake.Violations() {
		t.Errorf("fake refused: %s", v)
	}
	want := fakemonitoring.Key(&monitoringpb.TimeSeries{
		Metric: &metricpb.Metric{Type: "custom.googleapis.com/claude_code/cost/usage", Labels: modelLabels("opus")},
		Resource: &monitoredres.MonitoredResource{Type: "generic_node", Labels: map[string]string{
			"project_id": "from-creds", "location": "us-central1", "namespace": "platform", "node_id": "laptop-7",
		}},
	})
	if _, ok := fake.Series()[want]; !ok {
		t.Errorf("series %s not written; written: %v", want, keys(fake.Series()))
	}
	if reqs := fake.Requests(); len(reqs) != 1 || reqs[0].GetName() != "projects/from-creds" {
		t.Errorf("requests %v; want one to projects/from-creds", reqs)
	}
}
