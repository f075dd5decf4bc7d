package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	var log logBuffer
	s, rec := mustOpen(t, opts(filepath.Join(t.TempDir(), "state", "spool", "otlp"), &log))
	if rec != (Recovered{}) {
		t.Errorf("a new spool recovered %+v", rec)
	}
	if _, ok, err := s.TryNext(); ok || err != nil {
		t.Fatalf("TryNext on an empty spool = %v, %v; want nothing", ok, err)
	}
	// Empty, small, and larger than the read buffer.
	want := [][]byte{{}, []byte("one export request"), bytes.Repeat([]byte("0123456789abcdef"), 20_000)}
	before := time.Now()
	mustAppend(t, s, want...)
	after := time.Now()

	var got []Record
	for range want {
		got = append(got, mustNext(t, s))
	}
	for i, r := range got {
		if !bytes.Equal(r.Data, want[i]) {
			t.Errorf("record %d: got %d bytes %.20q, want %d bytes %.20q", i, len(r.Data), r.Data, len(want[i]), want[i])
		}
		if r.Appended.Before(before.Truncate(0)) || r.Appended.After(after) {
			t.Errorf("record %d: appended at %v, not between %v and %v", i, r.Appended, before, after)
		}
		if i > 0 && r.ID <= got[i-1].ID {
			t.Errorf("IDs not increasing: %v", ids(got))
		}
	}
	if _, ok, _ := s.TryNext(); ok {
		t.Error("TryNext returned a record after all were handed out")
	}
	st := s.Stats()
	wantBytes := int64(len(want[1]) + len(want[2]))
	if st.Records != 3 || st.Bytes != wantBytes || st.DiskBytes != wantBytes+3*headerSize {
		t.Errorf("Stats = %+v; want 3 records, %d bytes, %d on disk", st, wantBytes, wantBytes+3*headerSize)
	}
	if !st.Oldest.Equal(got[0].Appended) {
		t.Errorf("Stats.Oldest = %v; want the first record's %v", st.Oldest, got[0].Appended)
	}
	s.Ack(ids(got)...)
	if st := s.Stats(); st.Records != 0 || st.Bytes != 0 || !st.Oldest.IsZero() {
		t.Errorf("Stats after acking everything = %+v; want nothing waiting", st)
	}
}

func TestStatsOldest(t *testing.T) {
	var log logBuffer
	o := opts(t.TempDir(), &log)
	o.SegmentBytes = 2 * (headerSize + 50)
	s, _ := mustOpen(t, o)
	for i := range 4 {
		mustAppend(t, s, payload(i, 50))
	}
	// Nothing handed out yet: the oldest record's time comes from its header on disk.
	before := s.Stats().Oldest
	got := drain(t, s)
	if !before.Equal(got[0].Appended) {
		t.Errorf("Oldest before reading = %v; want record 1's %v", before, got[0].Appended)
	}
	steps := []struct {
		ack    uint64
		oldest time.Time
	}{
		{2, got[0].Appended}, // 1 still out
		{1, got[2].Appended},
		{4, got[2].Appended},
		{3, time.Time{}},
	}
	for _, st := range steps {
		s.Ack(st.ack)
		if o := s.Stats().Oldest; !o.Equal(st.oldest) {
			t.Errorf("after Ack(%d): Oldest = %v; want %v", st.ack, o, st.oldest)
		}
	}
	// Handed out and not acknowledged before a restart: the time survives it.
	mustAppend(t, s, payload(4, 50), payload(5, 50))
	r := mustNext(t, s)
	s.Ack(r.ID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ = mustOpen(t, o)
	next := mustNext(t, s)
	if o := s.Stats().Oldest; o.IsZero() || !o.Equal(next.Appended) {
		t.Errorf("after a restart, Oldest = %v; want record %d's %v", o, next.ID, next.Appended)
	}
}

func TestOrderAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	var log logBuffer
	o := opts(dir, &log)
	o.SegmentBytes = 1000
	s, _ := mustOpen(t, o)
	var want []string
	for i := range 200 {
		p := payload(i, 20+i*37%300)
		want = append(want, string(p))
		mustAppend(t, s, p)
	}
	segs := segments(t, dir)
	if len(segs) < 20 {
		t.Fatalf("%d segments for 200 records of up to 320 bytes in 1000-byte segments: %s", len(segs), names(segs))
	}
	var got []Record
	for range want {
		got = append(got, mustNext(t, s))
	}
	if !slices.Equal(texts(got), want) {
		t.Fatalf("records out of order or changed")
	}
	// Each segment is named after the ID of its first record.
	firsts := map[uint64]bool{}
	for i, r := range got {
		if i > 0 && r.ID != got[i-1].ID+1 {
			t.Fatalf("IDs not consecutive: %d after %d", r.ID, got[i-1].ID)
		}
		firsts[r.ID] = true
	}
	for _, p := range segs {
		first, ok := parseSegmentName(filepath.Base(p))
		if !ok || !firsts[first] {
			t.Errorf("segment %s is not named after a record ID", filepath.Base(p))
		}
	}
	s.Ack(ids(got)...)
	// All but the one being written.
	waitSegments(t, dir, filepath.Base(segs[len(segs)-1]))
}

