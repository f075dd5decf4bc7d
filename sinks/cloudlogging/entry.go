package cloudlogging

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strconv"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The fields of an entry's jsonPayload.
const (
	fieldBody       = "body"       // the record's body: a string, or its map or array kept nested
	fieldMessage    = "message"    // the body again when it is a string: Logs Explorer's summary line
	fieldAttributes = "attributes" // the record's attributes
	fieldResource   = "resource"   // the resource's attributes
	fieldScope      = "scope"      // the instrumentation scope's name and version
	fieldEventName  = "event_name" // the record's event_name field, when it has one
	fieldTruncated  = "truncated"  // true when the entry was cut down to fit the API
)

// converted is a request's records as entries, in order, with their serialized sizes.
type converted struct {
	entries   []*loggingpb.LogEntry
	sizes     []int
	truncated int // entries cut down to fit
}

// convert builds one entry per log record of req, leaving req as it is.
func convert(req *collogspb.ExportLogsServiceRequest, t *target, labelKeys []string) converted {
	n := 0
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			n += len(sl.GetLogRecords())
		}
	}
	out := converted{entries: make([]*loggingpb.LogEntry, 0, n), sizes: make([]int, 0, n)}
	ids := newInsertIDs(n)
	for _, rl := range req.GetResourceLogs() {
		resAttrs := rl.GetResource().GetAttributes()
		var resource *structpb.Value
		if len(resAttrs) > 0 {
			resource = structValue(jsonObject(resAttrs))
		}
		for _, sl := range rl.GetScopeLogs() {
			scope := scopeValue(sl.GetScope())
			ids.startGroup(rl.GetResource(), sl.GetScope())
			for _, lr := range sl.GetLogRecords() {
				e := newEntry(lr, t.project)
				e.InsertId = ids.next(lr)
				e.Labels = labels(labelKeys, lr.GetAttributes(), resAttrs)
				e.Payload = &loggingpb.LogEntry_JsonPayload{JsonPayload: payload(lr, resource, scope)}
				size, cut := fit(e, t.envelope)
				if cut {
					out.truncated++
				}
				out.entries = append(out.entries, e)
				out.sizes = append(out.sizes, size)
			}
		}
	}
	return out
}

// newEntry sets what an entry takes from the record's own fields.
func newEntry(lr *logspb.LogRecord, project string) *loggingpb.LogEntry {
	e := &loggingpb.LogEntry{
		Timestamp: timestamp(lr),
		Severity:  severity(lr.GetSeverityNumber(), lr.GetSeverityText()),
	}
	if id := lr.GetTraceId(); len(id) == 16 && !allZero(id) {
		e.Trace = "projects/" + project + "/traces/" + hex.EncodeToString(id)
		// The record's flags carry the W3C trace flags; bit 0 is "sampled".
		e.TraceSampled = lr.GetFlags()&1 != 0
	}
	if id := lr.GetSpanId(); len(id) == 8 && !allZero(id) {
		e.SpanId = hex.EncodeToString(id)
	}
	return e
}

