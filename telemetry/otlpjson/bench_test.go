package otlpjson

import (
	"os"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// The benchmarks use the logs request Claude Code sent over http/json in
// testdata/claude-code/03-jwt-ip-http-json: twenty events, two hundred attributes. The
// protojson ones are there for comparison only.

const benchFile = "../../testdata/claude-code/03-jwt-ip-http-json/logs.http.json"

func benchRequest(b *testing.B) ([]byte, *collogspb.ExportLogsServiceRequest) {
	b.Helper()
	data, err := os.ReadFile(benchFile)
	if err != nil {
		b.Fatal(err)
	}
	var m collogspb.ExportLogsServiceRequest
	if err := Unmarshal(data, &m); err != nil {
		b.Fatal(err)
	}
	return data, &m
}

// benchPaths runs f as the package runs, and with the hand-written attribute code stood aside.
func benchPaths(b *testing.B, f func(b *testing.B)) {
	b.Run("hand-written", f)
	b.Run("descriptor-driven", func(b *testing.B) {
		withoutHandWritten(b)
		f(b)
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	data, _ := benchRequest(b)
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var m collogspb.ExportLogsServiceRequest
			if err := Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	_, m := benchRequest(b)
	out, err := Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	benchPaths(b, func(b *testing.B) {
		b.SetBytes(int64(len(out)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkProtojsonUnmarshal(b *testing.B) {
	_, m := benchRequest(b)
	data, err := protojson.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var m collogspb.ExportLogsServiceRequest
		if err := protojson.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProtojsonMarshal(b *testing.B) {
	_, m := benchRequest(b)
	out, err := protojson.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protojson.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}
