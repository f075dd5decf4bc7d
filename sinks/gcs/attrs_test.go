package gcs

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"claude-otel-gw/sinks/gcp"
)

// The CMEK key and the storage class reach every upload; without them the upload names
// neither, leaving the bucket's defaults. fake-gcs-server keeps the storage class but not the
// key, so the key is checked on the request Cloud Storage would have received.
func TestObjectSettings(t *testing.T) {
	const key = "projects/acme-prod/locations/europe-west1/keyRings/audit/cryptoKeys/claude"
	for _, tc := range []struct {
		name       string
		kms, class string
	}{
		{"cmek and coldline", key, "COLDLINE"},
		{"bucket defaults", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGCS(t)
			o := f.options()
			o.KMSKey, o.StorageClass = tc.kms, tc.class
			w := started(t, o)
			if err := w.Write(context.Background(), loadCaptured(t, "06-cumulative-grpc/metrics.grpc.pb")); err != nil {
				t.Fatal(err)
			}
			ups := f.uploadLog()
			if len(ups) != 1 {
				t.Fatalf("%d uploads", len(ups))
			}
			u := ups[0]
			if got := u.query.Get("kmsKeyName"); got != tc.kms {
				t.Errorf("kmsKeyName = %q, want %q", got, tc.kms)
			}
			if u.meta.StorageClass != tc.class {
				t.Errorf("storageClass sent = %q, want %q", u.meta.StorageClass, tc.class)
			}
			if u.meta.ContentEncoding != "" || u.meta.ContentType != "application/x-ndjson" {
				t.Errorf("sent Content-Type %q, Content-Encoding %q", u.meta.ContentType, u.meta.ContentEncoding)
			}
			objs := f.objects(t)
			if len(objs) != 1 {
				t.Fatalf("%d objects", len(objs))
			}
			if want := tc.class; want != "" && objs[0].attrs.StorageClass != want {
				t.Errorf("object's storage class = %q, want %q", objs[0].attrs.StorageClass, want)
			}
			// The declared checksum is the stored bytes': Cloud Storage refuses the upload
			// otherwise.
			obj, err := f.fake.GetObject(testBucket, objs[0].attrs.Name)
			if err != nil {
				t.Fatal(err)
			}
			var crc [4]byte
			binary.BigEndian.PutUint32(crc[:], crc32.Checksum(obj.Content, crc32.MakeTable(crc32.Castagnoli)))
			if want := base64.StdEncoding.EncodeToString(crc[:]); u.meta.Crc32c != want {
				t.Errorf("declared crc32c %q, want %q", u.meta.Crc32c, want)
			}
		})
	}
}

// The endpoint may be the server's bare URL, without the JSON API's path, and the project,
// which objects do not need, may be left out.
func TestBareEndpointNoProject(t *testing.T) {
	f := newFakeGCS(t)
	o := f.options()
	o.Google = gcp.Options{Endpoint: f.srv.URL, Insecure: true}
	w := started(t, o)
	if err := w.Write(context.Background(), loadCaptured(t, "04-api-error-grpc/traces.grpc.pb")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.objects(t)); n != 1 {
		t.Errorf("%d objects; want 1", n)
	}
}
