package cloudmonitoring

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/api/distribution"
	metricpb "google.golang.org/genproto/googleapis/api/metric"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"claude-otel-gw/sinks"
	"claude-otel-gw/sinks/gcp"
)

// maxSeriesPerRequest is Cloud Monitoring's limit on time series in one CreateTimeSeries.
const maxSeriesPerRequest = 200

// send writes the series a batch touched: those that may be written now at once, in requests
// of at most maxSeriesPerRequest, then, after waiting, those written less than minInterval
// ago. Each request that succeeds commits its series (and adds them to done); the first that
// fails ends the attempt, leaving the rest uncommitted.
func (w *Writer) send(ctx context.Context, b *batch, done map[string]struct{}) error {
	todo := b.touched
	// Sorted, so that a retry cuts the same series into the same requests.
	slices.SortFunc(todo, func(x, y *series) int { return strings.Compare(x.key, y.key) })
	for len(todo) > 0 {
		now := time.Now()
		var ready, later []*series
		var next time.Time
		for _, s := range todo {
			at := s.lastWrite.Add(w.minInterval)
			if at.After(now) {
				later = append(later, s)
				if next.IsZero() || at.Before(next) {
					next = at
				}
				continue
			}
			ready = append(ready, s)
		}
		if len(ready) == 0 {
			wait := next.Sub(now)
			if dl, ok := ctx.Deadline(); ok && dl.Before(next) {
				// The attempt would end before the series may be written: end it now, and
				// let the engine come back when they may.
				return sinks.RetryAfter(fmt.Errorf("%d time series may be written only in %s, after the attempt's deadline: %w",
					len(later), wait.Round(time.Millisecond), context.DeadlineExceeded), wait)
			}
			if err := sleep(ctx, wait); err != nil {
				return fmt.Errorf("waiting to write %d time series no sooner than %s after their last write: %w", len(later), w.minInterval, err)
			}
			continue
		}
		for chunk := range slices.Chunk(ready, maxSeriesPerRequest) {
			if err := w.writeChunk(ctx, chunk, done); err != nil {
				return err
			}
		}
		todo = later
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// writeChunk writes one request's series and commits them if Cloud Monitoring took them, or
// refused some of them for good (those are counted; what they had folded stays in their
// totals, so a later point carries it).
func (w *Writer) writeChunk(ctx context.Context, chunk []*series, done map[string]struct{}) error {
	req := &monitoringpb.CreateTimeSeriesRequest{
		Name:       "projects/" + w.project,
		TimeSeries: make([]*monitoringpb.TimeSeries, 0, len(chunk)),
	}
	for _, s := range chunk {
		s.lastEnd = s.endTime(w.minInterval)
		req.TimeSeries = append(req.TimeSeries, w.timeSeries(s))
	}
	refused, err := w.outcome(ctx, w.client.CreateTimeSeries(ctx, req), len(chunk))
	if err != nil {
		return err
	}
	// Counted from the answer, which came after Cloud Monitoring took the points, so that the
	// next write of these series reaches it at least minInterval later, whatever the network.
	written := time.Now()
	for _, s := range chunk {
		s.lastWrite = written
		s.written, s.touched = true, false
		w.series[s.key] = s
		done[s.key] = struct{}{}
	}
	if refused > 0 {
		w.rejected.Add(float64(refused))
	}
	return nil
}

// timeSeries is the point a series is written as now.
func (w *Writer) timeSeries(s *series) *monitoringpb.TimeSeries {
	end := timestamp(s.lastEnd)
	ts := &monitoringpb.TimeSeries{
		Metric:      &metricpb.Metric{Type: s.metric.typ, Labels: s.labels},
		Resource:    w.resource,
		ValueType:   s.metric.valueType,
		Description: s.metric.description,
	}
	iv := &monitoringpb.TimeInterval{EndTime: end}
	if s.metric.kind.cumulative() {
		ts.MetricKind = metricpb.MetricDescriptor_CUMULATIVE
		iv.StartTime = timestamp(s.start)
	} else {
		ts.MetricKind = metricpb.MetricDescriptor_GAUGE
	}
	var v *monitoringpb.TypedValue
	switch s.metric.valueType {
	case metricpb.MetricDescriptor_DISTRIBUTION:
		v = &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DistributionValue{DistributionValue: toDistribution(s)}}
	case metricpb.MetricDescriptor_INT64:
		// The metric's first points were integers and its descriptor says INT64; a fraction
		// sent later is rounded here only, never in the running total.
		v = &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_Int64Value{Int64Value: int64(math.Round(s.value()))}}
	default:
		v = &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: s.value()}}
	}
	ts.Points = []*monitoringpb.Point{{Interval: iv, Value: v}}
	return ts
}

