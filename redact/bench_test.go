package redact

import (
	"strconv"
	"strings"
	"testing"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
)

// prose is ordinary text from a coding session: numbers, versions, paths, times, ids, but
// nothing to redact.
const prose = `The queue in sinks/queue.go:142 drops the oldest batch when it is full; before v1.85.0 it
refused new data instead, which made Claude Code give up after 0.6 s. I ran go test -race ./...
at 2026-11-25T20:39:55Z and it took 1m42.5s for 1048576 bytes in 3 batches of 349525 records.
Session 50feffc1-e20e-46c3-836e-e6859465276c used claude-opus-5-5 for 1200 input tokens, costing
$0.00762; commit 3f786850e387550fdab836ed7e6dc881de23001b fixes the race. Listen on :8080 and
proxy to localhost:4317, then reset the password flow so users can change their password. The
span 93a278a4e4e1e8da belongs to trace 5b8efff798038103d269b633813fc60c, and the image digest is
sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 for release 1.26.8.`

// logLines is clean output of a build and a service, as a session's tool results hold it:
// times, durations, counts, paths with line numbers, Rust paths, loopback addresses.
const logLines = `2026-11-25 20:39:55.123 INFO  gateway: listening on 127.0.0.1:4317 (grpc) and 127.0.0.1:4318
2026-11-25 20:39:55.131 DEBUG sinks::queue: flushed 512 records in 12.5ms (queue 3/1024, 98% free)
2026-11-25 20:39:56.007 WARN  route::rules: rule 7 at config.toml:42:5 matches no signal
2026-11-25 20:40:01.950 INFO  compiling claude-otel-gw v0.3.1 (/home/dev/src/claude-otel-gw)
2026-11-25 20:40:12.418 INFO  finished release [optimized] target(s) in 10.47s, 3 warnings
2026-11-25 20:40:12.502 ERROR std::io::Error at src/main.rs:118:9: connection reset after 30s
2026-11-25 20:40:13.000 INFO  retry 2 of 5 in 1.5s; p99 latency 230 ms, 1048576 bytes sent`

func benchString(b *testing.B, p *Profile, text string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		p.String(text)
	}
}

func BenchmarkStringProse(b *testing.B) {
	p, _ := Compile("default", nil, admin.NewTestMetrics())
	if p.String(prose) != prose {
		b.Fatalf("prose changed: %q", p.String(prose))
	}
	benchString(b, p, prose)
}

func BenchmarkStringLog(b *testing.B) {
	p, _ := Compile("default", nil, admin.NewTestMetrics())
	if p.String(logLines) != logLines {
		b.Fatalf("log lines changed: %q", p.String(logLines))
	}
	benchString(b, p, logLines)
}

// BenchmarkStringLengths redacts the start of the prose at the lengths of attribute values (a
// model name, a path, a command line, a paragraph): a short string without a spot should cost
// its scan and little else.
func BenchmarkStringLengths(b *testing.B) {
	p, _ := Compile("default", nil, admin.NewTestMetrics())
	for _, n := range []int{16, 64, 128, 256} {
		b.Run(strconv.Itoa(n), func(b *testing.B) { benchString(b, p, prose[:n]) })
	}
}

func BenchmarkStringSecrets(b *testing.B) {
	text := secretsText(b)
	for _, action := range []string{"mask", "hash"} {
		b.Run(action, func(b *testing.B) {
			cfg := &config.Redaction{Action: action}
			if action == "hash" {
				cfg.HashKeyFile = writeKeyFile(b, "bench")
			}
			p, err := Compile("default", cfg, admin.NewTestMetrics())
			if err != nil {
				b.Fatal(err)
			}
			benchString(b, p, text)
		})
	}
}

func benchRedact(b *testing.B, path string) {
	p, _ := Compile("default", nil, admin.NewTestMetrics())
	in := readCaptured(b, path)
	records := in.Records()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Redact(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRedactLogs redacts the captured request with a prompt full of personal data.
func BenchmarkRedactLogs(b *testing.B) {
	benchRedact(b, "../testdata/claude-code/01-prompt-pii-grpc/logs.grpc.pb")
}

// BenchmarkRedactMetrics redacts a captured request with nothing to redact.
func BenchmarkRedactMetrics(b *testing.B) {
	benchRedact(b, "../testdata/claude-code/01-prompt-pii-grpc/metrics.grpc.pb")
}

// BenchmarkAdversarial redacts 256 KiB strings built to make a careless detector read the
// same text again from every spot in it: the figures should stay within a small factor of
// ordinary text.
func BenchmarkAdversarial(b *testing.B) {
	p, _ := Compile("default", nil, admin.NewTestMetrics())
	const size = 256 << 10
	for _, tt := range []struct{ name, unit string }{
		{"jwt-runs", "-eyJ"},
		{"masks-and-emails", "[REDACTED:email] a@b.co "},
		{"assignments", "password=password="},
		{"pem-begins", "-----BEGIN A PRIVATE KEY-----"},
		{"tokens", "sk-sk-"},
		{"curl-users", "curl -u -u "},
		{"colons", "a:b:"},
		{"digits", "1-2 "},
	} {
		text := strings.Repeat(tt.unit, size/len(tt.unit))
		b.Run(tt.name, func(b *testing.B) { benchString(b, p, text) })
	}
}
