package ingest

import (
	"context"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/protobuf/proto"
)

// Every captured protobuf request, over gRPC and over OTLP/HTTP, plain and gzip, arrives at the
// consumer exactly as Claude Code sent it, and is acknowledged with an empty response.
func TestReplayProtobuf(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := start(t, testConfig(), rec)
	for _, f := range fixtures(t) {
		if f.kind == "http.json" {
			continue
		}
		want := f.request(t)
		for _, tc := range []struct {
			name string
			send func(t *testing.T)
		}{
			{"grpc", func(t *testing.T) {
				resp, err := h.exportGRPC(context.Background(), want)
				if err != nil {
					t.Fatalf("Export: %v", err)
				}
				if !proto.Equal(resp, emptyResponse(f.sig)) {
					t.Errorf("response = %v, want an empty one", resp)
				}
			}},
			{"grpc-gzip", func(t *testing.T) {
				if _, err := h.exportGRPC(context.Background(), want, grpc.UseCompressor(grpcgzip.Name)); err != nil {
					t.Fatalf("Export: %v", err)
				}
			}},
			{"http", func(t *testing.T) {
				r := h.post(t, "/v1/"+f.sig.String(), mediaProtobuf, "", f.data)
				checkAcknowledged(t, r, f.sig, mediaProtobuf)
			}},
			{"http-gzip", func(t *testing.T) {
				r := h.post(t, "/v1/"+f.sig.String(), mediaProtobufAlt, "gzip", gzipped(t, f.data))
				checkAcknowledged(t, r, f.sig, mediaProtobufAlt)
			}},
		} {
			t.Run(f.name+"/"+tc.name, func(t *testing.T) {
				transport := strings.TrimSuffix(tc.name, "-gzip")
				counter := h.metrics.ReceivedRecords.WithLabelValues(f.sig.String(), transport)
				before, n := testutil.ToFloat64(counter), rec.count()
				tc.send(t)
				if rec.count() != n+1 {
					t.Fatalf("the consumer got %d requests, want 1", rec.count()-n)
				}
				got := rec.last(t)
				if got.Signal() != f.sig || !proto.Equal(got.Message(), want.Message()) {
					t.Errorf("the consumer got a request different from the one sent")
				}
				if d := testutil.ToFloat64(counter) - before; d != float64(want.Records()) {
					t.Errorf("received_records_total{signal=%q,transport=%q} went up by %v, want %d", f.sig, transport, d, want.Records())
				}
			})
		}
	}
}

// Every captured OTLP/JSON request arrives as the OTLP/JSON codec decodes it, with its trace and
// span ids the bytes the hex in the file says.
func TestReplayJSON(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := start(t, testConfig(), rec)
	for _, f := range fixtures(t) {
		if f.kind != "http.json" {
			continue
		}
		want := telemetry.Empty(f.sig)
		if err := otlpjson.Unmarshal(f.data, want.Message()); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, gz := range []bool{false, true} {
			name, body, enc := f.name, f.data, ""
			if gz {
				name, body, enc = name+"/gzip", gzipped(t, f.data), "gzip"
			}
			t.Run(name, func(t *testing.T) {
				n := rec.count()
				r := h.post(t, "/v1/"+f.sig.String(), "application/json; charset=utf-8", enc, body)
				checkAcknowledged(t, r, f.sig, mediaJSON)
				if rec.count() != n+1 {
					t.Fatalf("the consumer got %d requests, want 1", rec.count()-n)
				}
				got := rec.last(t)
				if !proto.Equal(got.Message(), want.Message()) {
					t.Errorf("the consumer got a request different from what otlpjson decodes the file to")
				}
				gotIDs, wantIDs := idsOf(got), idsInJSON(f.data)
				if !slices.Equal(gotIDs, wantIDs) {
					t.Errorf("ids received:\n%v\nids in the file:\n%v", gotIDs, wantIDs)
				}
			})
		}
	}
}

func checkAcknowledged(t *testing.T, r response, sig telemetry.Signal, media string) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d, body %q; want 200", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != media {
		t.Errorf("Content-Type %q, want %q", ct, media)
	}
	got := emptyResponse(sig)
	var err error
	if media == mediaJSON {
		err = otlpjson.Unmarshal(r.body, got)
	} else {
		err = proto.Unmarshal(r.body, got)
	}
	if err != nil || !proto.Equal(got, emptyResponse(sig)) {
		t.Errorf("body %q is not an empty %s export response (%v)", r.body, sig, err)
	}
}

var jsonID = regexp.MustCompile(`"(traceId|spanId|parentSpanId)":"([0-9a-fA-F]+)"`)

// idsInJSON lists the non-empty ids written in an OTLP/JSON document, as "field=hex", sorted.
func idsInJSON(doc []byte) []string {
	var ids []string
	for _, m := range jsonID.FindAllSubmatch(doc, -1) {
		ids = append(ids, string(m[1])+"="+strings.ToLower(string(m[2])))
	}
	slices.Sort(ids)
	return ids
}

// idsOf lists the non-empty ids in a request the same way.
func idsOf(r telemetry.Request) []string {
	var ids []string
	add := func(field string, id []byte) {
		if len(id) > 0 {
			ids = append(ids, field+"="+hex.EncodeToString(id))
		}
	}
	for _, rl := range r.Logs.GetResourceLogs() {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				add("traceId", lr.TraceId)
				add("spanId", lr.SpanId)
			}
		}
	}
	for _, rs := range r.Traces.GetResourceSpans() {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				add("traceId", sp.TraceId)
				add("spanId", sp.SpanId)
				add("parentSpanId", sp.ParentSpanId)
				for _, l := range sp.Links {
					add("traceId", l.TraceId)
					add("spanId", l.SpanId)
				}
			}
		}
	}
	slices.Sort(ids)
	return ids
}
