package gcs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"sync"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"
)

// maxPooledBody keeps one unusually large batch from pinning its buffer in the pool.
const maxPooledBody = 8 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// encoder turns a batch into an object's content: gzip of OTLP/JSON lines, one line per
// resource, each line an export request of its own, so that any line is something an OTLP/HTTP
// JSON endpoint takes and no line grows with the batch. It hashes the lines as they are
// written: the hash of exactly what the object holds (before compression) names the object.
type encoder struct {
	line []byte
	body bytes.Buffer
	zw   *gzip.Writer
	sum  hash.Hash
	// The one-resource requests each line is wrapped in, by signal; they point at the batch's
	// resource entries, which are only read.
	logs    collogspb.ExportLogsServiceRequest
	metrics colmetricspb.ExportMetricsServiceRequest
	traces  coltracepb.ExportTraceServiceRequest
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{sum: sha256.New()}
	e.zw = gzip.NewWriter(&e.body)
	e.logs.ResourceLogs = make([]*logspb.ResourceLogs, 1)
	e.metrics.ResourceMetrics = make([]*metricspb.ResourceMetrics, 1)
	e.traces.ResourceSpans = make([]*tracepb.ResourceSpans, 1)
	return e
}}

func getEncoder() *encoder { return encoders.Get().(*encoder) }

// release returns e to the pool, letting go of what it points at.
func (e *encoder) release() {
	e.logs.ResourceLogs[0], e.metrics.ResourceMetrics[0], e.traces.ResourceSpans[0] = nil, nil, nil
	if e.body.Cap() > maxPooledBody || cap(e.line) > maxPooledBody {
		return
	}
	encoders.Put(e)
}

// encode writes r's lines, compressed, into e.body.
func (e *encoder) encode(r telemetry.Request) error {
	e.body.Reset()
	e.sum.Reset()
	e.zw.Reset(&e.body)
	switch {
	case r.Logs != nil:
		for _, rl := range r.Logs.ResourceLogs {
			e.logs.ResourceLogs[0] = rl
			if err := e.writeLine(&e.logs); err != nil {
				return err
			}
		}
	case r.Metrics != nil:
		for _, rm := range r.Metrics.ResourceMetrics {
			e.metrics.ResourceMetrics[0] = rm
			if err := e.writeLine(&e.metrics); err != nil {
				return err
			}
		}
	case r.Traces != nil:
		for _, rs := range r.Traces.ResourceSpans {
			e.traces.ResourceSpans[0] = rs
			if err := e.writeLine(&e.traces); err != nil {
				return err
			}
		}
	}
	return e.zw.Close()
}

func (e *encoder) writeLine(m proto.Message) error {
	b, err := otlpjson.AppendMarshal(e.line[:0], m)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	e.line = b
	e.sum.Write(b)
	_, err = e.zw.Write(b)
	return err
}

// unique is the object's name part derived from its content.
func (e *encoder) unique() string {
	var s [sha256.Size]byte
	return hex.EncodeToString(e.sum.Sum(s[:0])[:contentHashBytes])
}

// crc32c is the compressed content's checksum, which the upload declares so that Cloud
// Storage refuses an object that did not arrive as sent.
func (e *encoder) crc32c() uint32 { return crc32.Checksum(e.body.Bytes(), crcTable) }
