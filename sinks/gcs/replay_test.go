package gcs

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/telemetry"
)

// Every captured request, replayed twice through the delivery engine, each replay by a writer
// and engine of its own as after a restart: every record is in the bucket twice, field for
// field, in objects named and partitioned by their content. Data received twice is archived
// twice (a retry is what makes one object, not equal content); with one request per batch, each
// request is in exactly two objects and no upload found its name taken.
func TestReplayCaptured(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch config.Batch
		same  bool // one request per batch
	}{
		{"one request per batch", config.Batch{MaxRecords: 1}, true},
		{"merged batches", config.Batch{MaxWait: config.Duration(20 * time.Millisecond)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGCS(t)
			sent := captured(t)
			records := map[telemetry.Signal]float64{}
			for _, r := range sent {
				records[r.Signal()] += float64(r.Records())
			}
			for replay := 1; replay <= 2; replay++ {
				m := admin.NewTestMetrics()
				s := engine(t, built(t, f.options()), tc.batch, "", m)
				for _, r := range sent {
					put(t, s, r)
				}
				drain(t, s)
				for _, sig := range telemetry.Signals {
					sentN := testutil.ToFloat64(m.SentRecords.WithLabelValues("audit", sig.String()))
					failedN := testutil.ToFloat64(m.FailedRecords.WithLabelValues("audit", sig.String()))
					if sentN != records[sig] || failedN != 0 {
						t.Errorf("replay %d: %s: the engine counts %v records sent and %v failed; want %v and 0",
							replay, sig, sentN, failedN, records[sig])
					}
				}
			}
			objs := f.objects(t)
			checkObjects(t, objs)

			bySignal := map[telemetry.Signal][]telemetry.Request{}
			for _, r := range sent {
				bySignal[r.Signal()] = append(bySignal[r.Signal()], r)
			}
			got := map[telemetry.Signal][]telemetry.Request{}
			for _, o := range objs {
				got[o.parsed.signal] = append(got[o.parsed.signal], o.lines...)
			}
			for _, sig := range telemetry.Signals {
				want, have := recordKeys(t, bySignal[sig]), recordKeys(t, got[sig])
				if len(want) == 0 {
					t.Fatalf("%s: nothing captured", sig)
				}
				for k, n := range want {
					if have[k] != 2*n {
						t.Errorf("%s: a record sent %d times per replay is in the bucket %d times; want %d", sig, n, have[k], 2*n)
					}
				}
				for k := range have {
					if want[k] == 0 {
						t.Errorf("%s: the bucket holds a record that was never sent", sig)
					}
				}
			}
			for _, u := range f.uploadLog() {
				if u.query.Get("ifGenerationMatch") != "0" {
					t.Errorf("an upload without the does-not-exist precondition: %v", u.query)
				}
				if u.status == 412 {
					t.Errorf("an upload found its object there: a batch received again was taken for a retry")
				}
			}

			if !tc.same {
				return
			}
			if len(objs) != 2*len(sent) {
				t.Fatalf("%d objects for %d requests sent twice", len(objs), len(sent))
			}
			for _, r := range sent {
				found := 0
				for _, o := range objs {
					if o.parsed.signal == r.Signal() && proto.Equal(telemetry.Merge(o.lines).Message(), r.Message()) {
						found++
					}
				}
				if found != 2 {
					t.Errorf("a %s request is in %d objects, field for field; want 2", r.Signal(), found)
				}
			}
		})
	}
}

// checkObjects checks what a user of the bucket relies on in every object: its name's prefix,
// host and partitions, a name derived from the content, and metadata that keeps it a .gz file.
func checkObjects(t *testing.T, objs []object) {
	t.Helper()
	if len(objs) == 0 {
		t.Fatal("no objects in the bucket")
	}
	for _, o := range objs {
		name, p := o.attrs.Name, o.parsed
		if p.prefix != "claude-code" || p.host != "dev-laptop" {
			t.Errorf("%s: prefix %q and host %q, want claude-code and dev-laptop", name, p.prefix, p.host)
		}
		sum := sha256.Sum256(o.data)
		if want := hex.EncodeToString(sum[:16]); p.unique != want {
			t.Errorf("%s: unique part %s, want the content's hash %s", name, p.unique, want)
		}
		if o.attrs.ContentType != "application/x-ndjson" || o.attrs.ContentEncoding != "" {
			t.Errorf("%s: Content-Type %q, Content-Encoding %q; want application/x-ndjson and none",
				name, o.attrs.ContentType, o.attrs.ContentEncoding)
		}
		var times []time.Time
		for i, line := range o.lines {
			if n := resources(line); n != 1 {
				t.Errorf("%s line %d: %d resources; want one per line", name, i+1, n)
			}
			for _, one := range splitRecords(line) {
				if at, ok := recordTime(one); ok {
					times = append(times, at)
				}
			}
		}
		if len(times) == 0 {
			t.Errorf("%s: no record with a time", name)
			continue
		}
		start, err := time.Parse("2006-01-02 15", p.date+" "+p.hour)
		if err != nil {
			t.Fatal(err)
		}
		inHour := false
		for _, at := range times {
			if at.Before(start) {
				t.Errorf("%s: a record of %s is earlier than its partition", name, at)
			}
			inHour = inHour || at.Before(start.Add(time.Hour))
		}
		if !inHour {
			t.Errorf("%s: no record in the partition's hour: it is not the earliest record's", name)
		}
	}
}

func resources(r telemetry.Request) int {
	switch {
	case r.Logs != nil:
		return len(r.Logs.ResourceLogs)
	case r.Metrics != nil:
		return len(r.Metrics.ResourceMetrics)
	case r.Traces != nil:
		return len(r.Traces.ResourceSpans)
	}
	return 0
}

// recordTime is the time a request of one record (see splitRecords) is partitioned by; for a
// metric, its earliest data point's.
func recordTime(r telemetry.Request) (time.Time, bool) {
	var ns uint64
	switch {
	case r.Logs != nil:
		l := r.Logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
		ns = l.TimeUnixNano
		if ns == 0 {
			ns = l.ObservedTimeUnixNano
		}
	case r.Metrics != nil:
		m := r.Metrics.ResourceMetrics[0].ScopeMetrics[0].Metrics[0]
		var ts []uint64
		for _, p := range m.GetSum().GetDataPoints() {
			ts = append(ts, p.TimeUnixNano)
		}
		for _, p := range m.GetGauge().GetDataPoints() {
			ts = append(ts, p.TimeUnixNano)
		}
		for _, p := range m.GetHistogram().GetDataPoints() {
			ts = append(ts, p.TimeUnixNano)
		}
		for _, t := range ts {
			if t != 0 && (ns == 0 || t < ns) {
				ns = t
			}
		}
	case r.Traces != nil:
		ns = r.Traces.ResourceSpans[0].ScopeSpans[0].Spans[0].StartTimeUnixNano
	}
	return time.Unix(0, int64(ns)).UTC(), ns != 0
}
