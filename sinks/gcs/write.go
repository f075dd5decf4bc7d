package gcs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
	"claude-otel-gw/telemetry"
)

// contentType names what the object holds once unpacked: JSON lines, of which application/jsonl
// is the newer name and application/x-ndjson the one more tools know. Content-Encoding is
// deliberately not gzip: with it Cloud Storage would unpack the object on download (decompressive
// transcoding), handing tools a file named .gz that is not gzip, and reporting sizes and
// checksums of bytes other than those it stores. Without it the object is a .gz file every
// tool, BigQuery included, downloads and reads as it is.
const contentType = "application/x-ndjson"

// Write uploads r as one object and returns once the object is in the bucket, or why it is not.
// It makes one attempt: the engine retries. A retry of a batch whose object an earlier attempt
// did create (its answer lost on the way back) finds the object there and succeeds.
func (w *Writer) Write(ctx context.Context, r telemetry.Request) error {
	sig := r.Signal()
	if sig == 0 {
		return nil
	}
	bucket, err := w.bucketHandle()
	if err != nil {
		return fmt.Errorf("gcs sink %q: %w", w.o.Name, err)
	}
	e := getEncoder()
	defer e.release()
	if err := e.encode(r); err != nil {
		// Only a request the gateway itself built wrong gets here; sending it again cannot help.
		return sinks.Permanent(fmt.Errorf("encoding a %s batch as OTLP/JSON: %w", sig, err))
	}
	key := pendingKey{addr: reflect.ValueOf(r.Message()).Pointer(), content: e.unique()}
	name := w.pending.name(key, func() string {
		at, ok := earliest(r)
		if !ok {
			at = w.now()
		}
		return objectName(w.o.Prefix, sig, at, w.host, key.content+"-"+nonce())
	})

	obj := bucket.Object(name).If(storage.Conditions{DoesNotExist: true})
	ow := obj.NewWriter(ctx)
	ow.ContentType = contentType
	ow.StorageClass = w.o.StorageClass
	ow.KMSKeyName = w.o.KMSKey
	// One request: an object is at most a batch, a few MiB compressed, and one request can
	// only succeed or fail whole, which is what the engine's retry expects.
	ow.ChunkSize = 0
	ow.CRC32C, ow.SendCRC32C = e.crc32c(), true
	_, err = ow.Write(e.body.Bytes())
	if cerr := ow.Close(); err == nil {
		err = cerr
	}
	var ge *googleapi.Error
	switch {
	case err == nil:
		w.pending.done(key)
		return nil
	case errors.As(err, &ge) && ge.Code == http.StatusPreconditionFailed:
		// The object exists: an earlier attempt at this very batch created it.
		w.pending.done(key)
		w.log.Debug("object already written by an earlier attempt", "object", name)
		return nil
	}
	err = gcp.Classify(ctx, fmt.Sprintf("write %d %s records to gs://%s/%s", r.Records(), sig, w.o.Bucket, name), err)
	if sinks.IsPermanent(err) {
		w.pending.done(key)
	}
	return err
}

// nonce is 4 random bytes in hex.
func nonce() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
