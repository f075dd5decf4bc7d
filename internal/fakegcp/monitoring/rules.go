package fakemonitoring

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/api/distribution"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The limits on labels, as Cloud Monitoring documents them for user-defined metrics.
const (
	maxLabels          = 30
	maxLabelKeyLen     = 100
	maxLabelValueBytes = 1024
)

// Key identifies a time series the way Cloud Monitoring does: its metric type and labels and
// its monitored resource type and labels. It is readable, for test failures.
func Key(ts *monitoringpb.TimeSeries) string {
	var b strings.Builder
	b.WriteString(ts.GetMetric().GetType())
	writeLabels(&b, ts.GetMetric().GetLabels())
	b.WriteString(" ")
	b.WriteString(ts.GetResource().GetType())
	writeLabels(&b, ts.GetResource().GetLabels())
	return b.String()
}

func writeLabels(b *strings.Builder, labels map[string]string) {
	b.WriteString("{")
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(strconv.Quote(labels[k]))
	}
	b.WriteString("}")
}

// checkRequest applies the rules that refuse a whole request, and returns its project.
func (s *Server) checkRequest(req *monitoringpb.CreateTimeSeriesRequest) (string, error) {
	project, ok := strings.CutPrefix(req.GetName(), "projects/")
	if !ok || project == "" || strings.Contains(project, "/") {
		return "", fmt.Errorf("Field name had an invalid value of %q: must be projects/[PROJECT_ID_OR_NUMBER]", req.GetName())
	}
	switch n := len(req.GetTimeSeries()); {
	case n == 0:
		return "", fmt.Errorf("Request was missing field timeSeries")
	case n > MaxSeriesPerRequest:
		return "", fmt.Errorf("Field timeSeries had an invalid value: a maximum of %d TimeSeries can be written in a single request; got %d", MaxSeriesPerRequest, n)
	}
	return project, nil
}

// checkSeries applies the rules of one series, against what the fake accepted before.
func (s *Server) checkSeries(ts *monitoringpb.TimeSeries, project string) error {
	if err := s.checkMetric(ts.GetMetric()); err != nil {
		return err
	}
	if err := checkResource(ts.GetResource(), project); err != nil {
		return err
	}
	typ := ts.GetMetric().GetType()
	kind, vt := ts.GetMetricKind(), ts.GetValueType()
	switch kind {
	case metric.MetricDescriptor_GAUGE, metric.MetricDescriptor_CUMULATIVE:
	case metric.MetricDescriptor_DELTA:
		return fmt.Errorf("Field timeSeries.metricKind had an invalid value of \"DELTA\": metric kind DELTA not supported for metric %s", typ)
	default:
		return fmt.Errorf("Field timeSeries.metricKind had an invalid value of %q for metric %s", kind, typ)
	}
	switch vt {
	case metric.MetricDescriptor_INT64, metric.MetricDescriptor_DOUBLE, metric.MetricDescriptor_DISTRIBUTION, metric.MetricDescriptor_BOOL:
	default:
		return fmt.Errorf("Field timeSeries.valueType had an invalid value of %q for metric %s", vt, typ)
	}
	if d, ok := s.descriptors[typ]; ok && (d.kind != int32(kind) || d.valueType != int32(vt)) {
		return fmt.Errorf("Value type for metric %s must be %s %s, but is %s %s",
			typ, metric.MetricDescriptor_MetricKind(d.kind), metric.MetricDescriptor_ValueType(d.valueType), kind, vt)
	}
	if n := len(ts.GetPoints()); n != 1 {
		return fmt.Errorf("Field timeSeries.points had an invalid value: Only one point can be written per TimeSeries per request; got %d for metric %s", n, typ)
	}
	p := ts.GetPoints()[0]
	if err := checkValue(p.GetValue(), vt, typ); err != nil {
		return err
	}
	start, end, err := interval(p.GetInterval(), kind, typ)
	if err != nil {
		return err
	}
	return s.checkOrder(Key(ts), typ, kind, start, end, p.GetValue())
}

func (s *Server) checkMetric(m *metric.Metric) error {
	typ := m.GetType()
	var path string
	for _, p := range s.opts.Prefixes {
		if rest, ok := strings.CutPrefix(typ, p); ok {
			path = rest
			break
		}
	}
	if path == "" {
		return fmt.Errorf("Field timeSeries.metric.type had an invalid value of %q: not under %s", typ, strings.Join(s.opts.Prefixes, " or "))
	}
	for seg := range strings.SplitSeq(path, "/") {
		if !isName(seg) {
			return fmt.Errorf("Field timeSeries.metric.type had an invalid value of %q: path segment %q does not match [a-z][a-z0-9_]*", typ, seg)
		}
	}
	if n := len(m.GetLabels()); n > maxLabels {
		return fmt.Errorf("Metric %s has %d labels; at most %d are allowed", typ, n, maxLabels)
	}
	for k, v := range m.GetLabels() {
		if !isName(k) || len(k) > maxLabelKeyLen {
			return fmt.Errorf("Field timeSeries.metric.labels had an invalid key %q for metric %s: must match [a-z][a-z0-9_]* and have at most %d characters", k, typ, maxLabelKeyLen)
		}
		if len(v) > maxLabelValueBytes {
			return fmt.Errorf("Field timeSeries.metric.labels[%s] of metric %s is %d bytes long; at most %d are allowed", k, typ, len(v), maxLabelValueBytes)
		}
	}
	return nil
}

