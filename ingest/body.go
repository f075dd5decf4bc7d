package ingest

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
)

// Buffers and gzip readers are reused across requests: a request body is read whole before it is
// decoded, and allocating a fresh buffer for each would be most of the garbage ingest makes.
var (
	bufferPool = sync.Pool{New: func() any { return new([]byte) }}
	gzipPool   sync.Pool // *gzip.Reader; they cannot be made without input, so New is unset
)

// maxPooledBuffer keeps one rare huge request from pinning its buffer's memory in the pool.
const maxPooledBuffer = 1 << 20

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bufferPool.Put(b)
}

// readBody reads an HTTP request body into buf, decompressing it if it is gzip, and enforces the
// size limit on both the bytes received and the bytes they decompress to. Nothing is read beyond
// limit+1 bytes at either stage, whatever the Content-Length says, so what a body costs in memory
// is bounded by the limit, never by what a gzip bomb expands to.
func readBody(w http.ResponseWriter, r *http.Request, gzipped bool, limit int64, buf *[]byte) error {
	if r.ContentLength > limit {
		return fmt.Errorf("%w: the body's %d bytes are over the limit of %d", errTooLarge, r.ContentLength, limit)
	}
	// MaxBytesReader also makes the server close the connection after answering instead of
	// reading the rest of an oversize body.
	body := http.MaxBytesReader(w, r.Body, limit)
	if !gzipped {
		if r.ContentLength > 0 {
			// One byte more, to see the end of the body without growing the buffer.
			*buf = slices.Grow(*buf, int(r.ContentLength)+1)
		}
		return classifyRead(readCapped(buf, body, limit), false)
	}
	zr, err := getGzipReader(body)
	if err != nil {
		return classifyRead(err, true)
	}
	defer gzipPool.Put(zr)
	return classifyRead(readCapped(buf, zr, limit), true)
}

func getGzipReader(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipPool.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			gzipPool.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

// readCapped appends r, to its end, to buf, and stops with errTooLarge as soon as more than
// limit bytes arrive. The buffer grows by doubling but never past limit+1 bytes, so the memory a
// body costs is bounded by the limit, not by what the client claims or sends.
func readCapped(buf *[]byte, r io.Reader, limit int64) error {
	b := *buf
	defer func() { *buf = b }()
	for {
		if len(b) == cap(b) {
			want := min(max(2*cap(b), 4096), int(min(limit+1, math.MaxInt)))
			if want <= len(b) {
				return fmt.Errorf("%w: the body decompresses to more than the limit of %d bytes", errTooLarge, limit)
			}
			b = slices.Grow(b, want-len(b))
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return fmt.Errorf("%w: the body decompresses to more than the limit of %d bytes", errTooLarge, limit)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// classifyRead turns a failure to read a body into the refusal it deserves.
func classifyRead(err error, gzipped bool) error {
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: the body is over the limit of %d bytes", errTooLarge, tooLarge.Limit)
	case errors.Is(err, errTooLarge):
		return err
	case gzipped:
		return fmt.Errorf("%w: the body is not valid gzip: %v", errMalformed, err)
	}
	return fmt.Errorf("%w: reading the body: %v", errMalformed, err)
}
