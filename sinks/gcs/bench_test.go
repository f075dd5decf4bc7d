package gcs

import (
	"context"
	"testing"
)

// BenchmarkWrite uploads the captured logs request as a new object to fake-gcs-server on
// loopback: encoding, compression, the storage client and the HTTP round trip. The object is
// removed between iterations (outside the timer) so that each upload creates one.
func BenchmarkWrite(b *testing.B) {
	f := newFakeGCS(b)
	w := started(b, f.options())
	r := loadCaptured(b, "01-prompt-pii-grpc/logs.grpc.pb")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		// Each Write of the request is a batch received anew: a new object.
		if err := w.Write(ctx, r); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		objs, _, err := f.fake.ListObjects(testBucket, "", "", false)
		if err != nil || len(objs) != 1 {
			b.Fatalf("%d objects after a write (%v)", len(objs), err)
		}
		if err := f.fake.Backend().DeleteObject(testBucket, objs[0].Name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkEncode is the part of Write that is the gateway's own: OTLP/JSON lines, gzip, the
// content hash and checksum.
func BenchmarkEncode(b *testing.B) {
	r := loadCaptured(b, "01-prompt-pii-grpc/logs.grpc.pb")
	b.ReportAllocs()
	for b.Loop() {
		e := getEncoder()
		if err := e.encode(r); err != nil {
			b.Fatal(err)
		}
		_, _ = e.unique(), e.crc32c()
		e.release()
	}
}
