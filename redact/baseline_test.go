package redact

import (
	"regexp"
	"strings"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"claude-otel-gw/admin"
)

// The baseline is what this package replaces: the same detectors as an OpenTelemetry Collector
// redaction processor would be configured with them, one regex a detector (Bindplane's preset
// patterns for email, SSN, card, phone and IPv4, and the usual key formats for the rest),
// applied the way the processor applies them: to each string, each regex in turn, MatchString
// and then, on a hit, ReplaceAllString, which runs the regex a second time.
var baselineRules = []struct{ name, re string }{
	{"email", `\b[a-z0-9._%\+\-—|]+@[a-z0-9.\-—|]+\.[a-z|]{2,6}\b`},
	{"phone", `\b((\+|\b)[1l][\-\. ])?\(?\b[\dOlZSB]{3,5}([\-\. ]|\) ?)[\dOlZSB]{3}[\-\. ][\dOlZSB]{4}\b|\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,5}\b`},
	{"ssn", `\b\d{3}[- ]\d{2}[- ]\d{4}\b`},
	{"credit_card", `\b(?:(?:(?:\d{4}[- ]?){3}\d{4}|\d{15,16}))\b|\b3[47]\d{2}[- ]?\d{6}[- ]?\d{5}\b`},
	{"ip", `\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b|\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b|\b(?:[0-9A-Fa-f]{1,4}:){1,7}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?\b`},
	{"cloud_key", `\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_\-]{35}\b|\bya29\.[0-9A-Za-z_\-.]+|(?i)aws_secret_access_key["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}`},
	{"vcs_token", `\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}\b|\bglpat-[A-Za-z0-9_\-]{20,}\b`},
	{"ai_key", `\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}`},
	{"saas_token", `\bxox[abposr]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/[A-Za-z0-9/]+|\b[rs]k_live_[A-Za-z0-9]{10,}|\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}|\bnpm_[A-Za-z0-9]{30,}`},
	{"jwt", `\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*`},
	{"private_key", `-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`},
	{"auth_header", `(?i)\b(?:bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*`},
	{"url_credentials", `[A-Za-z][A-Za-z0-9+.\-]*://[^:@/\s]+:[^@/\s]+@`},
	{"secret_assignment", `(?i)\b[a-z_]*(?:password|passwd|pwd|secret|token|api_?key)["']?\s*[:=]\s*["']?[^\s"',;]+|--(?:password|token|secret)\s+\S+`},
}

type baseline []*regexp.Regexp

func newBaseline(tb testing.TB) baseline {
	var b baseline
	for _, r := range baselineRules {
		re, err := regexp.Compile(r.re)
		if err != nil {
			tb.Fatalf("baseline %s: %v", r.name, err)
		}
		b = append(b, re)
	}
	return b
}

func (b baseline) redact(s string) string {
	for _, re := range b {
		if re.MatchString(s) {
			s = re.ReplaceAllString(s, "****")
		}
	}
	return s
}

// TestBaselineIsFair keeps the baseline honest: it must catch most of what the corpus says
// must go, or beating it would say nothing.
func TestBaselineIsFair(t *testing.T) {
	b := newBaseline(t)
	var redact, gone, keep, kept int
	for _, c := range readCorpus(t) {
		out := b.redact(c.Text)
		for _, r := range c.Redact {
			redact++
			if !strings.Contains(out, r) {
				gone++
			}
		}
		for _, k := range c.Keep {
			keep++
			if strings.Contains(out, k) {
				kept++
			}
		}
	}
	t.Logf("baseline: %d of %d values to redact gone, %d of %d values to keep intact", gone, redact, kept, keep)
	if gone*10 < redact*6 {
		t.Errorf("the baseline catches only %d of %d values: not a fair baseline", gone, redact)
	}
}

// secretsText is the corpus's texts with something to redact, one a line: text dense with
// secrets.
func secretsText(tb testing.TB) string {
	var texts []string
	for _, c := range readCorpus(tb) {
		if len(c.Redact) > 0 {
			texts = append(texts, c.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// BenchmarkVsBaseline compares this package with the baseline on clean Claude Code text, on
// text dense with secrets, and on the captured logs request (per record; the baseline, like
// the Collector's processor, looks at attribute values only, and still takes longer).
func BenchmarkVsBaseline(b *testing.B) {
	p, err := Compile("default", nil, admin.NewTestMetrics())
	if err != nil {
		b.Fatal(err)
	}
	base := newBaseline(b)
	texts := []struct{ name, text string }{
		{"clean", prose},
		{"dense", secretsText(b)},
	}
	for _, tt := range texts {
		b.Run(tt.name+"/ours", func(b *testing.B) { benchString(b, p, tt.text) })
		b.Run(tt.name+"/baseline", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tt.text)))
			for b.Loop() {
				base.redact(tt.text)
			}
		})
	}

	in := readCaptured(b, "../testdata/claude-code/01-prompt-pii-grpc/logs.grpc.pb")
	records := in.Records()
	perRecord := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records), "ns/record")
	}
	b.Run("logs/ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Redact(in); err != nil {
				b.Fatal(err)
			}
		}
		perRecord(b)
	})
	b.Run("logs/baseline", func(b *testing.B) {
		var attrs []string
		for _, rl := range in.Logs.ResourceLogs {
			attrs = appendStrings(attrs, rl.Resource.GetAttributes())
			for _, sl := range rl.ScopeLogs {
				attrs = appendStrings(attrs, sl.Scope.GetAttributes())
				for _, lr := range sl.LogRecords {
					attrs = appendStrings(attrs, lr.Attributes)
				}
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range attrs {
				base.redact(s)
			}
		}
		perRecord(b)
	})
}

// appendStrings appends the string values of kvs, as the Collector's processor sees them.
func appendStrings(out []string, kvs []*commonpb.KeyValue) []string {
	for _, kv := range kvs {
		if s, ok := kv.GetValue().GetValue().(*commonpb.AnyValue_StringValue); ok {
			out = append(out, s.StringValue)
		}
	}
	return out
}
