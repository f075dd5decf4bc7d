package faketrace

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/trace/apiv2/tracepb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	traceHex = "0af7651916cd43dd8448eb211c80319c"
	spanHex  = "b7ad6b7169203331"
)

func dial(t *testing.T, s *Server) tracepb.TraceServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return tracepb.NewTraceServiceClient(conn)
}

func ts(s string) *tracepb.TruncatableString { return &tracepb.TruncatableString{Value: s} }

func strAttr(s string) *tracepb.AttributeValue {
	return &tracepb.AttributeValue{Value: &tracepb.AttributeValue_StringValue{StringValue: ts(s)}}
}

// goodSpan is a span Cloud Trace takes.
func goodSpan() *tracepb.Span {
	start := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	return &tracepb.Span{
		Name:         "projects/p/traces/" + traceHex + "/spans/" + spanHex,
		SpanId:       spanHex,
		ParentSpanId: "00f067aa0ba902b7",
		DisplayName:  ts("claude_code.tool"),
		StartTime:    timestamppb.New(start),
		EndTime:      timestamppb.New(start.Add(time.Millisecond)),
		Attributes:   &tracepb.Span_Attributes{AttributeMap: map[string]*tracepb.AttributeValue{"tool_name": strAttr("Bash")}},
	}
}

func attrs(n, keyLen, valueLen int) *tracepb.Span_Attributes {
	m := map[string]*tracepb.AttributeValue{}
	for i := range n {
		k := strings.Repeat("k", keyLen-3) + string(rune('a'+i/26%26)) + string(rune('a'+i%26)) + "x"
		m[k] = strAttr(strings.Repeat("v", valueLen))
	}
	return &tracepb.Span_Attributes{AttributeMap: m}
}

func annotations(n, attrsEach int) *tracepb.Span_TimeEvents {
	te := &tracepb.Span_TimeEvents{}
	for range n {
		te.TimeEvent = append(te.TimeEvent, &tracepb.Span_TimeEvent{
			Time: timestamppb.Now(),
			Value: &tracepb.Span_TimeEvent_Annotation_{Annotation: &tracepb.Span_TimeEvent_Annotation{
				Description: ts("event"), Attributes: attrs(attrsEach, 8, 1),
			}},
		})
	}
	return te
}

func links(n int) *tracepb.Span_Links {
	l := &tracepb.Span_Links{}
	for range n {
		l.Link = append(l.Link, &tracepb.Span_Link{TraceId: traceHex, SpanId: spanHex})
	}
	return l
}

// The fake takes what Cloud Trace takes and refuses, with INVALID_ARGUMENT and a reason, each
// thing it documents it does not.
func TestLimits(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	tests := []struct {
		name    string
		edit    func(*tracepb.BatchWriteSpansRequest)
		wantErr string // "" accepted
	}{
		{"good", func(r *tracepb.BatchWriteSpansRequest) {}, ""},
		{"at every limit", func(r *tracepb.BatchWriteSpansRequest) {
			sp := r.Spans[0]
			sp.DisplayName = ts(strings.Repeat("d", 128))
			sp.Attributes = attrs(32, 128, 256)
			sp.TimeEvents = annotations(32, 4)
			sp.Links = links(128)
			sp.EndTime = sp.StartTime
		}, ""},
		{"request name", func(r *tracepb.BatchWriteSpansRequest) { r.Name = "p" }, "want projects/[PROJECT_ID]"},
		{"no spans", func(r *tracepb.BatchWriteSpansRequest) { r.Spans = nil }, "at least one span"},
		{"span in another project", func(r *tracepb.BatchWriteSpansRequest) {
			r.Spans[0].Name = strings.Replace(r.Spans[0].Name, "projects/p/", "projects/q/", 1)
		}, `not in project "p"`},
		{"upper-case trace id", func(r *tracepb.BatchWriteSpansRequest) {
			r.Spans[0].Name = strings.Replace(r.Spans[0].Name, traceHex, strings.ToUpper(traceHex), 1)
		}, "hex digits"},
		{"short span id", func(r *tracepb.BatchWriteSpansRequest) {
			r.Spans[0].Name = strings.TrimSuffix(r.Spans[0].Name, "1")
		}, "hex digits"},
		{"zero trace id", func(r *tracepb.BatchWriteSpansRequest) {
			r.Spans[0].Name = strings.Replace(r.Spans[0].Name, traceHex, strings.Repeat("0", 32), 1)
		}, "must not be zero"},
		{"span_id differs", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].SpanId = "00f067aa0ba902b7" }, "differs from the name"},
		{"bad parent", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].ParentSpanId = "xyz" }, "parent_span_id"},
		{"no display name", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].DisplayName = nil }, "display_name: required"},
		{"long display name", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].DisplayName = ts(strings.Repeat("d", 129)) }, "display_name: 129 bytes"},
		{"no start time", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].StartTime = nil }, "required"},
		{"ends before it starts", func(r *tracepb.BatchWriteSpansRequest) {
			r.Spans[0].EndTime = timestamppb.New(r.Spans[0].StartTime.AsTime().Add(-time.Nanosecond))
		}, "before start_time"},
		{"33 attributes", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].Attributes = attrs(33, 8, 1) }, "33 attributes, at most 32"},
		{"long key", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].Attributes = attrs(1, 129, 1) }, "key of 129 bytes"},
		{"long value", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].Attributes = attrs(1, 8, 257) }, "257 bytes, at most 256"},
		{"value of no kind", func(r *tracepb.BatchWriteSpansRequest) {
			r.Spans[0].Attributes.AttributeMap["x"] = &tracepb.AttributeValue{}
		}, "no value"},
		{"negative truncated count", func(r *tracepb.BatchWriteSpansRequest) {
			r.Spans[0].DisplayName = &tracepb.TruncatableString{Value: "x", TruncatedByteCount: -1}
		}, "negative"},
		{"33 annotations", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].TimeEvents = annotations(33, 0) }, "33 annotations"},
		{"5 attributes on an annotation", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].TimeEvents = annotations(1, 5) }, "5 attributes, at most 4"},
		{"129 links", func(r *tracepb.BatchWriteSpansRequest) { r.Spans[0].Links = links(129) }, "129 links"},
		{"link to a bad id", func(r *tracepb.BatchWriteSpansRequest) {
			r.Spans[0].Links = links(1)
			r.Spans[0].Links.Link[0].SpanId = "0"
		}, "link[0]"},
		{"too large", func(r *tracepb.BatchWriteSpansRequest) {
			// The size is checked first, before the display name's length.
			r.Spans[0].DisplayName = ts(strings.Repeat("d", MaxRequestBytes))
		}, "request payload size exceeds the limit: 10485760 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &tracepb.BatchWriteSpansRequest{Name: "projects/p", Spans: []*tracepb.Span{goodSpan()}}
			tt.edit(req)
			before := len(s.Spans())
			_, err := c.BatchWriteSpans(context.Background(), req)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got := s.Spans(); len(got) != before+len(req.Spans) || !proto.Equal(got[before], req.Spans[0]) {
					t.Error("the accepted span was not recorded as sent")
				}
				return
			}
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tt.wantErr) {
				t.Fatalf("err = %v, want INVALID_ARGUMENT saying %q", err, tt.wantErr)
			}
			if len(s.Spans()) != before {
				t.Error("a refused request was recorded")
			}
			if r := s.Refusals(); len(r) == 0 || !strings.Contains(r[len(r)-1], tt.wantErr) {
				t.Errorf("Refusals = %q", r)
			}
		})
	}
}

