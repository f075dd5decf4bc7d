package cloudtrace

import (
	"cloud.google.com/go/trace/apiv2/tracepb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// maxRequestBytes caps one BatchWriteSpans call, in protobuf bytes.
//
// Cloud Trace documents no request size or span count for BatchWriteSpans: its quotas page
// (https://cloud.google.com/trace/docs/quotas) lists limits per span only, and the
// maintainers of Google's own OpenTelemetry exporter read it the same way
// (GoogleCloudPlatform/opentelemetry-operations-go#388). What does bound a request is Google's
// API front end, which refuses a payload over 10 MiB ("Request payload size exceeds the limit:
// 10485760 bytes"), and, for an emulator, gRPC's default receive limit of 4 MiB. 4 MiB less a
// margin fits both; a gateway on one developer's machine sends far less, and the 4,800 write
// calls a minute the quota allows are not at stake.
//
// A span alone always fits: the limits of span.go and attributes.go keep the largest possible
// one (128 links of 32 attributes each) under 2 MiB.
const maxRequestBytes = 4<<20 - 64<<10

// split cuts spans into requests of at most maxBytes each, in order.
func split(project string, spans []*tracepb.Span, maxBytes int) [][]*tracepb.Span {
	base := protowire.SizeTag(1) + protowire.SizeBytes(len("projects/")+len(project))
	size := base
	for _, sp := range spans {
		size += spanFieldSize(sp)
	}
	if size <= maxBytes {
		return [][]*tracepb.Span{spans}
	}
	var parts [][]*tracepb.Span
	start, size := 0, base
	for i, sp := range spans {
		n := spanFieldSize(sp)
		if size+n > maxBytes && i > start {
			parts = append(parts, spans[start:i])
			start, size = i, base
		}
		size += n
	}
	return append(parts, spans[start:])
}

// spanFieldSize is what one span adds to a BatchWriteSpansRequest (field 2, length-delimited).
func spanFieldSize(sp *tracepb.Span) int {
	return protowire.SizeTag(2) + protowire.SizeBytes(proto.Size(sp))
}