// toDistribution is a histogram series' value as Cloud Monitoring takes it. OpenTelemetry
// histograms carry no sum of squared deviations and it cannot be recovered from buckets: it is
// 0, exact for a single value and the documented placeholder otherwise. (Cloud Monitoring's
// buckets include their lower bound where OpenTelemetry's include their upper one: a value
// exactly on a bound is counted one bucket lower than Cloud Monitoring would count it.)
func toDistribution(s *series) *distribution.Distribution {
	d := s.distValue()
	out := &distribution.Distribution{Count: int64(d.count)}
	if d.count > 0 {
		out.Mean = d.sum / float64(d.count)
	}
	if s.bounds != nil {
		out.BucketOptions = &distribution.Distribution_BucketOptions{
			Options: &distribution.Distribution_BucketOptions_ExplicitBuckets{
				ExplicitBuckets: &distribution.Distribution_BucketOptions_Explicit{Bounds: s.bounds},
			},
		}
		out.BucketCounts = make([]int64, len(d.counts))
		for i, c := range d.counts {
			out.BucketCounts[i] = int64(c)
		}
	}
	return out
}

func timestamp(ns uint64) *timestamppb.Timestamp {
	return &timestamppb.Timestamp{Seconds: int64(ns / 1e9), Nanos: int32(ns % 1e9)}
}

// outcome turns the answer to a request of n series into how many of them were refused for
// good and the error the attempt ends with, if any.
//
// When only some series failed, Cloud Monitoring writes the others and says, per reason, how
// many points failed, but not which series. INVALID_ARGUMENT refusals are for good: the
// request counts as done (the refused are counted), since sending them again cannot help and
// must not hold up the queue. Any other reason fails the attempt so that the engine retries:
// the series written the first time then come back refused for an end time that is not
// later than their last (INVALID_ARGUMENT), which commits them with the values they were
// written with, while the others get another chance.
func (w *Writer) outcome(ctx context.Context, err error, n int) (refused int, _ error) {
	if err == nil {
		return 0, nil
	}
	what := fmt.Sprintf("write %d time series to project %s", n, w.project)
	st, ok := status.FromError(err)
	if !ok {
		return 0, gcp.Classify(ctx, what, err)
	}
	for _, d := range st.Details() {
		summary, ok := d.(*monitoringpb.CreateTimeSeriesSummary)
		if !ok {
			continue
		}
		var retry *spb.Status
		var reasons []string
		for _, e := range summary.GetErrors() {
			if codes.Code(e.GetStatus().GetCode()) != codes.InvalidArgument {
				if retry == nil {
					retry = e.GetStatus()
				}
				continue
			}
			refused += int(e.GetPointCount())
			reasons = append(reasons, scrub(e.GetStatus().GetMessage()))
		}
		if retry == nil {
			w.logRefused(refused, n, reasons)
			return refused, nil
		}
		return 0, gcp.Classify(ctx, fmt.Sprintf("%s (%d of them failed)", what, summary.GetTotalPointCount()-summary.GetSuccessPointCount()),
			scrubbed(status.FromProto(retry)))
	}
	return 0, gcp.Classify(ctx, what, scrubbed(st))
}

// logRefused says, a line a minute at most, that series were refused for good.
func (w *Writer) logRefused(refused, n int, reasons []string) {
	if ok, suppressed := w.logs[logRefused].Allow(time.Now()); ok {
		w.log.Warn("cloud_monitoring sink: Cloud Monitoring refused time series for good; their points are dropped (later points carry their totals)",
			"refused", refused, "series", n, "reasons", strings.Join(reasons, "; "), "earlier_not_logged", suppressed)
	}
}

// scrubbed is st with its message scrubbed and its code and details (RetryInfo) kept.
func scrubbed(st *status.Status) error {
	p := st.Proto()
	p.Message = scrub(p.GetMessage())
	return status.ErrorProto(p)
}

// scrub blanks what Cloud Monitoring quotes in its messages: label values it found invalid,
// which are attribute values and may be personal data. Metric types, label keys and times,
// which say what went wrong, are not quoted and stay.
func scrub(msg string) string {
	if !strings.Contains(msg, `"`) {
		return msg
	}
	var b strings.Builder
	quoted := false
	for _, part := range strings.SplitAfter(msg, `"`) {
		if quoted {
			if !strings.HasSuffix(part, `"`) {
				// An unterminated quote: drop the rest.
				b.WriteString(`…`)
				break
			}
			b.WriteString(`…"`)
		} else {
			b.WriteString(part)
		}
		quoted = !quoted
	}
	return b.String()
}
