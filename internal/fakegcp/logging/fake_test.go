package fakelogging

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// client calls the fake over a plain gRPC connection, so that what the fake answers is seen
// as it is, with no library retrying in between.
func client(t *testing.T, s *Server) loggingpb.LoggingServiceV2Client {
	t.Helper()
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return loggingpb.NewLoggingServiceV2Client(conn)
}

func write(t *testing.T, c loggingpb.LoggingServiceV2Client, req *loggingpb.WriteLogEntriesRequest) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.WriteLogEntries(ctx, req)
	return err
}

func resource() *monitoredres.MonitoredResource {
	return &monitoredres.MonitoredResource{Type: "global", Labels: map[string]string{"project_id": "p"}}
}

func entries(n int, textPayload string) []*loggingpb.LogEntry {
	out := make([]*loggingpb.LogEntry, n)
	for i := range out {
		out[i] = &loggingpb.LogEntry{Payload: &loggingpb.LogEntry_TextPayload{TextPayload: textPayload}}
	}
	return out
}

func request(es ...*loggingpb.LogEntry) *loggingpb.WriteLogEntriesRequest {
	return &loggingpb.WriteLogEntriesRequest{LogName: "projects/p/logs/claude_code", Resource: resource(), Entries: es}
}

// A good request is written, and each entry is stored with the request's log name, resource
// and labels unless it has its own.
func TestWriteFillsDefaults(t *testing.T) {
	s := Start(t)
	c := client(t, s)
	own := &loggingpb.LogEntry{LogName: "projects/p/logs/other", Labels: map[string]string{"a": "entry"}}
	req := request(&loggingpb.LogEntry{InsertId: "1"}, own)
	req.Labels = map[string]string{"a": "request", "b": "request"}
	if err := write(t, c, req); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := s.Entries()
	if len(got) != 2 {
		t.Fatalf("%d entries stored, want 2", len(got))
	}
	if got[0].LogName != "projects/p/logs/claude_code" || got[0].Resource.GetType() != "global" || got[0].Labels["a"] != "request" {
		t.Errorf("entry without its own fields stored as %v", got[0])
	}
	if got[1].LogName != "projects/p/logs/other" || got[1].Labels["a"] != "entry" || got[1].Labels["b"] != "request" {
		t.Errorf("entry with its own fields stored as %v", got[1])
	}
	if n := len(s.Requests()); n != 1 || s.Calls() != 1 {
		t.Errorf("%d requests recorded in %d calls, want 1", n, s.Calls())
	}
}

// What breaks Cloud Logging's limits is refused with INVALID_ARGUMENT and nothing is written,
// partial_success or not, when the request as a whole is at fault; with partial_success, an
// entry at fault is refused alone.
func TestLimits(t *testing.T) {
	big := strings.Repeat("x", MaxEntryBytes)
	almost := strings.Repeat("x", 200<<10)
	tests := []struct {
		name    string
		req     *loggingpb.WriteLogEntriesRequest
		written int   // with partial_success
		refused []int // entries in the partial errors
	}{
		{name: "no entries", req: request()},
		{name: "1001 entries", req: request(entries(MaxEntries+1, "e")...)},
		{name: "over 10 MiB", req: request(entries(MaxRequestBytes/len(almost)+1, almost)...)},
		{name: "entry over 256 KiB", req: request(append(entries(2, "ok"), entries(1, big)...)...), written: 2, refused: []int{2}},
		{name: "log id with a raw slash", req: withLogName("projects/p/logs/a/b"), refused: []int{0}},
		{name: "log id with a space", req: withLogName("projects/p/logs/a%20b"), refused: []int{0}},
		{name: "log id too long", req: withLogName("projects/p/logs/" + strings.Repeat("a", MaxLogIDLen+1)), refused: []int{0}},
		{name: "not a log name", req: withLogName("claude_code"), refused: []int{0}},
		{name: "no log name", req: withLogName(""), refused: []int{0}},
		{name: "no resource", req: &loggingpb.WriteLogEntriesRequest{LogName: "projects/p/logs/x", Entries: entries(1, "e")}, refused: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t)
			c := client(t, s)
			err := write(t, c, tt.req)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("write: %v, want INVALID_ARGUMENT", err)
			}
			if n := len(s.Entries()); n != 0 {
				t.Errorf("%d entries written by a refused request", n)
			}
			tt.req.PartialSuccess = true
			err = write(t, c, tt.req)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("write with partial_success: %v, want INVALID_ARGUMENT", err)
			}
			if n := len(s.Entries()); n != tt.written {
				t.Errorf("%d entries written with partial_success, want %d", n, tt.written)
			}
			if got := partialIndexes(err); !equal(got, tt.refused) {
				t.Errorf("partial errors for entries %v, want %v", got, tt.refused)
			}
		})
	}
}

