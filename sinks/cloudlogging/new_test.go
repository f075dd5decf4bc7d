package cloudlogging

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
)

// New refuses options that could never work, with a message naming the sink and the problem,
// and reads nothing but the credentials file.
func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	notGoogle := filepath.Join(dir, "not-google.json")
	if err := os.WriteFile(notGoogle, []byte(`{"type":"aws"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"insecure to a remote endpoint", func(o *Options) { o.Google.Endpoint = "logging.example.com:443" }, "loopback"},
		{"missing credentials file", func(o *Options) {
			o.Google.Insecure, o.Google.CredentialsFile = false, filepath.Join(dir, "missing.json")
		}, "credentials file"},
		{"credentials of another kind", func(o *Options) { o.Google.Insecure, o.Google.CredentialsFile = false, notGoogle }, `"aws"`},
		{"log name with a space", func(o *Options) { o.LogName = "claude code" }, "log_name"},
		{"log name too long", func(o *Options) { o.LogName = strings.Repeat("a", 513) }, "log_name"},
		{"unknown resource", func(o *Options) { o.Resource = gcp.Resource{Type: "k8s_container"} }, "k8s_container"},
		{"generic_node without location", func(o *Options) { o.Resource.Location = "" }, "location"},
		{"generic_node without namespace", func(o *Options) { o.Resource.Namespace = "" }, "namespace"},
		{"not a project id", func(o *Options) { o.Google.Project = "projects/p" }, "project"},
		{"empty label key", func(o *Options) { o.Labels = []string{"user.id", ""} }, "labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{
				Name:     "gcp_logs",
				Google:   gcp.Options{Project: "p", Endpoint: "127.0.0.1:1", Insecure: true},
				Resource: testResource,
			}
			tt.edit(&o)
			w, err := New(o)
			if err == nil {
				w.Close()
				t.Fatal("New accepted the options")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, `cloud_logging sink "gcp_logs": `) || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q, want the sink's name and %q", msg, tt.want)
			}
		})
	}
}

// New and Close dial nothing: a sink whose service cannot be reached builds and closes at once,
// as --check needs.
func TestNewIsOffline(t *testing.T) {
	creds := serviceAccount(t, "acme-prod")
	w, err := New(Options{
		Name:     "gcp_logs",
		Google:   gcp.Options{Project: "acme-prod", CredentialsFile: creds, Endpoint: "10.255.255.1:443"},
		Resource: testResource,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Before Start, a Write fails and can be retried; Start makes it work; Start twice, or after
// Close, is refused.
func TestLifecycle(t *testing.T) {
	h := newUnstarted(t, nil)
	r := logsRequest(event("user_prompt", 1))
	err := h.write(t, r)
	if err == nil || sinks.IsPermanent(err) {
		t.Fatalf("Write before Start: %v, want a retryable error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.w.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := h.write(t, r); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := h.w.Start(ctx); err == nil {
		t.Error("a second Start succeeded")
	}
	if err := h.w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := h.w.Start(ctx); err == nil {
		t.Error("Start after Close succeeded")
	}
	if lines := h.log.Lines("ready"); len(lines) != 1 || !strings.Contains(lines[0], "projects/p/logs/claude_code") {
		t.Errorf("start log: %q", lines)
	}
}

// With no project set, the sink writes to the project its credentials name; with none to take
// it from, Start says to set one.
func TestProjectFromCredentials(t *testing.T) {
	h := newUnstarted(t, func(o *Options) {
		o.Google.Project = ""
		o.Google.CredentialsFile = serviceAccount(t, "acme-prod")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.w.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	lr := event("user_prompt", 1)
	lr.TraceId = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	if err := h.write(t, logsRequest(lr)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	e := h.fake.Entries()[0]
	if e.LogName != "projects/acme-prod/logs/claude_code" || e.Resource.GetLabels()["project_id"] != "acme-prod" ||
		e.Trace != "projects/acme-prod/traces/0102030405060708090a0b0c0d0e0f10" {
		t.Errorf("entry in log %q, resource %v, trace %q", e.LogName, e.Resource, e.Trace)
	}

	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "none.json"))
	h = newUnstarted(t, func(o *Options) { o.Google.Project = "" })
	if err := h.w.Start(ctx); err == nil || !strings.Contains(err.Error(), "project") {
		t.Errorf("Start with no project and no credentials: %v", err)
	}
}

// serviceAccount writes a service account key file naming project, with a key made on the spot.
func serviceAccount(t *testing.T, project string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     project,
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "gateway@" + project + ".iam.gserviceaccount.com",
		"client_id":      "123456789",
		"token_uri":      "https://oauth2.googleapis.com/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