func TestConcurrentAppendersAndReaders(t *testing.T) {
	dir := t.TempDir()
	var log logBuffer
	o := opts(dir, &log)
	o.SegmentBytes = 4096
	o.FsyncDelay = time.Millisecond
	s, _ := mustOpen(t, o)

	const writers, each, readers = 8, 150, 3
	type got struct {
		id   uint64
		data string
	}
	var (
		mu       sync.Mutex
		received []got
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rwg sync.WaitGroup
	for range readers {
		rwg.Go(func() {
			for {
				r, err := s.Next(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				received = append(received, got{r.ID, string(r.Data)})
				mu.Unlock()
				s.Ack(r.ID)
			}
		})
	}
	var wwg sync.WaitGroup
	for w := range writers {
		wwg.Go(func() {
			for i := range each {
				if err := s.Append(ctx, fmt.Appendf(nil, "%d %d %s", w, i, bytes.Repeat([]byte{'x'}, i))); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
			}
		})
	}
	wwg.Wait()
	waitFor(t, "every record to be received", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(received) >= writers*each
	})
	waitFor(t, "every acknowledgement", func() bool { return s.Stats().Records == 0 })
	cancel()
	rwg.Wait()

	slices.SortFunc(received, func(a, b got) int { return int(a.id) - int(b.id) })
	last := map[int]int{}
	seen := map[string]bool{}
	for _, g := range received {
		if seen[g.data] {
			t.Fatalf("record %.20q received twice", g.data)
		}
		seen[g.data] = true
		var w, i int
		fmt.Sscanf(g.data, "%d %d", &w, &i)
		if prev, ok := last[w]; ok && i != prev+1 {
			t.Fatalf("appender %d: record %d follows %d in ID order", w, i, prev)
		}
		last[w] = i
	}
	if len(received) != writers*each {
		t.Errorf("received %d records; want %d", len(received), writers*each)
	}
	if st := s.Stats(); st.Records != 0 || st.Bytes != 0 {
		t.Errorf("Stats after acking everything = %+v", st)
	}
	// All but the one being written.
	waitFor(t, "delivered segments to be deleted", func() bool { return len(segments(t, dir)) == 1 })
}

func TestOutOfOrderAcks(t *testing.T) {
	dir := t.TempDir()
	var log logBuffer
	o := opts(dir, &log)
	o.SegmentBytes = 3 * (headerSize + 100) // three records each
	s, _ := mustOpen(t, o)
	for i := range 9 {
		mustAppend(t, s, payload(i, 100))
	}
	got := drain(t, s)
	if !slices.Equal(ids(got), []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("IDs %v", ids(got))
	}
	steps := []struct {
		ack     []uint64
		records int
		segs    string
	}{
		{[]uint64{2, 3}, 7, "00000000000000000001.seg 00000000000000000004.seg 00000000000000000007.seg"},
		{[]uint64{5}, 6, "00000000000000000001.seg 00000000000000000004.seg 00000000000000000007.seg"},
		{[]uint64{1}, 5, "00000000000000000004.seg 00000000000000000007.seg"},
		{[]uint64{4, 4, 42}, 4, "00000000000000000004.seg 00000000000000000007.seg"}, // twice, and one never handed out
		{[]uint64{6}, 3, "00000000000000000007.seg"},
		{[]uint64{9, 8}, 1, "00000000000000000007.seg"},
		{[]uint64{7}, 0, "00000000000000000007.seg"}, // still being written
	}
	for _, st := range steps {
		s.Ack(st.ack...)
		if n := s.Stats().Records; n != st.records {
			t.Errorf("after Ack(%v): %d records waiting; want %d", st.ack, n, st.records)
		}
		waitSegments(t, dir, st.segs)
	}
	if st := s.Stats(); st.DiskBytes != 3*(headerSize+100) {
		t.Errorf("DiskBytes = %d; want the one segment left, %d", st.DiskBytes, 3*(headerSize+100))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, rec := mustOpen(t, o)
	if rec.Records != 0 {
		t.Errorf("reopened after acking everything: %+v", rec)
	}
	if segs := segments(t, dir); len(segs) != 0 {
		t.Errorf("a delivered segment survived Open: %s", names(segs))
	}
	mustAppend(t, s, []byte("after"))
	if r := mustNext(t, s); r.ID != 10 || string(r.Data) != "after" {
		t.Errorf("after reopening, got record %d %q; want 10 \"after\"", r.ID, r.Data)
	}
}

func TestRestartResumesAfterLastAck(t *testing.T) {
	dir := t.TempDir()
	var log logBuffer
	o := opts(dir, &log)
	o.SegmentBytes = 3 * (headerSize + 100)
	s, _ := mustOpen(t, o)
	for i := range 10 {
		mustAppend(t, s, payload(i, 100))
	}
	var first []Record
	for range 6 {
		first = append(first, mustNext(t, s))
	}
	// 1-4 and 6 delivered; 5 handed out and not; 7-10 never handed out.
	s.Ack(1, 2, 3, 6, 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	s, rec := mustOpen(t, o)
	want := Recovered{Records: 6, Bytes: 600, Weight: 6, MaybeDelivered: 2}
	if rec != want {
		t.Errorf("Recovered = %+v; want %+v", rec, want)
	}
	if st := s.Stats(); st.Records != 6 || st.Bytes != 600 || !st.Oldest.Equal(first[4].Appended) {
		t.Errorf("Stats after reopening = %+v; want 6 records, 600 bytes, oldest %v", st, first[4].Appended)
	}
	got := drain(t, s)
	if !slices.Equal(ids(got), []uint64{5, 6, 7, 8, 9, 10}) {
		t.Fatalf("after reopening, IDs %v; want 5-10", ids(got))
	}
	for _, r := range got[:2] {
		orig := first[r.ID-1]
		if !bytes.Equal(r.Data, orig.Data) || !r.Appended.Equal(orig.Appended) {
			t.Errorf("record %d changed across the restart", r.ID)
		}
	}
	if !bytes.Equal(got[5].Data, payload(9, 100)) {
		t.Errorf("record 10 = %q", got[5].Data)
	}
}

func TestDamagedStateFile(t *testing.T) {
	dir := t.TempDir()
	var log logBuffer
	o := opts(dir, &log)
	s, _ := mustOpen(t, o)
	for i := range 4 {
		mustAppend(t, s, payload(i, 50))
	}
	s.Ack(mustNext(t, s).ID, mustNext(t, s).ID)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateName), []byte("claude-otel-gw spool state 1\nacked 9"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, rec := mustOpen(t, o)
	// Nothing can be trusted to be delivered: the records still on disk all come again.
	if want := (Recovered{Records: 4, Bytes: 200, Weight: 4, MaybeDelivered: 4}); rec != want {
		t.Errorf("Recovered = %+v; want %+v", rec, want)
	}
	if got := ids(drain(t, s)); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Errorf("IDs %v; want 1-4", got)
	}
	if !bytes.Contains([]byte(log.String()), []byte("state file is damaged")) {
		t.Errorf("no warning about the state file in the log:\n%s", log.String())
	}
}

func TestStateWrittenPromptly(t *testing.T) {
	dir := t.TempDir()
	var log logBuffer
	s, _ := mustOpen(t, opts(dir, &log))
	for i := range 3 {
		mustAppend(t, s, payload(i, 50))
	}
	drain(t, s)
	s.Ack(2, 1)
	// Without Close: what a crash now would leave.
	waitFor(t, "the state file to say 1-2 delivered and 1-3 handed out", func() bool {
		acked, handed, err := loadState(dir)
		return err == nil && acked == 2 && handed == 3
	})
}

func TestStateFileFormat(t *testing.T) {
	b := formatState(1041, 1050)
	acked, handed, err := parseState(b)
	if err != nil || acked != 1041 || handed != 1050 {
		t.Fatalf("parseState(formatState(1041, 1050)) = %d, %d, %v\n%s", acked, handed, err, b)
	}
	for i := range b {
		bad := bytes.Clone(b)
		bad[i] ^= 0x01
		if _, _, err := parseState(bad); !errors.Is(err, errBadState) {
			t.Errorf("flipping a bit of byte %d went unnoticed:\n%s", i, bad)
		}
	}
	if _, _, err := parseState(b[:len(b)-3]); !errors.Is(err, errBadState) {
		t.Errorf("a cut state file went unnoticed")
	}
}

func TestCloseAndCancel(t *testing.T) {
	var log logBuffer
	s, _ := mustOpen(t, opts(t.TempDir(), &log))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := s.Next(ctx)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a cancelled context = %v; want context.Canceled", err)
	}

	go func() {
		_, err := s.Next(context.Background())
		errc <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Next blocked across Close = %v; want ErrClosed", err)
	}
	if err := s.Append(context.Background(), []byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v; want ErrClosed", err)
	}
	if _, _, err := s.TryNext(); !errors.Is(err, ErrClosed) {
		t.Errorf("TryNext after Close = %v; want ErrClosed", err)
	}
	s.Ack(1) // ignored, and no panic
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	var log logBuffer
	s, _ := mustOpen(t, opts(dir, &log))
	if _, _, err := Open(opts(dir, &log)); err == nil {
		t.Fatal("a second Open of a spool in use succeeded")
	}
	s.Close()
	s2, _ := mustOpen(t, opts(dir, &log))
	s2.Close()
}

// Weights (the telemetry records a request holds, for the engine) add up in Stats, leave with
// acknowledgements, and are found again by recovery.
func TestWeights(t *testing.T) {
	dir := t.TempDir()
	o := opts(dir, &logBuffer{})
	o.Weigh = func(head []byte) int64 { return int64(head[0]) }
	s, _ := mustOpen(t, o)
	mustAppend(t, s, []byte{3, 'a'}, []byte{5, 'b', 'c'}, []byte{7})
	if w := s.Stats().Weight; w != 15 {
		t.Errorf("weight of 3+5+7 appended = %d", w)
	}
	first := mustNext(t, s)
	mustNext(t, s) // handed out, not acknowledged
	s.Ack(first.ID)
	if w := s.Stats().Weight; w != 12 {
		t.Errorf("weight after acknowledging the 3 = %d, want 12", w)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, rec := mustOpen(t, o)
	if rec.Weight != 12 || again.Stats().Weight != 12 {
		t.Errorf("recovered weight %d, Stats %d; want 12", rec.Weight, again.Stats().Weight)
	}
	for _, r := range drain(t, again) {
		again.Ack(r.ID)
	}
	if w := again.Stats().Weight; w != 0 {
		t.Errorf("weight with everything acknowledged = %d", w)
	}
}
