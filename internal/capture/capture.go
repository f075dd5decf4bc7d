// Package capture loads the export requests captured from real Claude Code sessions under
// testdata/claude-code, for tests and benchmarks. It is not used by the daemon.
package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"claude-otel-gw/telemetry"
	"claude-otel-gw/telemetry/otlpjson"

	"google.golang.org/protobuf/proto"
)

// Encodings of captured files, as Claude Code's OTEL_EXPORTER_OTLP_PROTOCOL names them.
const (
	GRPC         = "grpc"
	HTTPProtobuf = "http/protobuf"
	HTTPJSON     = "http/json"
)

// Payload is one captured export request.
type Payload struct {
	Name     string // e.g. "01-prompt-pii-grpc/logs.grpc.pb"
	Signal   telemetry.Signal
	Encoding string
	Body     []byte            // the bytes as they arrived
	Request  telemetry.Request // decoded
}

// Dir is the folder of captured sessions in this repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "claude-code")
}

// All loads every captured request, in name order.
func All() ([]Payload, error) {
	files, err := filepath.Glob(filepath.Join(Dir(), "*", "*.*.*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Payload
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no captured requests under %s", Dir())
	}
	return out, nil
}

// Load reads one captured file; name is a path, or a name relative to Dir.
func Load(name string) (Payload, error) {
	path := name
	if !filepath.IsAbs(path) {
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(Dir(), name)
		}
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return Payload{}, err
	}
	base := filepath.Base(path)
	p := Payload{Name: filepath.Join(filepath.Base(filepath.Dir(path)), base), Body: body}
	sigName, rest, _ := strings.Cut(base, ".")
	sig, ok := telemetry.ParseSignal(sigName)
	if !ok {
		return Payload{}, fmt.Errorf("%s: no signal in the name", path)
	}
	p.Signal = sig
	p.Request = telemetry.Empty(sig)
	switch rest {
	case "grpc.pb":
		p.Encoding = GRPC
		err = proto.Unmarshal(body, p.Request.Message())
	case "http.pb":
		p.Encoding = HTTPProtobuf
		err = proto.Unmarshal(body, p.Request.Message())
	case "http.json":
		p.Encoding = HTTPJSON
		err = otlpjson.Unmarshal(body, p.Request.Message())
	default:
		return Payload{}, fmt.Errorf("%s: unknown encoding %q", path, rest)
	}
	if err != nil {
		return Payload{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Secrets are personal data and credentials the captured sessions' prompts and answers carry;
// none may survive redaction.
var Secrets = []string{
	"alice.smith@example.org", "jane.doe@example.com",
	"(415) 555-0134", "078-05-1120", "4111 1111 1111 1111",
	"AKIAIOSFODNN7EXAMPLE", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
	"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
	"10.20.30.40", "fe80::1ff:fe23:4567:890a",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0",
}
