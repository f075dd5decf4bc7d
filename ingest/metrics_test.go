package ingest

import (
	"testing"

	"claude-otel-gw/admin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Every series ingest can move exists, at zero, as soon as the server is built, so a dashboard
// or an alert on a rate sees it before the first refusal happens.
func TestMetricSeriesExistFromTheStart(t *testing.T) {
	m := admin.NewTestMetrics()
	if _, err := New(testConfig(), &recorder{}, m, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    prometheus.Collector
		n    int
	}{
		{"received_records_total", m.ReceivedRecords, 3 * 2},               // signal x transport
		{"refused_requests_total", m.RefusedRequests, 2 * int(numReasons)}, // transport x reason
		{"refused_records_total", m.RefusedRecords, 3 * 2},                 // signal x {throttled, unavailable}
	} {
		if got := testutil.CollectAndCount(tc.c); got != tc.n {
			t.Errorf("%s has %d series, want %d", tc.name, got, tc.n)
		}
	}
}
