package promsink

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

const dashboardFile = "../../deploy/grafana/claude-code-usage.json"

// TestDashboardQueriesWhatTheSinkExports replays the captured sessions (plus the documented
// metrics they did not produce: no commit or pull request was made in them) with the labels
// the dashboard filters on, and checks that every metric, label and literal label value the
// dashboard's PromQL names is one the sink exports.
func TestDashboardQueriesWhatTheSinkExports(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	checkDashboardShape(t, dash)

	w := started(t, Options{Labels: []string{"user.id", "model", "type", "decision", "tool_name", "team"}})
	for _, r := range capturedMetrics(t) {
		write(t, w, r)
	}
	write(t, w, request(claudeResource,
		sum("claude_code.commit.count", "", delta, true, num(0, 1, 1, "user.id", "u1")),
		sum("claude_code.pull_request.count", "", delta, true, num(0, 1, 1, "user.id", "u1")),
	))
	fams, _ := scrape(t, w)
	labelValues := exportedLabels(fams)

	exprs := dashboardQueries(dash)
	if len(exprs) < 10 {
		t.Fatalf("found %d queries in the dashboard; the walk over its JSON is broken", len(exprs))
	}
	used := map[string]bool{}
	for _, e := range exprs {
		q, err := scanPromQL(e)
		if err != nil {
			t.Errorf("%s: %v", e, err)
			continue
		}
		if len(q.metrics) == 0 {
			t.Errorf("query selects no metric: %s", e)
		}
		for _, m := range q.metrics {
			used[m] = true
			if fams[m] == nil {
				t.Errorf("query uses %s, which the sink does not export (it exports %v): %s", m, slices.Sorted(maps.Keys(fams)), e)
			}
		}
		for _, l := range q.labels {
			if labelValues[l] == nil {
				t.Errorf("query uses label %s, which the sink does not export (it exports %v): %s", l, slices.Sorted(maps.Keys(labelValues)), e)
			}
		}
		for _, m := range q.matches {
			if !labelValues[m[0]][m[1]] {
				t.Errorf("query matches %s=%q, a value the sink does not export: %s", m[0], m[1], e)
			}
		}
	}
	// The panels the dashboard exists for.
	for _, m := range []string{
		"claude_code_cost_usage_USD_total", "claude_code_token_usage_tokens_total", "claude_code_session_count_total",
		"claude_code_code_edit_tool_decision_total", "claude_code_lines_of_code_count_total",
	} {
		if !used[m] {
			t.Errorf("no panel queries %s", m)
		}
	}
}

// checkDashboardShape checks what Grafana needs to import the dashboard and what its filters
// rely on: a Prometheus datasource variable every panel uses, and team and user_id variables.
func checkDashboardShape(t *testing.T, dash map[string]any) {
	t.Helper()
	if v, _ := dash["schemaVersion"].(float64); v < 36 {
		t.Errorf("schemaVersion %v; want 36 or later", dash["schemaVersion"])
	}
	vars := map[string]map[string]any{}
	for _, v := range list(dash, "templating", "list") {
		vars[fmt.Sprint(v["name"])] = v
	}
	if ds := vars["datasource"]; ds == nil || ds["type"] != "datasource" || ds["query"] != "prometheus" {
		t.Errorf("datasource variable: %v; want a prometheus datasource variable", ds)
	}
	for _, name := range []string{"team", "user_id"} {
		if v := vars[name]; v == nil || v["type"] != "query" {
			t.Errorf("variable %s: %v; want a query variable", name, v)
		}
	}
	panels := list(dash, "panels")
	if len(panels) == 0 {
		t.Fatal("no panels")
	}
	for _, p := range panels {
		ds, _ := p["datasource"].(map[string]any)
		if ds["uid"] != "${datasource}" {
			t.Errorf("panel %q uses datasource %v; want ${datasource}", p["title"], p["datasource"])
		}
	}
}

