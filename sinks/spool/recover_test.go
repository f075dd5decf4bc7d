package spool

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const recSize = headerSize + 100 // on disk, a record of payload(i, 100)

// fiveRecords writes records 1-5 into one segment of a closed spool and returns its path.
func fiveRecords(t *testing.T, o Options) string {
	t.Helper()
	s, _ := mustOpen(t, o)
	for i := range 5 {
		mustAppend(t, s, payload(i, 100))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segments(t, o.Dir)
	if len(segs) != 1 {
		t.Fatalf("segments %s; want one", names(segs))
	}
	return segs[0]
}

// checkRecovered reopens the spool and checks it hands out wantIDs (each with the payload it
// was appended with) and logged the damage, if any, at the given segment offset.
func checkRecovered(t *testing.T, o Options, log *logBuffer, corrupt int, wantIDs []uint64, damaged string, offset int64) *Spool {
	t.Helper()
	s, rec := mustOpen(t, o)
	if rec.Corrupt != corrupt || rec.Records != len(wantIDs) {
		t.Errorf("Recovered = %+v; want %d records, %d corrupt", rec, len(wantIDs), corrupt)
	}
	got := drain(t, s)
	if !slices.Equal(ids(got), wantIDs) {
		t.Errorf("IDs after recovery %v; want %v", ids(got), wantIDs)
	}
	for _, r := range got {
		if want := payload(int(r.ID-1), 100); !bytes.Equal(r.Data, want) {
			t.Errorf("record %d = %.30q; want %.30q", r.ID, r.Data, want)
		}
	}
	if corrupt > 0 {
		line := fmt.Sprintf("segment=%s offset=%d", damaged, offset)
		if !strings.Contains(log.String(), line) {
			t.Errorf("the log does not say %q:\n%s", line, log.String())
		}
	}
	return s
}

func TestTruncatedTail(t *testing.T) {
	lastOff := int64(4 * recSize)
	cases := []struct {
		name    string
		size    int64 // of the segment after the cut
		corrupt int
		ids     []uint64
	}{
		{"one byte of header", lastOff + 1, 1, []uint64{1, 2, 3, 4}},
		{"header less a byte", lastOff + headerSize - 1, 1, []uint64{1, 2, 3, 4}},
		{"header only", lastOff + headerSize, 1, []uint64{1, 2, 3, 4}},
		{"half the data", lastOff + headerSize + 50, 1, []uint64{1, 2, 3, 4}},
		{"data less a byte", lastOff + recSize - 1, 1, []uint64{1, 2, 3, 4}},
		{"at a record boundary", lastOff, 0, []uint64{1, 2, 3, 4}},
		{"nothing cut", lastOff + recSize, 0, []uint64{1, 2, 3, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log logBuffer
			o := opts(t.TempDir(), &log)
			seg := fiveRecords(t, o)
			if err := os.Truncate(seg, c.size); err != nil {
				t.Fatal(err)
			}
			s := checkRecovered(t, o, &log, c.corrupt, c.ids, seg, lastOff)
			if c.corrupt > 0 {
				if fi, err := os.Stat(seg); err != nil || fi.Size() != lastOff {
					t.Errorf("the torn tail was not cut off: %v, %v", fi.Size(), err)
				}
			}
			// Appending carries on after the good records.
			mustAppend(t, s, []byte("new"))
			if r := mustNext(t, s); string(r.Data) != "new" || r.ID != uint64(len(c.ids)+1) {
				t.Errorf("appended after recovery: record %d %q; want %d \"new\"", r.ID, r.Data, len(c.ids)+1)
			}
		})
	}
}

func TestCorruptTail(t *testing.T) {
	lastOff := int64(4 * recSize)
	cases := []struct {
		name string
		at   int64 // the byte flipped, from the start of the last record
	}{
		{"length, low byte", 0},
		{"length, high byte (absurd)", 3},
		{"checksum", 4},
		{"id", 8},
		{"append time", 20},
		{"first data byte", headerSize},
		{"last data byte", recSize - 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log logBuffer
			o := opts(t.TempDir(), &log)
			seg := fiveRecords(t, o)
			flipByte(t, seg, lastOff+c.at)
			checkRecovered(t, o, &log, 1, []uint64{1, 2, 3, 4}, seg, lastOff)
		})
	}
}

