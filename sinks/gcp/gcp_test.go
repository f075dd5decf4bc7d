package gcp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/googleapi"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"claude-otel-gw/sinks"
)

func TestCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const secret = "-----BEGIN PRIVATE KEY-----MIIEvQ"
	cases := []struct {
		name, path, wantErr string
	}{
		{"service account", write("sa.json", `{"type": "service_account", "project_id": "p", "private_key": "`+secret+`"}`), ""},
		{"authorized user", write("user.json", `{"type": "authorized_user", "client_id": "c"}`), ""},
		{"external account", write("wif.json", `{"type": "external_account", "audience": "a"}`), ""},
		{"not JSON", write("bad.json", `{"type": "service_account", "private_key": "`+secret+`"`), "not JSON"},
		{"no type", write("notype.json", `{"private_key": "`+secret+`"}`), `no "type" field`},
		{"unknown type", write("odd.json", `{"type": "gdch_service_account"}`), `credentials of type "gdch_service_account" are not supported`},
		{"array", write("array.json", `["`+secret+`"]`), "not a JSON object"},
		{"missing", filepath.Join(dir, "nope.json"), "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := credentialsType(c.path)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("credentialsType: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("credentialsType = %v, want an error saying %q", err, c.wantErr)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "MIIE") {
				t.Fatalf("the error quotes the file's content: %v", err)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for ep, want := range map[string]bool{
		"127.0.0.1:8085":                    true,
		"localhost:8085":                    true,
		"[::1]:9000":                        true,
		"http://127.0.0.1:4443/storage/v1/": true,
		"http://localhost:4443":             true,
		"logging.googleapis.com:443":        false,
		"https://storage.googleapis.com/":   false,
		"10.0.0.8:8085":                     false,
		"http://127.0.0.1.example.com:80/":  false,
		"localhost.example.com:443":         false,
	} {
		if got := IsLoopback(ep); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", ep, got, want)
		}
	}
}

func TestClientOptionsRefuseInsecureRemote(t *testing.T) {
	if _, err := GRPCClientOptions(Options{Endpoint: "logging.googleapis.com:443", Insecure: true}); err == nil {
		t.Fatal("insecure to a remote endpoint was accepted")
	}
	if _, err := HTTPClientOptions(Options{Endpoint: "http://127.0.0.1:4443/storage/v1/", Insecure: true}); err != nil {
		t.Fatalf("insecure to loopback: %v", err)
	}
	if _, err := GRPCClientOptions(Options{CredentialsFile: filepath.Join(t.TempDir(), "none.json")}); err == nil {
		t.Fatal("a missing credentials file was accepted")
	}
}

func TestClassify(t *testing.T) {
	withDelay := status.New(codes.ResourceExhausted, "quota")
	withDelay, _ = withDelay.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(7 * time.Second)})
	cases := []struct {
		name      string
		err       error
		permanent bool
		delay     time.Duration
	}{
		{"invalid argument", status.Error(codes.InvalidArgument, "bad entry"), true, 0},
		{"unavailable", status.Error(codes.Unavailable, "down"), false, 0},
		{"internal", status.Error(codes.Internal, "oops"), false, 0},
		{"quota with RetryInfo", withDelay.Err(), false, 7 * time.Second},
		{"quota", status.Error(codes.ResourceExhausted, "quota"), false, 0},
		{"permission denied", status.Error(codes.PermissionDenied, "no grant"), false, 0},
		{"not found", status.Error(codes.NotFound, "no project"), false, 0},
		{"HTTP 400", &googleapi.Error{Code: 400}, true, 0},
		{"HTTP 403", &googleapi.Error{Code: 403}, false, 0},
		{"HTTP 503", &googleapi.Error{Code: 503}, false, 0},
		{"HTTP 429", &googleapi.Error{Code: 429}, false, 0},
		{"network", errors.New("connection refused"), false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Classify(context.Background(), "write 3 entries", c.err)
			if err == nil || !strings.HasPrefix(err.Error(), "write 3 entries: ") {
				t.Fatalf("Classify = %v, want the attempt named", err)
			}
			if got := sinks.IsPermanent(err); got != c.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, c.permanent, err)
			}
			d, ok := sinks.RetryDelay(err)
			if ok != (c.delay > 0) || d != c.delay {
				t.Errorf("retry delay = %v (%v), want %v", d, ok, c.delay)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("the cause is lost: %v", err)
			}
		})
	}
	if Classify(context.Background(), "x", nil) != nil {
		t.Error("Classify(nil) is not nil")
	}
}

func TestResourceProto(t *testing.T) {
	g := Resource{Type: "generic_node", Location: "global", Namespace: "claude-code", NodeID: "dev-1"}.Proto("p")
	if g.Type != "generic_node" || g.Labels["project_id"] != "p" || g.Labels["node_id"] != "dev-1" || g.Labels["namespace"] != "claude-code" || g.Labels["location"] != "global" {
		t.Errorf("generic_node = %v", g)
	}
	if r := (Resource{Type: "global"}).Proto("p"); r.Type != "global" || len(r.Labels) != 1 || r.Labels["project_id"] != "p" {
		t.Errorf("global = %v", r)
	}
}