// FailNext fails the next calls in order, with RetryInfo when asked, and then serves again.
func TestFailNext(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	s.FailNext(2, codes.Unavailable, 0)
	s.FailNext(1, codes.ResourceExhausted, 1500*time.Millisecond)
	req := &tracepb.BatchWriteSpansRequest{Name: "projects/p", Spans: []*tracepb.Span{goodSpan()}}
	for i, want := range []codes.Code{codes.Unavailable, codes.Unavailable, codes.ResourceExhausted, codes.OK} {
		_, err := c.BatchWriteSpans(context.Background(), req)
		if status.Code(err) != want {
			t.Fatalf("call %d: %v, want %v", i, err, want)
		}
		if want == codes.ResourceExhausted {
			var delay time.Duration
			for _, d := range status.Convert(err).Details() {
				if ri, ok := d.(*errdetails.RetryInfo); ok {
					delay = ri.GetRetryDelay().AsDuration()
				}
			}
			if delay != 1500*time.Millisecond {
				t.Errorf("RetryInfo delay = %v, want 1.5s", delay)
			}
		}
	}
	if s.Calls() != 4 || len(s.Requests()) != 1 || len(s.Spans()) != 1 || len(s.Refusals()) != 0 {
		t.Errorf("calls %d, requests %d, spans %d, refusals %d; want 4, 1, 1, 0", s.Calls(), len(s.Requests()), len(s.Spans()), len(s.Refusals()))
	}
}

// What the accessors return is the test's to change; the fake's record stays as it was.
func TestCopies(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	req := &tracepb.BatchWriteSpansRequest{Name: "projects/p", Spans: []*tracepb.Span{goodSpan()}}
	if _, err := c.BatchWriteSpans(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	s.Spans()[0].SpanId = "changed"
	s.Requests()[0].Spans[0].SpanId = "changed"
	if s.Spans()[0].GetSpanId() != spanHex || s.Requests()[0].Spans[0].GetSpanId() != spanHex {
		t.Error("changing what an accessor returned changed the fake's record")
	}
	if _, err := c.CreateSpan(context.Background(), goodSpan()); err != nil {
		t.Fatalf("CreateSpan: %v", err)
	}
	bad := goodSpan()
	bad.Attributes = attrs(33, 8, 1)
	if _, err := c.CreateSpan(context.Background(), bad); status.Code(err) != codes.InvalidArgument {
		t.Errorf("CreateSpan with 33 attributes: %v", err)
	}
	if n := len(s.Spans()); n != 2 {
		t.Errorf("%d spans, want 2", n)
	}
}
