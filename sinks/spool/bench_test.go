package spool

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppend appends 1 KiB records under the default group commit delay (2ms) from 1, 8
// and 64 goroutines, and reports the records per second and the latency one Append adds
// (median and 99th percentile). Every Append waits for its fsync: the disk sets the pace. The
// cases without a delay show what an fsync alone costs.
func BenchmarkAppend(b *testing.B) {
	cases := []struct {
		delay     time.Duration
		appenders int
	}{
		{2 * time.Millisecond, 1},
		{2 * time.Millisecond, 8},
		{2 * time.Millisecond, 64},
		{0, 1},
		{0, 64},
	}
	for _, c := range cases {
		appenders := c.appenders
		b.Run(fmt.Sprintf("delay=%v/appenders=%d", c.delay, appenders), func(b *testing.B) {
			s, _, err := Open(Options{Dir: b.TempDir(), MaxBytes: 1 << 40, FsyncDelay: c.delay, MinFreeBytes: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rec := bytes.Repeat([]byte("x"), 1024)
			latency := make([]time.Duration, b.N)
			var taken atomic.Int64
			ctx := context.Background()
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range appenders {
				wg.Go(func() {
					for {
						i := taken.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						start := time.Now()
						if err := s.Append(ctx, rec); err != nil {
							b.Error(err)
							return
						}
						latency[i] = time.Since(start)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(latency)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(ms(latency[len(latency)/2]), "p50-ms")
			b.ReportMetric(ms(latency[len(latency)*99/100]), "p99-ms")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkNextAck hands out and acknowledges 1 KiB records one at a time, from segments
// already on disk (written directly, between timed stretches of 16384 records).
func BenchmarkNextAck(b *testing.B) {
	const batch = 16384
	dir := b.TempDir()
	rec := bytes.Repeat([]byte("x"), 1024)
	next := uint64(1)
	var s *Spool
	refill := func() {
		if s != nil {
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
		writeSegment(b, dir, next, batch, rec)
		next += batch
		var err error
		if s, _, err = Open(Options{Dir: dir, MaxBytes: 1 << 40, MinFreeBytes: 1}); err != nil {
			b.Fatal(err)
		}
	}
	refill()
	defer func() { s.Close() }()
	ctx := context.Background()
	left := batch
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if left == 0 {
			b.StopTimer()
			refill()
			left = batch
			b.StartTimer()
		}
		r, err := s.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		s.Ack(r.ID)
		left--
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// writeSegment writes n records of data, the first with ID first, as one segment file.
func writeSegment(b *testing.B, dir string, first uint64, n int, data []byte) {
	var buf bytes.Buffer
	hdr := make([]byte, headerSize)
	now := time.Now().UnixNano()
	for i := range n {
		putHeader(hdr, first+uint64(i), now, data)
		buf.Write(hdr)
		buf.Write(data)
	}
	f, err := os.OpenFile(filepath.Join(dir, segmentName(first)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	// Synced, as appended records would be: deleting a file with pages still to write back
	// costs the disk's time, which is not the spool's.
	if _, err := f.Write(buf.Bytes()); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
}