// list follows keys through nested objects to an array of objects.
func list(v map[string]any, keys ...string) []map[string]any {
	var cur any = v
	for _, k := range keys {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	arr, _ := cur.([]any)
	var out []map[string]any
	for _, x := range arr {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// dashboardQueries returns every PromQL expression of the dashboard: the panels' targets
// (panels nested in rows too) and the variables' queries.
func dashboardQueries(dash map[string]any) []string {
	var out []string
	var panels func([]map[string]any)
	panels = func(ps []map[string]any) {
		for _, p := range ps {
			for _, target := range list(p, "targets") {
				if e, ok := target["expr"].(string); ok {
					out = append(out, e)
				}
			}
			panels(list(p, "panels"))
		}
	}
	panels(list(dash, "panels"))
	for _, v := range list(dash, "templating", "list") {
		if v["type"] != "query" {
			continue
		}
		switch q := v["query"].(type) {
		case string:
			out = append(out, q)
		case map[string]any:
			out = append(out, fmt.Sprint(q["query"]))
		}
	}
	return out
}

// exportedLabels maps each label name in the scrape to the values it has.
func exportedLabels(fams map[string]*dto.MetricFamily) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if out[l.GetName()] == nil {
					out[l.GetName()] = map[string]bool{}
				}
				out[l.GetName()][l.GetValue()] = true
			}
		}
	}
	return out
}

// promQL is what scanPromQL found in an expression.
type promQL struct {
	metrics []string
	labels  []string    // in matchers, by/without/on/ignoring lists, label_values
	matches [][2]string // label="literal" matchers
}

// Words that are PromQL operators, not metric names, when they stand alone.
var promQLKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
}

// scanPromQL is a small scanner for the PromQL a Grafana dashboard holds (with $variables): it
// sorts the identifiers into metric names, label names and label matchers. It is not a parser;
// it knows enough of the grammar for the test to fail on a name the sink does not export.
func scanPromQL(s string) (promQL, error) {
	var q promQL
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(s, i)
			if err != nil {
				return q, err
			}
			i = end
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return q, fmt.Errorf("unclosed [ at %d", i)
			}
			i += end + 1
		case c == '$':
			i = skipVariable(s, i)
		case c == '{':
			end, err := q.matchers(s, i)
			if err != nil {
				return q, err
			}
			i = end
		case isDigit(c) || c == '.':
			for i < len(s) && (isAlnum(rune(s[i])) || s[i] == '.') {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			word := s[start:i]
			next := skipSpace(s, i)
			switch {
			case word == "by" || word == "without" || word == "on" || word == "ignoring" || word == "group_left" || word == "group_right":
				if next < len(s) && s[next] == '(' {
					end := strings.IndexByte(s[next:], ')')
					if end < 0 {
						return q, fmt.Errorf("unclosed ( after %s", word)
					}
					for _, l := range strings.Split(s[next+1:next+end], ",") {
						if l = strings.TrimSpace(l); l != "" {
							q.labels = append(q.labels, l)
						}
					}
					i = next + end + 1
				}
			case word == "label_values" && next < len(s) && s[next] == '(':
				// Grafana's label_values(selector, label): the last argument is a label.
				end := matchingParen(s, next)
				if end < 0 {
					return q, fmt.Errorf("unclosed label_values(")
				}
				args := s[next+1 : end]
				comma := strings.LastIndexByte(args, ',')
				if comma < 0 {
					return q, fmt.Errorf("label_values without a label: %s", args)
				}
				inner, err := scanPromQL(args[:comma])
				if err != nil {
					return q, err
				}
				q.metrics = append(q.metrics, inner.metrics...)
				q.labels = append(q.labels, inner.labels...)
				q.matches = append(q.matches, inner.matches...)
				q.labels = append(q.labels, strings.TrimSpace(args[comma+1:]))
				i = end + 1
			case next < len(s) && s[next] == '(':
				// A function or an aggregation.
			case promQLKeywords[word] || isAggregation(word) && next < len(s) && (strings.HasPrefix(s[next:], "by") || strings.HasPrefix(s[next:], "without")):
			default:
				q.metrics = append(q.metrics, word)
			}
		default:
			i++
		}
	}
	return q, nil
}

func isAggregation(w string) bool {
	switch w {
	case "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio":
		return true
	}
	return false
}