func TestCorruptOlderSegment(t *testing.T) {
	var log logBuffer
	o := opts(t.TempDir(), &log)
	o.SegmentBytes = 3 * recSize
	s, _ := mustOpen(t, o)
	for i := range 9 {
		mustAppend(t, s, payload(i, 100))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segments(t, o.Dir)
	if len(segs) != 3 {
		t.Fatalf("segments %s; want three", names(segs))
	}
	// Record 2's data: 2 and 3 are lost, 4-9 in the later segments are not.
	flipByte(t, segs[0], recSize+headerSize+10)
	s = checkRecovered(t, o, &log, 1, []uint64{1, 4, 5, 6, 7, 8, 9}, segs[0], recSize)
	if fi, err := os.Stat(segs[0]); err != nil || fi.Size() != 3*recSize {
		t.Errorf("the older segment was changed: %v", err)
	}
	if st := s.Stats(); st.DiskBytes != 9*recSize {
		t.Errorf("DiskBytes = %d; want %d, the damaged region included", st.DiskBytes, 9*recSize)
	}
	s.Ack(1, 4, 5, 6, 7, 8, 9)
	// Recovered segments are sealed: delivered, every one goes.
	waitSegments(t, o.Dir, "")
}

func TestRecoverySkipsDeliveredSegments(t *testing.T) {
	var log logBuffer
	o := opts(t.TempDir(), &log)
	o.SegmentBytes = 3 * recSize
	s, _ := mustOpen(t, o)
	for i := range 9 {
		mustAppend(t, s, payload(i, 100))
	}
	s.Ack(ids(drain(t, s))[:4]...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// As if a crash had come between the acknowledgement and the deletion, with garbage in the
	// segment for good measure: it is not read, only deleted.
	stale := filepath.Join(o.Dir, segmentName(1))
	if err := os.WriteFile(stale, bytes.Repeat([]byte{0xff}, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	checkRecovered(t, o, &log, 0, []uint64{5, 6, 7, 8, 9}, "", 0)
	if got := names(segments(t, o.Dir)); got != "00000000000000000004.seg 00000000000000000007.seg" {
		t.Errorf("segments after recovery: %s", got)
	}
}

func TestDamageFoundByReader(t *testing.T) {
	t.Run("sealed segment", func(t *testing.T) {
		var log logBuffer
		o := opts(t.TempDir(), &log)
		o.SegmentBytes = 3 * recSize
		s, _ := mustOpen(t, o)
		for i := range 6 {
			mustAppend(t, s, payload(i, 100))
		}
		flipByte(t, segments(t, o.Dir)[0], recSize+headerSize)
		got := drain(t, s)
		if !slices.Equal(ids(got), []uint64{1, 4, 5, 6}) {
			t.Errorf("IDs %v; want 1, then the next segment", ids(got))
		}
		if !strings.Contains(log.String(), "damaged record") {
			t.Errorf("the damage was not logged:\n%s", log.String())
		}
		if st := s.Stats(); st.Records != 4 {
			t.Errorf("Stats.Records = %d; want the 4 handed out, the lost ones not counted", st.Records)
		}
		s.Ack(ids(got)...)
		if st := s.Stats(); st.Records != 0 || st.Bytes != 0 {
			t.Errorf("Stats after acking = %+v", st)
		}
		waitSegments(t, o.Dir, segmentName(4)) // the one being written
	})
	t.Run("segment deleted", func(t *testing.T) {
		var log logBuffer
		o := opts(t.TempDir(), &log)
		o.SegmentBytes = 3 * recSize
		s, _ := mustOpen(t, o)
		for i := range 6 {
			mustAppend(t, s, payload(i, 100))
		}
		if err := os.Remove(segments(t, o.Dir)[0]); err != nil {
			t.Fatal(err)
		}
		if got := ids(drain(t, s)); !slices.Equal(got, []uint64{4, 5, 6}) {
			t.Errorf("IDs %v; want those of the segment left", got)
		}
		if st := s.Stats(); st.Records != 3 {
			t.Errorf("Stats.Records = %d; want 3", st.Records)
		}
	})
	t.Run("segment being written", func(t *testing.T) {
		var log logBuffer
		o := opts(t.TempDir(), &log)
		s, _ := mustOpen(t, o)
		for i := range 3 {
			mustAppend(t, s, payload(i, 100))
		}
		flipByte(t, segments(t, o.Dir)[0], recSize+headerSize)
		if got := ids(drain(t, s)); !slices.Equal(got, []uint64{1}) {
			t.Errorf("IDs %v; want 1 only", got)
		}
		// The next append goes to a new segment, which readers find.
		if err := s.Append(context.Background(), []byte("after")); err != nil {
			t.Fatal(err)
		}
		if r := mustNext(t, s); string(r.Data) != "after" {
			t.Errorf("got %q; want \"after\"", r.Data)
		}
		if segs := segments(t, o.Dir); len(segs) != 2 {
			t.Errorf("segments %s; want the damaged one and a new one", names(segs))
		}
	})
}

// FuzzRecover puts arbitrary bytes after two good records at the end of the last segment:
// recovery keeps the good records, never fails, and leaves a segment that reopens clean.
func FuzzRecover(f *testing.F) {
	var good bytes.Buffer
	for i := range 3 {
		hdr := make([]byte, headerSize)
		data := payload(i, 40)
		putHeader(hdr, uint64(i+1), int64(i), data)
		good.Write(hdr)
		good.Write(data)
	}
	rec := good.Len() / 3
	f.Add(good.Bytes()[2*rec:])          // a third good record
	f.Add(good.Bytes()[2*rec : 3*rec-5]) // a torn one
	f.Add(good.Bytes()[rec : 2*rec])     // a good record with the wrong ID
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		seg := append(bytes.Clone(good.Bytes()[:2*rec]), tail...)
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), seg, 0o600); err != nil {
			t.Fatal(err)
		}
		var log logBuffer
		s, recovered, err := Open(opts(dir, &log))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got := drain(t, s)
		if len(got) < 2 || !bytes.Equal(got[0].Data, payload(0, 40)) || !bytes.Equal(got[1].Data, payload(1, 40)) {
			t.Fatalf("the good records were not kept: %q", texts(got))
		}
		if recovered.Records != len(got) {
			t.Errorf("Recovered.Records = %d; %d handed out", recovered.Records, len(got))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s, recovered, err = Open(opts(dir, &log))
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer s.Close()
		if recovered.Corrupt != 0 || recovered.Records != len(got) {
			t.Errorf("second Open recovered %+v; want %d records, no damage", recovered, len(got))
		}
	})
}