func checkResource(r *monitoredres.MonitoredResource, project string) error {
	var want []string
	switch r.GetType() {
	case "global":
		want = []string{"project_id"}
	case "generic_node":
		want = []string{"project_id", "location", "namespace", "node_id"}
	default:
		return fmt.Errorf("Field timeSeries.resource.type had an invalid value of %q: want generic_node or global", r.GetType())
	}
	for _, k := range want {
		if _, ok := r.GetLabels()[k]; !ok {
			return fmt.Errorf("Field timeSeries.resource.labels is missing %s for resource type %s", k, r.GetType())
		}
	}
	if len(r.GetLabels()) != len(want) {
		return fmt.Errorf("Field timeSeries.resource.labels has labels resource type %s does not define: %v", r.GetType(), slices.Sorted(maps.Keys(r.GetLabels())))
	}
	if p := r.GetLabels()["project_id"]; p != project {
		return fmt.Errorf("Field timeSeries.resource.labels[project_id] is %q, not the request's project %q", p, project)
	}
	return nil
}

func checkValue(v *monitoringpb.TypedValue, vt metric.MetricDescriptor_ValueType, typ string) error {
	ok := false
	switch x := v.GetValue().(type) {
	case *monitoringpb.TypedValue_Int64Value:
		ok = vt == metric.MetricDescriptor_INT64
	case *monitoringpb.TypedValue_DoubleValue:
		ok = vt == metric.MetricDescriptor_DOUBLE
	case *monitoringpb.TypedValue_BoolValue:
		ok = vt == metric.MetricDescriptor_BOOL
	case *monitoringpb.TypedValue_DistributionValue:
		if vt != metric.MetricDescriptor_DISTRIBUTION {
			break
		}
		return checkDistribution(x.DistributionValue, typ)
	}
	if !ok {
		return fmt.Errorf("Field timeSeries.points[0].value had an invalid value: the point's type is not the series' value type %s for metric %s", vt, typ)
	}
	return nil
}

func checkDistribution(d *distribution.Distribution, typ string) error {
	if d.GetCount() < 0 || d.GetSumOfSquaredDeviation() < 0 {
		return fmt.Errorf("Distribution of metric %s has a negative count or sum of squared deviation", typ)
	}
	counts := d.GetBucketCounts()
	opts := d.GetBucketOptions()
	if opts == nil {
		if len(counts) > 0 {
			return fmt.Errorf("Distribution of metric %s has bucket counts but no bucket options", typ)
		}
		return nil
	}
	if e := opts.GetExplicitBuckets(); e != nil {
		b := e.GetBounds()
		if len(b) == 0 {
			return fmt.Errorf("Distribution of metric %s has explicit buckets without bounds", typ)
		}
		for i := 1; i < len(b); i++ {
			if b[i] <= b[i-1] {
				return fmt.Errorf("Distribution of metric %s has bounds that do not increase", typ)
			}
		}
		if len(counts) > len(b)+1 {
			return fmt.Errorf("Distribution of metric %s has %d bucket counts for %d bounds", typ, len(counts), len(b))
		}
	}
	var total int64
	for _, c := range counts {
		if c < 0 {
			return fmt.Errorf("Distribution of metric %s has a negative bucket count", typ)
		}
		total += c
	}
	if len(counts) > 0 && total != d.GetCount() {
		return fmt.Errorf("Distribution of metric %s: bucket counts add up to %d, not its count %d", typ, total, d.GetCount())
	}
	return nil
}

// interval checks a point's interval for its metric kind and returns it.
func interval(iv *monitoringpb.TimeInterval, kind metric.MetricDescriptor_MetricKind, typ string) (start, end time.Time, err error) {
	if iv.GetEndTime() == nil {
		return start, end, fmt.Errorf("Field timeSeries.points[0].interval.endTime is required (metric %s)", typ)
	}
	end = iv.GetEndTime().AsTime()
	if iv.GetStartTime() != nil {
		start = iv.GetStartTime().AsTime()
	}
	switch kind {
	case metric.MetricDescriptor_GAUGE:
		if !start.IsZero() && !start.Equal(end) {
			return start, end, fmt.Errorf("The start time must be equal to the end time (%s) for the gauge metric %s", end.Format(time.RFC3339Nano), typ)
		}
	case metric.MetricDescriptor_CUMULATIVE:
		if start.IsZero() || !start.Before(end) {
			return start, end, fmt.Errorf("The start time must be before the end time (%s) for the non-gauge metric %s", end.Format(time.RFC3339Nano), typ)
		}
	}
	return start, end, nil
}