// matchers reads {name op "value", ...} at s[i] and returns the index after it.
func (q *promQL) matchers(s string, i int) (int, error) {
	i++ // {
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return i, fmt.Errorf("unclosed {")
		}
		if s[i] == '}' {
			return i + 1, nil
		}
		if s[i] == ',' {
			i++
			continue
		}
		start := i
		for i < len(s) && isIdentChar(s[i]) {
			i++
		}
		name := s[start:i]
		if name == "" {
			return i, fmt.Errorf("a matcher without a label at %d: %s", i, s)
		}
		i = skipSpace(s, i)
		opStart := i
		for i < len(s) && strings.IndexByte("=!~", s[i]) >= 0 {
			i++
		}
		op := s[opStart:i]
		i = skipSpace(s, i)
		end, err := skipString(s, i)
		if err != nil {
			return i, err
		}
		val := s[i+1 : end-1]
		q.labels = append(q.labels, name)
		if op == "=" && !strings.Contains(val, "$") {
			q.matches = append(q.matches, [2]string{name, val})
		}
		i = end
	}
}

// skipString returns the index after the string literal starting at s[i].
func skipString(s string, i int) (int, error) {
	if i >= len(s) || strings.IndexByte("\"'`", s[i]) < 0 {
		return i, fmt.Errorf("a string expected at %d: %s", i, s)
	}
	quote := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if quote != '`' {
				j++
			}
		case quote:
			return j + 1, nil
		}
	}
	return i, fmt.Errorf("unclosed string at %d: %s", i, s)
}

// skipVariable skips a Grafana variable: $name, ${name} or ${name:format}.
func skipVariable(s string, i int) int {
	i++
	if i < len(s) && s[i] == '{' {
		if end := strings.IndexByte(s[i:], '}'); end >= 0 {
			return i + end + 1
		}
		return len(s)
	}
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	return i
}

func matchingParen(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return j
			}
		case '"', '\'', '`':
			end, err := skipString(s, j)
			if err != nil {
				return -1
			}
			j = end - 1
		}
	}
	return -1
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
		i++
	}
	return i
}

func isIdentStart(c byte) bool { return c == '_' || c == ':' || isAlnum(rune(c)) && !isDigit(c) }
func isIdentChar(c byte) bool  { return c == '_' || c == ':' || isAlnum(rune(c)) }

// TestScanPromQL checks the scanner the dashboard test relies on, including that it finds the
// names a typo would break.
func TestScanPromQL(t *testing.T) {
	tests := []struct {
		expr            string
		metrics, labels []string
		matches         [][2]string
	}{
		{
			expr:    `sum by (user_id, model) (increase(claude_code_cost_usage_USD_total{team=~"$team", decision="accept"}[$__rate_interval]))`,
			metrics: []string{"claude_code_cost_usage_USD_total"},
			labels:  []string{"user_id", "model", "team", "decision"},
			matches: [][2]string{{"decision", "accept"}},
		},
		{
			expr:    `sum(rate(a_total[5m])) by (type) / on(type) group_left sum without (x) (b_total offset 1h) > bool 0.5`,
			metrics: []string{"a_total", "b_total"},
			labels:  []string{"type", "type", "x"},
		},
		{
			expr:    `label_values(claude_code_session_count_total{team=~"$team"}, user_id)`,
			metrics: []string{"claude_code_session_count_total"},
			labels:  []string{"team", "user_id"},
		},
		{
			expr:    `topk(5, sum by (model) (x{a="}{", b='q'})) and ${var:raw} unless y`,
			metrics: []string{"x", "y"},
			labels:  []string{"model", "a", "b"},
			matches: [][2]string{{"a", "}{"}, {"b", "q"}},
		},
	}
	for _, tt := range tests {
		q, err := scanPromQL(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if !slices.Equal(q.metrics, tt.metrics) || !slices.Equal(q.labels, tt.labels) || !slices.Equal(q.matches, tt.matches) {
			t.Errorf("%s:\n got metrics %v labels %v matches %v\nwant metrics %v labels %v matches %v",
				tt.expr, q.metrics, q.labels, q.matches, tt.metrics, tt.labels, tt.matches)
		}
	}
	for _, bad := range []string{`x{a="b"`, `x{a="b}`, `x[5m`, `label_values(x)`} {
		if _, err := scanPromQL(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