func withLogName(name string) *loggingpb.WriteLogEntriesRequest {
	r := request(entries(1, "e")...)
	r.LogName = name
	return r
}

// The log id may hold a '/' URL-encoded, and may be 512 characters long.
func TestLogNameEncoded(t *testing.T) {
	s := Start(t)
	c := client(t, s)
	for _, name := range []string{
		"projects/p/logs/team%2Fclaude_code",
		"projects/p/logs/" + strings.Repeat("a", MaxLogIDLen),
		"organizations/123/logs/claude_code",
	} {
		if err := write(t, c, withLogName(name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// RejectEntry refuses the entries it picks: alone with partial_success, with the whole
// request without it.
func TestRejectEntry(t *testing.T) {
	s := Start(t)
	c := client(t, s)
	s.RejectEntry(func(e *loggingpb.LogEntry) bool { return e.GetTextPayload() == "bad" })
	mixed := func() *loggingpb.WriteLogEntriesRequest {
		return request(append(append(entries(1, "good"), entries(1, "bad")...), entries(1, "good")...)...)
	}
	if err := write(t, c, mixed()); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("write without partial_success: %v, want INVALID_ARGUMENT", err)
	}
	if n := len(s.Entries()); n != 0 {
		t.Fatalf("%d entries written without partial_success", n)
	}
	req := mixed()
	req.PartialSuccess = true
	err := write(t, c, req)
	if got := partialIndexes(err); !equal(got, []int{1}) {
		t.Fatalf("partial errors for entries %v (%v), want [1]", got, err)
	}
	got := s.Entries()
	if len(got) != 2 || got[0].GetTextPayload() != "good" || got[1].GetTextPayload() != "good" {
		t.Errorf("written: %v, want the two good entries", got)
	}
	s.RejectEntry(nil)
	if err := write(t, c, mixed()); err != nil {
		t.Errorf("write after RejectEntry(nil): %v", err)
	}
}

// FailNext fails the calls it was asked to, in order, records them, and writes nothing; a
// nil status lets a call through.
func TestFailNext(t *testing.T) {
	s := Start(t)
	c := client(t, s)
	s.FailNext(2, status.New(codes.Unavailable, "down"))
	s.FailNext(1, nil)
	s.FailNext(1, status.New(codes.ResourceExhausted, "quota"))
	for _, want := range []codes.Code{codes.Unavailable, codes.Unavailable, codes.OK, codes.ResourceExhausted, codes.OK} {
		if err := write(t, c, request(entries(1, "e")...)); status.Code(err) != want {
			t.Errorf("write: %v, want %s", err, want)
		}
	}
	if n := len(s.Entries()); n != 2 {
		t.Errorf("%d entries written, want the two of the calls that succeeded", n)
	}
	if n := len(s.Requests()); n != 5 || s.Calls() != 5 {
		t.Errorf("%d requests recorded in %d calls, want 5", n, s.Calls())
	}
	s.FailNext(1, status.New(codes.Unavailable, "down"))
	s.Reset()
	if len(s.Entries()) != 0 || len(s.Requests()) != 0 || s.Calls() != 0 {
		t.Error("Reset kept recordings")
	}
	if err := write(t, c, request(entries(1, "e")...)); status.Code(err) != codes.Unavailable {
		t.Errorf("write after Reset: %v, want the failure queued before it", err)
	}
}

// A dry run is checked and not written.
func TestDryRun(t *testing.T) {
	s := Start(t)
	req := request(entries(1, "e")...)
	req.DryRun = true
	if err := write(t, client(t, s), req); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Entries()); n != 0 {
		t.Errorf("dry run wrote %d entries", n)
	}
}

func partialIndexes(err error) []int {
	var out []int
	for _, d := range status.Convert(err).Details() {
		if pe, ok := d.(*loggingpb.WriteLogEntriesPartialErrors); ok {
			for i := range pe.GetLogEntryErrors() {
				out = append(out, int(i))
			}
		}
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[int]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}
