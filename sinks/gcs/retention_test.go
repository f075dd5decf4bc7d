package gcs

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	raw "google.golang.org/api/storage/v1"

	"claude-otel-gw/internal/testlog"
	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
)

func deleteRule(age int64, prefixes ...string) *raw.BucketLifecycleRule {
	return &raw.BucketLifecycleRule{
		Action:    &raw.BucketLifecycleRuleAction{Type: "Delete"},
		Condition: &raw.BucketLifecycleRuleCondition{Age: googleapi.Int64(age), MatchesPrefix: prefixes},
	}
}

// ruleText is a rule as a short string, for comparing rule lists.
func ruleText(r *raw.BucketLifecycleRule) string {
	s := r.Action.Type
	if r.Action.StorageClass != "" {
		s += ":" + r.Action.StorageClass
	}
	if c := r.Condition; c != nil {
		if c.Age != nil {
			s += " age=" + strconv.FormatInt(*c.Age, 10)
		}
		if len(c.MatchesPrefix) > 0 {
			s += " prefix=" + strings.Join(c.MatchesPrefix, ",")
		}
		if len(c.MatchesSuffix) > 0 {
			s += " suffix=" + strings.Join(c.MatchesSuffix, ",")
		}
		if c.NumNewerVersions > 0 {
			s += " newer=" + strconv.FormatInt(c.NumNewerVersions, 10)
		}
	}
	return s
}

func ruleTexts(rs []*raw.BucketLifecycleRule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, ruleText(r))
	}
	return out
}

// Start puts the prefix's delete rule in the bucket's lifecycle, keeps every other rule,
// replaces a rule of the prefix with another age, and changes nothing when the rule is there:
// a second start makes no update at all.
func TestRetentionRule(t *testing.T) {
	keep := []*raw.BucketLifecycleRule{
		{Action: &raw.BucketLifecycleRuleAction{Type: "SetStorageClass", StorageClass: "NEARLINE"},
			Condition: &raw.BucketLifecycleRuleCondition{Age: googleapi.Int64(7), MatchesPrefix: []string{"claude-code/"}}},
		deleteRule(90, "other/"),
		{Action: &raw.BucketLifecycleRuleAction{Type: "Delete"},
			Condition: &raw.BucketLifecycleRuleCondition{Age: googleapi.Int64(30), MatchesPrefix: []string{"claude-code/"}, MatchesSuffix: []string{".tmp"}}},
	}
	for _, tc := range []struct {
		name    string
		prefix  string
		before  []*raw.BucketLifecycleRule
		want    []string
		updates int // on the first start
	}{
		{name: "no lifecycle", prefix: "claude-code", want: []string{"Delete age=30 prefix=claude-code/"}, updates: 1},
		{name: "others kept", prefix: "claude-code", before: keep, updates: 1, want: []string{
			"SetStorageClass:NEARLINE age=7 prefix=claude-code/", "Delete age=90 prefix=other/",
			"Delete age=30 prefix=claude-code/ suffix=.tmp", "Delete age=30 prefix=claude-code/"}},
		{name: "already there", prefix: "claude-code", before: append(slices.Clone(keep), deleteRule(30, "claude-code/")), want: []string{
			"SetStorageClass:NEARLINE age=7 prefix=claude-code/", "Delete age=90 prefix=other/",
			"Delete age=30 prefix=claude-code/ suffix=.tmp", "Delete age=30 prefix=claude-code/"}},
		{name: "other age replaced in place", prefix: "claude-code", updates: 1,
			before: []*raw.BucketLifecycleRule{deleteRule(7, "claude-code/"), deleteRule(90, "other/")},
			want:   []string{"Delete age=30 prefix=claude-code/", "Delete age=90 prefix=other/"}},
		{name: "duplicates of ours removed", prefix: "claude-code", updates: 1,
			before: []*raw.BucketLifecycleRule{deleteRule(30, "claude-code/"), deleteRule(365, "claude-code/")},
			want:   []string{"Delete age=30 prefix=claude-code/"}},
		{name: "no prefix: the whole bucket", prefix: "", updates: 1,
			before: []*raw.BucketLifecycleRule{deleteRule(90, "other/")},
			want:   []string{"Delete age=90 prefix=other/", "Delete age=30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGCS(t)
			if tc.before != nil {
				f.setRules(tc.before...)
			}
			o := f.options()
			o.Prefix, o.RetentionDays = tc.prefix, 30
			for start := 1; start <= 2; start++ {
				started(t, o)
				if got := ruleTexts(f.rules()); !slices.Equal(got, tc.want) {
					t.Errorf("start %d: rules\n%q\nwant\n%q", start, got, tc.want)
				}
				updates := 0
				for _, c := range f.bucketLog() {
					if c == "PATCH" {
						updates++
					}
				}
				if updates != tc.updates {
					t.Errorf("start %d: %d updates in all; want %d", start, updates, tc.updates)
				}
			}
		})
	}
}

// A rule added by someone else between Start reading the lifecycle and updating it is kept:
// the update is conditional, and Start reads again and retries once.
func TestRetentionConcurrentChange(t *testing.T) {
	f := newFakeGCS(t)
	f.beforePatch = func(f *fakeGCS) {
		f.lifecycle = &raw.BucketLifecycle{Rule: []*raw.BucketLifecycleRule{deleteRule(1, "scratch/")}}
		f.metagen++
	}
	o := f.options()
	o.RetentionDays = 30
	started(t, o)
	want := []string{"Delete age=1 prefix=scratch/", "Delete age=30 prefix=claude-code/"}
	if got := ruleTexts(f.rules()); !slices.Equal(got, want) {
		t.Errorf("rules %q, want %q", got, want)
	}
	if got, want := f.bucketLog(), []string{"GET", "PATCH", "GET", "PATCH"}; !slices.Equal(got, want) {
		t.Errorf("bucket calls %q, want %q", got, want)
	}
}