// checkOrder applies the rules that relate a point to the series' previous one.
func (s *Server) checkOrder(key, typ string, kind metric.MetricDescriptor_MetricKind, start, end time.Time, v *monitoringpb.TypedValue) error {
	h := s.history[key]
	if len(h) == 0 {
		return nil
	}
	prev := h[len(h)-1]
	if !end.After(prev.End) {
		return fmt.Errorf("Points must be written in order. One or more of the points specified had an older end time than the most recent point. {Metric: %s, Timestamps: {Youngest Existing: '%s', New: '%s'}}",
			typ, stamp(prev.End), stamp(end))
	}
	if end.Sub(prev.End) < s.opts.MinInterval {
		return fmt.Errorf("One or more points were written more frequently than the maximum sampling period configured for the metric. {Metric: %s, Timestamps: {Youngest Existing: '%s', New: '%s'}}",
			typ, stamp(prev.End), stamp(end))
	}
	if kind != metric.MetricDescriptor_CUMULATIVE {
		return nil
	}
	if start.Before(prev.Start) {
		return fmt.Errorf("Points must be written in order. One or more of the points specified had an older start time than the most recent point. {Metric: %s, Timestamps: {Youngest Existing: '%s', New: '%s'}}",
			typ, stamp(prev.Start), stamp(start))
	}
	lower := less(v, prev.Series.GetPoints()[0].GetValue())
	switch {
	case start.Equal(prev.Start) && lower:
		return fmt.Errorf("Cumulative value of metric %s went down without a new start time", typ)
	case !start.Equal(prev.Start) && !lower:
		return fmt.Errorf("Start time of cumulative metric %s changed from %s to %s without a reset of its value", typ, stamp(prev.Start), stamp(start))
	case !start.Equal(prev.Start) && start.Before(prev.End):
		return fmt.Errorf("Cumulative metric %s reset with a start time %s before the end of its previous point %s", typ, stamp(start), stamp(prev.End))
	}
	return nil
}

// less reports whether a cumulative value is lower than the previous one (for a distribution,
// its count).
func less(v, prev *monitoringpb.TypedValue) bool {
	switch x := v.GetValue().(type) {
	case *monitoringpb.TypedValue_Int64Value:
		return x.Int64Value < prev.GetInt64Value()
	case *monitoringpb.TypedValue_DoubleValue:
		return x.DoubleValue < prev.GetDoubleValue()
	case *monitoringpb.TypedValue_DistributionValue:
		return x.DistributionValue.GetCount() < prev.GetDistributionValue().GetCount()
	}
	return false
}

func stamp(t time.Time) string { return t.UTC().Format("2006/01/02-15:04:05.000000000") }

// isName reports whether s matches [a-z][a-z0-9_]*.
func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// seriesError is one series refused in a request.
type seriesError struct {
	index  int
	status *status.Status
}

// partialFailure builds the error Google returns when some series of a request were not
// written: INVALID_ARGUMENT when every failure is one (otherwise the code of the first that
// is not), a message listing each reason with the indexes it applies to, and a
// CreateTimeSeriesSummary counting the points per reason.
func partialFailure(total int, failed []seriesError) error {
	type group struct {
		status  *status.Status
		indexes []string
	}
	var groups []*group
	byReason := map[string]*group{}
	code := codes.InvalidArgument
	for _, f := range failed {
		if code == codes.InvalidArgument && f.status.Code() != codes.InvalidArgument {
			code = f.status.Code()
		}
		reason := f.status.Code().String() + "\x00" + f.status.Message()
		g := byReason[reason]
		if g == nil {
			g = &group{status: f.status}
			byReason[reason] = g
			groups = append(groups, g)
		}
		g.indexes = append(g.indexes, strconv.Itoa(f.index))
	}
	summary := &monitoringpb.CreateTimeSeriesSummary{
		TotalPointCount:   int32(total),
		SuccessPointCount: int32(total - len(failed)),
	}
	msgs := make([]string, len(groups))
	for i, g := range groups {
		summary.Errors = append(summary.Errors, &monitoringpb.CreateTimeSeriesSummary_Error{
			Status:     g.status.Proto(),
			PointCount: int32(len(g.indexes)),
		})
		msgs[i] = fmt.Sprintf("%s: timeSeries[%s]", g.status.Message(), strings.Join(g.indexes, ","))
	}
	st := status.New(code, "One or more TimeSeries could not be written: "+strings.Join(msgs, "; "))
	if withSummary, err := st.WithDetails(summary); err == nil {
		st = withSummary
	}
	return st.Err()
}
