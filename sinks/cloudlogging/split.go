package cloudlogging

import (
	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers the sizes below count.
const (
	entryResourceField = 8  // LogEntry.resource
	entryLogNameField  = 12 // LogEntry.log_name
	requestEntryField  = 4  // WriteLogEntriesRequest.entries
)

// envelopeSize is what an entry grows by when Cloud Logging stores it with the request's log
// name and resource. A request carries the same two fields once, at the same cost, plus
// partial_success.
func envelopeSize(logName string, res *monitoredres.MonitoredResource) int {
	return protowire.SizeTag(entryLogNameField) + protowire.SizeBytes(len(logName)) +
		protowire.SizeTag(entryResourceField) + protowire.SizeBytes(proto.Size(res))
}

// part is one WriteLogEntries call's share of a request: entries from offset on.
type part struct {
	offset  int
	entries []*loggingpb.LogEntry
}

// split cuts the entries into calls of at most maxEntries entries and maxRequestBytes bytes.
// Every entry fits in a call of its own (fit saw to that).
func split(c converted, envelope int) []part {
	base := envelope + 2 // partial_success
	var parts []part
	start, size := 0, base
	for i, s := range c.sizes {
		cost := protowire.SizeTag(requestEntryField) + protowire.SizeBytes(s)
		if i > start && (i-start == maxEntries || size+cost > maxRequestBytes) {
			parts = append(parts, part{offset: start, entries: c.entries[start:i]})
			start, size = i, base
		}
		size += cost
	}
	if start < len(c.entries) {
		parts = append(parts, part{offset: start, entries: c.entries[start:]})
	}
	return parts
}
