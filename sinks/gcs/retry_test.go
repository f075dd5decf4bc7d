package gcs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/sinks"
	"claude-otel-gw/telemetry"
)

// What the engine is told when Cloud Storage answers an upload with an error: a refusal of the
// request itself is permanent, everything else (outages, quotas, permissions an operator can
// grant) is retried, and a precondition failure means the object is there already: success.
func TestWriteOutcome(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
		says      string
	}{
		{status: http.StatusServiceUnavailable},
		{status: http.StatusInternalServerError},
		{status: http.StatusTooManyRequests},
		{status: http.StatusForbidden, says: "IAM roles"},
		{status: http.StatusUnauthorized, says: "credentials"},
		{status: http.StatusNotFound, says: "check the sink's project"},
		{status: http.StatusBadRequest, permanent: true},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			f := newFakeGCS(t)
			w := started(t, f.options())
			f.fail(failure{status: tc.status})
			err := w.Write(context.Background(), loadCaptured(t, "01-prompt-pii-grpc/logs.grpc.pb"))
			switch {
			case err == nil:
				t.Fatal("Write succeeded")
			case sinks.IsPermanent(err) != tc.permanent:
				t.Errorf("permanent = %v, want %v: %v", sinks.IsPermanent(err), tc.permanent, err)
			case !strings.Contains(err.Error(), "gs://"+testBucket+"/claude-code/signal=logs/"):
				t.Errorf("error %q does not name the object", err)
			case !strings.Contains(err.Error(), tc.says):
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if n := len(f.objects(t)); n != 0 {
				t.Errorf("%d objects after a failed upload", n)
			}
		})
	}
}

// A batch tried again after a failed attempt (the engine's retry) is one object, even when the
// first attempt's upload did arrive and only its answer was lost; and the second Write succeeds.
func TestRetriedBatchIsOneObject(t *testing.T) {
	r := loadCaptured(t, "05-write-file-http-json/traces.http.json")
	for _, tc := range []struct {
		name     string
		first    []failure
		statuses []int // the uploads' answers
	}{
		{"first answer lost after the upload", []failure{{status: 503, after: true}}, []int{503, 412}},
		{"first attempt refused before the upload", []failure{{status: 503}}, []int{503, 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGCS(t)
			w := started(t, f.options())
			f.fail(tc.first...)
			err := w.Write(context.Background(), r)
			if (err != nil) != (len(tc.first) > 0) {
				t.Fatalf("first Write: %v", err)
			}
			if err := w.Write(context.Background(), r); err != nil {
				t.Fatalf("second Write: %v", err)
			}
			objs := f.objects(t)
			if len(objs) != 1 {
				t.Fatalf("%d objects; want 1", len(objs))
			}
			if got := telemetry.Merge(objs[0].lines); !protoEqual(got, r) {
				t.Error("the object does not hold the batch")
			}
			var statuses []int
			for _, u := range f.uploadLog() {
				statuses = append(statuses, u.status)
			}
			// Two uploads: the library must not retry by itself. A second upload of an object
			// that is there must not replace it.
			if !slices.Equal(statuses, tc.statuses) {
				t.Errorf("uploads answered %v; want %v", statuses, tc.statuses)
			}
		})
	}
}

// An outage of Cloud Storage delays delivery through the engine and loses nothing; the
// library leaves the retrying to the engine, so the outage is seen as it happens.
func TestOutageDelaysNothingLost(t *testing.T) {
	f := newFakeGCS(t)
	const outage = 6
	for range outage {
		f.fail(failure{status: http.StatusServiceUnavailable})
	}
	m := admin.NewTestMetrics()
	s := engine(t, built(t, f.options()), config.Batch{MaxRecords: 1}, t.TempDir(), m)
	sent := captured(t)
	for _, r := range sent {
		put(t, s, r)
	}
	drain(t, s)
	var lines []telemetry.Request
	for _, o := range f.objects(t) {
		lines = append(lines, o.lines...)
	}
	want, got := recordKeys(t, sent), recordKeys(t, lines)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("a record sent %d times is in the bucket %d times", n, got[k])
		}
	}
	uploads := f.uploadLog()
	failed := 0
	for _, u := range uploads {
		if u.status == http.StatusServiceUnavailable {
			failed++
		}
	}
	if failed != outage || len(uploads) != len(sent)+outage {
		t.Errorf("%d uploads, %d refused; want %d and %d", len(uploads), failed, len(sent)+outage, outage)
	}
	if n := testutil.ToFloat64(m.SendErrors.WithLabelValues("audit")); n != outage {
		t.Errorf("the engine saw %v failed attempts; want %d, one per refused upload", n, outage)
	}
}

// A batch Cloud Storage refuses as a bad request is dead-lettered by the engine, whole, and
// the batches after it are delivered.
func TestBadRequestIsDeadLettered(t *testing.T) {
	f := newFakeGCS(t)
	f.fail(failure{status: http.StatusBadRequest})
	dead := t.TempDir()
	s := engine(t, built(t, f.options()), config.Batch{MaxRecords: 1}, dead, nil)
	refused := loadCaptured(t, "02-secrets-http-protobuf/metrics.http.pb")
	delivered := loadCaptured(t, "02-secrets-http-protobuf/logs.http.pb")
	put(t, s, refused)
	drain(t, s)
	s = engine(t, built(t, f.options()), config.Batch{MaxRecords: 1}, dead, nil)
	put(t, s, delivered)
	drain(t, s)

	files, err := filepath.Glob(filepath.Join(dead, "*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("dead letters: %v, %v; want one", files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var letter struct {
		Signal  string `json:"signal"`
		Records int    `json:"records"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(data, &letter); err != nil {
		t.Fatal(err)
	}
	if letter.Signal != "metrics" || letter.Records != refused.Records() || !strings.Contains(letter.Error, "400") {
		t.Errorf("dead letter: %+v; want the %d metrics records refused with 400", letter, refused.Records())
	}
	objs := f.objects(t)
	if len(objs) != 1 || objs[0].parsed.signal != telemetry.Logs {
		t.Fatalf("objects: %d; want the one logs batch", len(objs))
	}
}

// Writing before Start or after Close fails (and is retried by the engine) rather than
// panicking or pretending.
func TestWriteOutsideLifecycle(t *testing.T) {
	f := newFakeGCS(t)
	r := loadCaptured(t, "04-api-error-grpc/logs.grpc.pb")
	w := built(t, f.options())
	if err := w.Write(context.Background(), r); !errors.Is(err, errNotStarted) {
		t.Errorf("Write before Start: %v", err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), r); !errors.Is(err, errClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := len(f.uploadLog()); n != 0 {
		t.Errorf("%d uploads", n)
	}
}
