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
	if err := w.Write(ctx, r); err != nil {
		b.Fatal(err)
	}
	objs := f.objects(b)
	if len(objs) != 1 {
		b.Fatalf("%d objects", len(objs))
	}
	name := objs[0].attrs.Name
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := f.fake.Backend().DeleteObject(testBucket, name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := w.Write(ctx, r); err != nil {
			b.Fatal(err)
		}
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