// timestamp is when the event happened, else when it was observed. A record with neither is
// stamped now, as Cloud Logging would stamp it on arrival.
func timestamp(lr *logspb.LogRecord) *timestamppb.Timestamp {
	ns := lr.GetTimeUnixNano()
	if ns == 0 {
		ns = lr.GetObservedTimeUnixNano()
	}
	if ns == 0 {
		return timestamppb.Now()
	}
	return timestamppb.New(time.Unix(0, int64(ns)))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// payload is the entry's jsonPayload. resource and scope are shared by the entries of one
// resource and scope: they are only read from here on, unless fit cuts the entry down, and it
// copies the payload first.
func payload(lr *logspb.LogRecord, resource, scope *structpb.Value) *structpb.Struct {
	p := &structpb.Struct{Fields: make(map[string]*structpb.Value, 5)}
	if body := lr.GetBody(); body != nil {
		v := jsonValue(body)
		p.Fields[fieldBody] = v
		if _, ok := body.GetValue().(*commonpb.AnyValue_StringValue); ok {
			p.Fields[fieldMessage] = v
		}
	}
	if attrs := lr.GetAttributes(); len(attrs) > 0 {
		p.Fields[fieldAttributes] = structValue(jsonObject(attrs))
	}
	if resource != nil {
		p.Fields[fieldResource] = resource
	}
	if scope != nil {
		p.Fields[fieldScope] = scope
	}
	if name := lr.GetEventName(); name != "" {
		p.Fields[fieldEventName] = stringValue(name)
	}
	return p
}

// scopeValue is the scope's name and version, or nil when it has neither.
func scopeValue(s *commonpb.InstrumentationScope) *structpb.Value {
	if s.GetName() == "" && s.GetVersion() == "" {
		return nil
	}
	f := make(map[string]*structpb.Value, 2)
	if s.GetName() != "" {
		f["name"] = stringValue(s.GetName())
	}
	if s.GetVersion() != "" {
		f["version"] = stringValue(s.GetVersion())
	}
	return structValue(&structpb.Struct{Fields: f})
}

// labels are the configured attributes the record has, or else its resource has.
func labels(keys []string, attrs, resAttrs []*commonpb.KeyValue) map[string]string {
	var out map[string]string
	for _, k := range keys {
		v := find(attrs, k)
		if v == nil {
			v = find(resAttrs, k)
		}
		if v == nil {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(keys))
		}
		out[k] = labelValue(v)
	}
	return out
}

// find returns the value of the last attribute named key, as jsonObject keeps it.
func find(kvs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for i := len(kvs) - 1; i >= 0; i-- {
		if kvs[i].GetKey() == key {
			return kvs[i].GetValue()
		}
	}
	return nil
}

// insertIDs derives each entry's insertId from its record, so that writing the same records
// again (a retry after a failure that came after some of them got through, a durable queue
// replayed after a crash) gives the same ids, and Cloud Logging keeps one entry of each
// (it drops an entry whose insertId and timestamp it already has).
//
// The id hashes the record's bytes with its resource and scope, not the record's position in
// the request: the engine merges queued requests into batches, and may batch the same records
// differently after a restart, or merge a client's re-sent export with the original. Records
// identical in every byte within one scope of one export are distinct events (a client
// re-sending a record re-sends its whole export) and are told apart by their order there:
// the counting starts again with every scope, and so with every export a batch merged.
type insertIDs struct {
	h      hash.Hash
	digest []byte // of the current resource and scope
	buf    []byte
	sum    []byte
	seen   map[[16]byte]int
}

func newInsertIDs(n int) *insertIDs {
	return &insertIDs{h: sha256.New(), seen: make(map[[16]byte]int, n)}
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// startGroup starts the records of one resource and scope.
func (ids *insertIDs) startGroup(res, scope proto.Message) {
	ids.h.Reset()
	// Each part is framed by its length, so that bytes moving from the resource to the scope
	// change the digest.
	for _, m := range []proto.Message{res, scope} {
		ids.buf, _ = deterministic.MarshalAppend(binary.BigEndian.AppendUint64(ids.buf[:0], 0), m)
		binary.BigEndian.PutUint64(ids.buf, uint64(len(ids.buf)-8))
		ids.h.Write(ids.buf)
	}
	ids.digest = ids.h.Sum(ids.digest[:0])
	clear(ids.seen)
}

// next is the id of the next record of the current group: 32 hex digits, and "-<n>" for the
// nth repeat of an identical record.
func (ids *insertIDs) next(lr *logspb.LogRecord) string {
	ids.h.Reset()
	ids.h.Write(ids.digest)
	ids.buf, _ = deterministic.MarshalAppend(ids.buf[:0], lr)
	ids.h.Write(ids.buf)
	ids.sum = ids.h.Sum(ids.sum[:0])
	key := [16]byte(ids.sum[:16])
	nth := ids.seen[key]
	ids.seen[key] = nth + 1
	id := hex.EncodeToString(key[:])
	if nth > 0 {
		id += "-" + strconv.Itoa(nth)
	}
	return id
}
