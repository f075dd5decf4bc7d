package cloudlogging

import (
	"math"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// partial handles a call Cloud Logging answered with a partial success: INVALID_ARGUMENT with
// the entries it refused (WriteLogEntriesPartialErrors), having written the others. The refused
// entries are refused for good (they are malformed, or too large), so they are counted and
// logged, and the call counts as done: retrying it would only write again what was written.
// offset is the index in the request of the call's first entry. It reports whether err was a
// partial success.
//
// Any other error, even one listing entries, is left to gcp.Classify: a refusal of the
// credentials or the project is not the data's fault and must be retried.
func (w *Writer) partial(err error, offset int) bool {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return false
	}
	for _, d := range st.Details() {
		pe, ok := d.(*loggingpb.WriteLogEntriesPartialErrors)
		if !ok || len(pe.GetLogEntryErrors()) == 0 {
			continue
		}
		errs := pe.GetLogEntryErrors()
		w.rejected.Add(float64(len(errs)))
		if ok, suppressed := w.rejectLog.Allow(time.Now()); ok {
			// The first refused entry stands for the rest; never the entry itself, which
			// may hold personal data.
			first := int32(math.MaxInt32)
			for i := range errs {
				first = min(first, i)
			}
			w.log.Warn("Cloud Logging refused log entries; the others were written",
				"sink", w.name, "refused", len(errs),
				"record", offset+int(first), "code", codes.Code(errs[first].GetCode()).String(), "reason", errs[first].GetMessage(),
				"earlier_lines_not_logged", suppressed)
		}
		return true
	}
	return false
}
