package promsink

import "testing"

func TestMetricName(t *testing.T) {
	tests := []struct {
		name, unit string
		kind       kind
		want       string
	}{
		{"claude_code.cost.usage", "USD", kindCounter, "claude_code_cost_usage_USD_total"},
		{"claude_code.token.usage", "tokens", kindCounter, "claude_code_token_usage_tokens_total"},
		{"claude_code.active_time.total", "s", kindCounter, "claude_code_active_time_seconds_total"},
		{"claude_code.session.count", "", kindCounter, "claude_code_session_count_total"},
		{"claude_code.code_edit_tool.decision", "", kindCounter, "claude_code_code_edit_tool_decision_total"},
		{"claude_code.token.usage", "{token}", kindCounter, "claude_code_token_usage_total"},
		{"http.server.duration", "ms", kindHistogram, "http_server_duration_milliseconds"},
		{"network.io", "By/s", kindGauge, "network_io_bytes_per_second"},
		{"request.rate", "{request}/s", kindGauge, "request_rate_per_second"},
		{"cpu.utilization", "1", kindGauge, "cpu_utilization_ratio"},
		{"cpu.utilization", "1", kindCounter, "cpu_utilization_total"},
		{"job.seconds", "s", kindCounter, "job_seconds_total"},
		{"total.requests", "", kindCounter, "requests_total"},
		{"total.requests", "", kindGauge, "total_requests"},
		{"queue..depth__now", "", kindGauge, "queue_depth_now"},
		{"2xx.responses", "", kindCounter, "_2xx_responses_total"},
		{"temp", "Cel", kindGauge, "temp_celsius"},
		{"odd", "kg·m", kindGauge, "odd_kg_m"},
		{"résumé.count", "", kindCounter, "r_sum_count_total"},
		{"...", "s", kindCounter, ""},
	}
	for _, tt := range tests {
		if got := metricName(tt.name, tt.unit, tt.kind); got != tt.want {
			t.Errorf("metricName(%q, %q, %v) = %q; want %q", tt.name, tt.unit, tt.kind, got, tt.want)
		}
	}
}

func TestLabelName(t *testing.T) {
	tests := []struct{ key, want, err string }{
		{key: "user.id", want: "user_id"},
		{key: "tool_name", want: "tool_name"},
		{key: "mcp_server.name", want: "mcp_server_name"},
		{key: "http-status", want: "http_status"},
		{key: "1st", want: "key_1st"},
		{key: "_private", want: "key_private"},
		{key: "__name__", err: `attribute "__name__" would become label "__name__", a name reserved to Prometheus`},
		{key: "..x", err: `attribute "..x" would become label "__x", a name reserved to Prometheus`},
		{key: "quantile", err: `attribute "quantile" would become label "quantile", which Prometheus reserves for histograms and summaries`},
		{key: "", err: "an attribute key must not be empty"},
	}
	for _, tt := range tests {
		got, err := labelName(tt.key)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("labelName(%q): %v; want error %q", tt.key, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("labelName(%q) = %q, %v; want %q", tt.key, got, err, tt.want)
		}
	}
}
