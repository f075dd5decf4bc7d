package gcs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// New refuses what cannot work, each with a message naming the setting, and builds the rest
// without contacting anything.
func TestNew(t *testing.T) {
	dir := t.TempDir()
	notCreds := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(notCreds, []byte(`{"hello": "world"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := Options{Name: "audit", Bucket: "b", Host: "h"}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		err  string // "" for success
	}{
		{"minimal", func(*Options) {}, ""},
		{"everything", func(o *Options) {
			o.Prefix, o.KMSKey, o.StorageClass, o.RetentionDays = "a/b", "projects/p/locations/l/keyRings/r/cryptoKeys/k", "ARCHIVE", 30
		}, ""},
		{"no bucket", func(o *Options) { o.Bucket = "" }, "no bucket"},
		{"prefix ends in /", func(o *Options) { o.Prefix = "claude-code/" }, `prefix "claude-code/"`},
		{"prefix starts with /", func(o *Options) { o.Prefix = "/claude-code" }, `prefix "/claude-code"`},
		{"kms key", func(o *Options) { o.KMSKey = "projects/p/keyRings/r" }, `kms_key "projects/p/keyRings/r"`},
		{"storage class", func(o *Options) { o.StorageClass = "cold" }, `storage_class "cold"`},
		{"negative retention", func(o *Options) { o.RetentionDays = -1 }, "retention_days -1"},
		{"prefix too long", func(o *Options) { o.Prefix = strings.Repeat("p", 1000) }, "longer than Cloud Storage's 1024 bytes"},
		{"insecure remote", func(o *Options) {
			o.Google = gcp.Options{Endpoint: "http://storage.example.com", Insecure: true}
		}, "only for a loopback endpoint"},
		{"not a credentials file", func(o *Options) { o.Google.CredentialsFile = notCreds }, `no "type" field`},
		{"missing credentials file", func(o *Options) { o.Google.CredentialsFile = filepath.Join(dir, "none.json") }, "credentials file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			w, err := New(o)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				w.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `gcs sink "audit"`) {
				t.Errorf("New: %v; want an error about %s", err, tc.err)
			}
		})
	}
}

// Building the writer, as --check does, contacts nothing; Close before Start is fine.
func TestNewContactsNothing(t *testing.T) {
	f := newFakeGCS(t)
	o := f.options()
	o.RetentionDays = 30
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.bucketLog()) != 0 || len(f.uploadLog()) != 0 {
		t.Error("New or Close contacted the bucket")
	}
	if err := w.Start(context.Background()); err == nil {
		t.Error("Start after Close succeeded")
	}
}

// The endpoint may be given as the JSON API's base URL, the server's URL, or host:port.
func TestStorageEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in       string
		insecure bool
		want     string
	}{
		{"http://127.0.0.1:4443/storage/v1/", true, "http://127.0.0.1:4443/storage/v1/"},
		{"http://127.0.0.1:4443/storage/v1", true, "http://127.0.0.1:4443/storage/v1/"},
		{"http://127.0.0.1:4443", true, "http://127.0.0.1:4443/storage/v1/"},
		{"http://localhost:4443/", true, "http://localhost:4443/storage/v1/"},
		{"127.0.0.1:4443", true, "http://127.0.0.1:4443/storage/v1/"},
		{"storage.example.com", false, "https://storage.example.com/storage/v1/"},
		{"https://private.googleapis.com/storage/v1/", false, "https://private.googleapis.com/storage/v1/"},
	} {
		got, err := storageEndpoint(tc.in, tc.insecure)
		if err != nil || got != tc.want {
			t.Errorf("storageEndpoint(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := storageEndpoint("http://", true); err == nil {
		t.Error("an endpoint with no host was taken")
	}
}

// A request of no signal is a success with nothing written; the writer caps no batch (the
// engine's batch settings decide an object's size) and is not serial.
func TestEmptyRequestAndLimits(t *testing.T) {
	f := newFakeGCS(t)
	w := started(t, f.options())
	if err := w.Write(context.Background(), telemetry.Request{}); err != nil {
		t.Errorf("Write of nothing: %v", err)
	}
	if n := len(f.uploadLog()); n != 0 {
		t.Errorf("%d uploads for nothing", n)
	}
	if l := w.Limits(); l != (sinks.Limits{}) {
		t.Errorf("Limits = %+v; want none", l)
	}
}

// The host in names defaults to the machine's name.
func TestHostDefault(t *testing.T) {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Options{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if want := sanitizeHost(h); w.host != want || want == "" {
		t.Errorf("host = %q, want %q", w.host, want)
	}
}