// When the rule cannot be put in place, Start still succeeds (the gateway must not stop taking
// data over it), logs an error that says why and what to do, and keeps trying: once the fault
// is fixed the rule appears. Objects are written meanwhile.
func TestRetentionRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bucket string
		get    []int
		patch  int
		says   string
	}{
		{name: "update forbidden", patch: http.StatusForbidden,
			says: "bucket " + testBucket + ": the credentials may not change its lifecycle (storage.buckets.update, e.g. roles/storage.admin): set the 30-day delete rule yourself or set retention_days = 0"},
		{name: "read forbidden", get: []int{http.StatusForbidden, http.StatusForbidden},
			says: "bucket " + testBucket + ": the credentials may not read its lifecycle (storage.buckets.get, e.g. roles/storage.admin): grant it, or set the 30-day delete rule yourself and retention_days = 0"},
		{name: "no such bucket", bucket: "no-such-bucket", says: "bucket no-such-bucket does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGCS(t)
			f.getFails, f.patchStatus = tc.get, tc.patch
			o := f.options()
			o.RetentionDays = 30
			if tc.bucket != "" {
				o.Bucket = tc.bucket
			}
			logs := &testlog.Buffer{}
			o.Logger = slog.New(slog.NewTextHandler(logs, nil))
			w := built(t, o)
			w.retentionRetry = 20 * time.Millisecond
			if err := w.Start(context.Background()); err != nil {
				t.Fatalf("Start: %v; want it to start and keep trying", err)
			}
			if !strings.Contains(logs.String(), tc.says) || !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("the log does not say %q as an error:\n%s", tc.says, logs.String())
			}
			if len(f.rules()) != 0 {
				t.Errorf("rules changed: %q", ruleTexts(f.rules()))
			}
			err := w.Write(context.Background(), loadCaptured(t, "01-prompt-pii-grpc/traces.grpc.pb"))
			if tc.bucket != "" {
				// No bucket, no object: retried until someone creates it, never dead-lettered.
				if err == nil || sinks.IsPermanent(err) {
					t.Fatalf("Write to a missing bucket = %v, want a retryable error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Write while the rule is missing: %v", err)
			}
			f.mu.Lock()
			f.getFails, f.patchStatus = nil, 0
			f.mu.Unlock()
			deadline := time.Now().Add(10 * time.Second)
			for want := []string{"Delete age=30 prefix=claude-code/"}; !slices.Equal(ruleTexts(f.rules()), want); {
				if time.Now().After(deadline) {
					t.Fatalf("rules %q 10s after the fault was fixed, want %q", ruleTexts(f.rules()), want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// A moment's trouble reaching the bucket at start is ridden out.
func TestRetentionTransientFailure(t *testing.T) {
	f := newFakeGCS(t)
	f.getFails = []int{http.StatusServiceUnavailable}
	o := f.options()
	o.RetentionDays = 30
	started(t, o)
	if got, want := ruleTexts(f.rules()), []string{"Delete age=30 prefix=claude-code/"}; !slices.Equal(got, want) {
		t.Errorf("rules %q, want %q", got, want)
	}
	if got, want := f.bucketLog(), []string{"GET", "GET", "PATCH"}; !slices.Equal(got, want) {
		t.Errorf("bucket calls %q, want %q", got, want)
	}
}

// Without retention_days Start asks the bucket nothing: the gateway starts offline too.
func TestNoRetentionNoBucketCalls(t *testing.T) {
	f := newFakeGCS(t)
	started(t, f.options())
	if calls := f.bucketLog(); len(calls) != 0 {
		t.Errorf("bucket calls %q; want none", calls)
	}
}

// An unreachable bucket does not hold Start past its context, nor stop it: the sink starts and
// keeps trying in the background.
func TestStartBoundedByContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Accepts connections and never answers.
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	w := built(t, Options{Name: "audit", Bucket: testBucket, RetentionDays: 30, Host: "h",
		Google: gcp.Options{Endpoint: "http://" + l.Addr().String(), Insecure: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Start against a server that never answers: %v; want it to start and keep trying", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start still running 10s after its context ended")
	}
}

// withRetention on its own: the rule set it makes from the one it finds.
func TestWithRetention(t *testing.T) {
	ours := retentionRule(30, "p")
	other := storage.LifecycleRule{Action: storage.LifecycleAction{Type: storage.DeleteAction},
		Condition: storage.LifecycleCondition{AgeInDays: 30, MatchesPrefix: []string{"p/"}, Liveness: storage.Archived}}
	rules, old, changed := withRetention([]storage.LifecycleRule{other}, 30, "p")
	if !changed || old != 0 || len(rules) != 2 {
		t.Errorf("a delete rule for archived versions only is not ours: %v %v %v", rules, old, changed)
	}
	rules, old, changed = withRetention([]storage.LifecycleRule{retentionRule(10, "p")}, 30, "p")
	if !changed || old != 10 || len(rules) != 1 || rules[0].Condition.AgeInDays != 30 {
		t.Errorf("another age: %v %v %v", rules, old, changed)
	}
	if _, _, changed := withRetention([]storage.LifecycleRule{other, ours}, 30, "p"); changed {
		t.Error("an unchanged rule set was changed")
	}
	if isRetentionRule(retentionRule(30, ""), "p") || isRetentionRule(ours, "") {
		t.Error("a rule of one prefix taken for another's")
	}
}
