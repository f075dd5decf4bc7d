package cloudmonitoring

import (
	"strings"
	"testing"
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

func TestMetricType(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, want string }{
		{"claude_code.cost.usage", "workload.googleapis.com/claude_code/cost/usage"},
		{"claude_code.code_edit_tool.decision", "workload.googleapis.com/claude_code/code_edit_tool/decision"},
		{"Claude.Code-Usage", "workload.googleapis.com/claude/code_usage"},
		{"a..b.", "workload.googleapis.com/a/b"},
		{"2fa.count", "workload.googleapis.com/n_2fa/count"},
		{"_private", "workload.googleapis.com/n__private"},
		{"naïve", "workload.googleapis.com/na_ve"},
		{"...", ""},
		{"", ""},
	}
	for _, c := range cases {
		if got := metricType(WorkloadPrefix, c.name); got != c.want {
			t.Errorf("metricType(%q) = %q; want %q", c.name, got, c.want)
		}
	}
}

func TestLabelKey(t *testing.T) {
	t.Parallel()
	cases := []struct{ key, want string }{
		{"user.id", "user_id"},
		{"session.id", "session_id"},
		{"model", "model"},
		{"Terminal.Type", "terminal_type"},
		{"mcp_server.name", "mcp_server_name"},
		{"1st", "key_1st"},
		{"_x", "key__x"},
		{"a-b c", "a_b_c"},
		{strings.Repeat("a", 150), strings.Repeat("a", 100)},
		{"", ""},
	}
	for _, c := range cases {
		if got := labelKey(c.key); got != c.want {
			t.Errorf("labelKey(%q) = %q; want %q", c.key, got, c.want)
		}
	}
}

func TestLabelValue(t *testing.T) {
	t.Parallel()
	str := func(s string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
	}
	cases := []struct {
		name string
		v    *commonpb.AnyValue
		want string
		ok   bool
	}{
		{"string", str("claude-opus"), "claude-opus", true},
		{"bool", &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}, "true", true},
		{"int", &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: -42}}, "-42", true},
		{"double", &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 0.5}}, "0.5", true},
		{"long", str(strings.Repeat("x", 2000)), strings.Repeat("x", 1024), true},
		{"cut between runes", str("a" + strings.Repeat("é", 600)), "a" + strings.Repeat("é", 511), true},
		{"invalid utf-8", str("a\xffb"), "a\uFFFDb", true},
		{"array", &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{}}}, "", false},
		{"empty", &commonpb.AnyValue{}, "", false},
	}
	for _, c := range cases {
		got, ok := labelValue(c.v)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: labelValue = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
		if len(got) > maxLabelValueBytes || !utf8.ValidString(got) {
			t.Errorf("%s: %d bytes, valid UTF-8 %v", c.name, len(got), utf8.ValidString(got))
		}
	}
}
