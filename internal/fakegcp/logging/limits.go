package fakelogging

import (
	"fmt"
	"net/url"
	"regexp"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Cloud Logging's documented limits on entries.write, as the fake enforces them.
const (
	// MaxEntries is the most entries one request may hold.
	MaxEntries = 1000
	// MaxRequestBytes is the largest request, serialized; Google's error for a larger one
	// quotes 10485760 bytes.
	MaxRequestBytes = 10 << 20
	// MaxEntryBytes is the largest entry, serialized with the log name and resource it is
	// stored with ("exceeds maximum size of 256.0K").
	MaxEntryBytes = 256 << 10
	// MaxLogIDLen is the longest log id, before URL-encoding.
	MaxLogIDLen = 512
)

var (
	// logNameRE is the form of a log name: the parent resource, then the URL-encoded log id.
	logNameRE = regexp.MustCompile(`^(projects|organizations|folders|billingAccounts)/[^/]+/logs/([^/]+)$`)
	// logIDRE is what a log id may hold once decoded.
	logIDRE = regexp.MustCompile(`^[A-Za-z0-9/_.-]+$`)
)

// checkRequest refuses a request that breaks a limit of the request as a whole, as Cloud
// Logging does: INVALID_ARGUMENT, and nothing is written.
func checkRequest(req *loggingpb.WriteLogEntriesRequest) error {
	n := len(req.GetEntries())
	if n == 0 {
		return status.Error(codes.InvalidArgument, "entries: required")
	}
	if n > MaxEntries {
		return status.Errorf(codes.InvalidArgument, "request has %d log entries; at most %d are allowed", n, MaxEntries)
	}
	if size := proto.Size(req); size > MaxRequestBytes {
		return status.Errorf(codes.InvalidArgument, "Request payload size exceeds the limit: %d bytes.", MaxRequestBytes)
	}
	return nil
}

// checkEntry refuses an entry (its request's defaults filled in) that Cloud Logging would.
func checkEntry(e *loggingpb.LogEntry) error {
	if err := checkLogName(e.GetLogName()); err != nil {
		return err
	}
	if e.GetResource().GetType() == "" {
		return status.Error(codes.InvalidArgument, "log entry has no monitored resource")
	}
	if size := proto.Size(e); size > MaxEntryBytes {
		return status.Errorf(codes.InvalidArgument, "Log entry with size %.1fK exceeds maximum size of %.1fK", float64(size)/1024, float64(MaxEntryBytes)/1024)
	}
	return nil
}

// checkLogName accepts projects/P/logs/ID with ID URL-encoded: a '/' in the log id must arrive
// as %2F.
func checkLogName(name string) error {
	m := logNameRE.FindStringSubmatch(name)
	if m == nil {
		return status.Errorf(codes.InvalidArgument, "log name %q is not of the form projects/[PROJECT_ID]/logs/[LOG_ID] with LOG_ID URL-encoded", name)
	}
	id, err := url.PathUnescape(m[2])
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "log name %q: log id is not URL-encoded: %v", name, err)
	}
	if len(id) > MaxLogIDLen || !logIDRE.MatchString(id) {
		return status.Error(codes.InvalidArgument, fmt.Sprintf("log name %q: log id must be at most %d letters, digits and / _ - .", name, MaxLogIDLen))
	}
	return nil
}
