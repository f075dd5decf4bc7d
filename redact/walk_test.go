package redact

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"claude-otel-gw/admin"
	"claude-otel-gw/config"
	"claude-otel-gw/internal/capture"
	"claude-otel-gw/telemetry"
)

func strVal(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

func strKV(k, v string) *commonpb.KeyValue { return &commonpb.KeyValue{Key: k, Value: strVal(v)} }

func kvlist(kvs ...*commonpb.KeyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}}
}

func array(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
}

// logsRequest is a logs request with one record carrying attrs, on a resource with resAttrs.
func logsRequest(resAttrs []*commonpb.KeyValue, attrs ...*commonpb.KeyValue) telemetry.Request {
	return telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: resAttrs},
		ScopeLogs: []*logspb.ScopeLogs{{
			Scope:      &commonpb.InstrumentationScope{Name: "com.anthropic.claude_code.events"},
			LogRecords: []*logspb.LogRecord{{Attributes: attrs}},
		}},
	}}}}
}

// bodyOrAttr returns the first record's first attribute value, as text.
func bodyOrAttr(r telemetry.Request) string {
	return r.Logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0].Attributes[0].GetValue().GetStringValue()
}

// visitStrings calls f with every string in m, field values and list elements alike.
func visitStrings(m protoreflect.Message, f func(field protoreflect.FieldDescriptor, s string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				switch {
				case fd.Message() != nil:
					visitStrings(l.Get(i).Message(), f)
				case fd.Kind() == protoreflect.StringKind:
					f(fd, l.Get(i).String())
				}
			}
		case fd.Message() != nil:
			visitStrings(v.Message(), f)
		case fd.Kind() == protoreflect.StringKind:
			f(fd, v.String())
		}
		return true
	})
}

// ids collects what must never change: trace, span and parent span ids, and the values of the
// id attributes.
func ids(m proto.Message) []string {
	var out []string
	var visit func(m protoreflect.Message)
	visit = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Kind() == protoreflect.BytesKind && strings.HasSuffix(string(fd.Name()), "_id"):
				out = append(out, string(fd.Name())+"="+string(v.Bytes()))
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					visit(v.List().Get(i).Message())
				}
			case fd.Message() != nil:
				visit(v.Message())
			}
			return true
		})
		if kv, ok := m.Interface().(*commonpb.KeyValue); ok && isIDKey(kv.Key) {
			out = append(out, kv.Key+"="+kv.GetValue().GetStringValue())
		}
	}
	visit(m.ProtoReflect())
	return out
}

func readCaptured(t testing.TB, path string) telemetry.Request {
	t.Helper()
	p, err := capture.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p.Request
}

// capturedSecrets are the personal data and keys typed into the captured sessions' prompts
// (see testdata/claude-code/README.md), and the email address the stand-in API answers with.
var capturedSecrets = []string{
	"alice.smith@example.org", "(415) 555-0134", "555-0134", "078-05-1120", "4111 1111 1111 1111",
	"jane.doe@example.com",
	"AKIAIOSFODNN7EXAMPLE", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
	"sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz01234567890ABC",
}

func TestRedactCaptured(t *testing.T) {
	files, err := filepath.Glob("../testdata/claude-code/*/*.pb")
	if err != nil || len(files) < 9 {
		t.Fatalf("captured requests: %v, %v", files, err)
	}
	p := mustCompile(t, "default", nil)
	for _, path := range files {
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			in := readCaptured(t, path)
			before := proto.Clone(in.Message())
			var found []string // the strings holding a secret
			visitStrings(in.Message().ProtoReflect(), func(_ protoreflect.FieldDescriptor, s string) {
				if slices.ContainsFunc(capturedSecrets, func(secret string) bool { return strings.Contains(s, secret) }) {
					found = append(found, s)
				}
			})

			out, err := p.Redact(in)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(in.Message(), before) {
				t.Fatal("Redact modified its input")
			}
			if out.Signal() != in.Signal() || out.Records() != in.Records() {
				t.Errorf("got %v with %d records, want %v with %d", out.Signal(), out.Records(), in.Signal(), in.Records())
			}
			visitStrings(out.Message().ProtoReflect(), func(fd protoreflect.FieldDescriptor, s string) {
				for _, secret := range capturedSecrets {
					if strings.Contains(s, secret) {
						t.Errorf("%s still holds %q: %q", fd.FullName(), secret, s)
					}
				}
			})
			if a, b := ids(in.Message()), ids(out.Message()); !slices.Equal(a, b) {
				t.Errorf("ids changed:\n before %q\n after  %q", a, b)
			}
			if len(found) == 0 {
				if out.Message() != in.Message() {
					t.Errorf("nothing to redact, but Redact returned a new request")
				}
				return
			}
			if out.Message() == in.Message() {
				t.Fatalf("the input holds %q, but Redact returned it as it was", found)
			}
			masked := 0 // the strings holding a mask
			visitStrings(out.Message().ProtoReflect(), func(_ protoreflect.FieldDescriptor, s string) {
				if strings.Contains(s, "[REDACTED:") {
					masked++
				}
			})
			if masked != len(found) {
				t.Errorf("%d strings hold a secret, but %d hold a mask after redaction", len(found), masked)
			}
		})
	}
}

// TestRedactCapturedExact pins down what the captured PII prompt becomes.
func TestRedactCapturedExact(t *testing.T) {
	p := mustCompile(t, "default", nil)
	out, err := p.Redact(readCaptured(t, "../testdata/claude-code/01-prompt-pii-grpc/logs.grpc.pb"))
	if err != nil {
		t.Fatal(err)
	}
	var prompts, responses []string
	for _, rl := range out.Logs.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				for _, kv := range lr.Attributes {
					switch kv.Key {
					case "prompt":
						prompts = append(prompts, kv.Value.GetStringValue())
					case "response":
						responses = append(responses, kv.Value.GetStringValue())
					}
				}
			}
		}
	}
	wantPrompt := "Run echo please. Reach me at [REDACTED:email] or [REDACTED:phone]. SSN [REDACTED:ssn], card [REDACTED:credit_card]."
	if len(prompts) == 0 || len(responses) == 0 {
		t.Fatalf("no prompt (%d) or response (%d) in the capture", len(prompts), len(responses))
	}
	for _, got := range prompts {
		if got != wantPrompt {
			t.Errorf("prompt = %q, want %q", got, wantPrompt)
		}
	}
	for _, got := range responses {
		if want := "Done. Contact me at [REDACTED:email]"; got != want {
			t.Errorf("response = %q, want %q", got, want)
		}
	}
}

func TestRedactSharesUnchanged(t *testing.T) {
	p := mustCompile(t, "default", nil)
	clean := &logspb.LogRecord{Body: strVal("nothing to see"), Attributes: []*commonpb.KeyValue{strKV("a", "b")}}
	dirty := &logspb.LogRecord{Attributes: []*commonpb.KeyValue{strKV("a", "b"), strKV("prompt", "mail bob@example.com")}}
	res := &resourcepb.Resource{Attributes: []*commonpb.KeyValue{strKV("service.name", "claude-code")}}
	scope := &commonpb.InstrumentationScope{Name: "s"}
	in := telemetry.Request{Logs: &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource:  res,
		ScopeLogs: []*logspb.ScopeLogs{{Scope: scope, LogRecords: []*logspb.LogRecord{clean, dirty}}},
	}}}}
	out, err := p.Redact(in)
	if err != nil {
		t.Fatal(err)
	}
	rl := out.Logs.ResourceLogs[0]
	sl := rl.ScopeLogs[0]
	switch {
	case out.Logs == in.Logs, rl == in.Logs.ResourceLogs[0], sl == in.Logs.ResourceLogs[0].ScopeLogs[0]:
		t.Error("a message on the changed path was not copied")
	case rl.Resource != res, sl.Scope != scope, sl.LogRecords[0] != clean:
		t.Error("an unchanged message was copied instead of shared")
	case sl.LogRecords[1] == dirty, sl.LogRecords[1].Attributes[0] != dirty.Attributes[0]:
		t.Error("the changed record was not copied, or its unchanged attribute was")
	}
	if got := sl.LogRecords[1].Attributes[1].Value.GetStringValue(); got != "mail [REDACTED:email]" {
		t.Errorf("prompt = %q", got)
	}
	if got := dirty.Attributes[1].Value.GetStringValue(); got != "mail bob@example.com" {
		t.Errorf("the input changed: %q", got)
	}
}

func TestRedactNothingToChange(t *testing.T) {
	p := mustCompile(t, "default", nil)
	for _, path := range []string{
		"../testdata/claude-code/01-prompt-pii-grpc/metrics.grpc.pb",
		"../testdata/claude-code/04-api-error-grpc/traces.grpc.pb",
	} {
		in := readCaptured(t, path)
		out, err := p.Redact(in)
		if err != nil {
			t.Fatal(err)
		}
		if out.Message() != in.Message() {
			t.Errorf("%s: nothing to redact, but a new request came back", path)
		}
		if allocs := testing.AllocsPerRun(20, func() { _, _ = p.Redact(in) }); allocs != 0 {
			t.Errorf("%s: %v allocations for a request with nothing to redact, want 0", path, allocs)
		}
	}
	if out, err := p.Redact(telemetry.Request{}); err != nil || out != (telemetry.Request{}) {
		t.Errorf("Redact(empty) = %v, %v", out, err)
	}
}

func TestKeyRules(t *testing.T) {
	cfg := &config.Redaction{
		Detectors: []string{"email"},
		DropKeys:  []string{"host.name", "secret.note"},
		MaskKeys:  []string{"user.email", "cost"},
	}
	p := mustCompile(t, "keys", cfg)
	in := logsRequest(
		[]*commonpb.KeyValue{strKV("host.name", "dev-laptop"), strKV("team", "platform")},
		strKV("user.email", "alice@example.com"),
		&commonpb.KeyValue{Key: "cost", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 1.5}}},
		&commonpb.KeyValue{Key: "nested", Value: kvlist(
			strKV("secret.note", "gone"),
			strKV("user.email", "bob@example.com"),
			&commonpb.KeyValue{Key: "list", Value: array(kvlist(strKV("host.name", "x"), strKV("ok", "kept")))},
		)},
		strKV("session.id", "b29c69f5-3170-45ae-a294-f9af08bace29"),
		strKV("prompt.id", "mail carol@example.com"),
		strKV("user.account_uuid", "4111111111111111"),
	)
	out, err := p.Redact(in)
	if err != nil {
		t.Fatal(err)
	}
	want := logsRequest(
		[]*commonpb.KeyValue{strKV("team", "platform")},
		strKV("user.email", "[REDACTED:key]"),
		strKV("cost", "[REDACTED:key]"),
		&commonpb.KeyValue{Key: "nested", Value: kvlist(
			strKV("user.email", "[REDACTED:key]"),
			&commonpb.KeyValue{Key: "list", Value: array(kvlist(strKV("ok", "kept")))},
		)},
		strKV("session.id", "b29c69f5-3170-45ae-a294-f9af08bace29"),
		strKV("prompt.id", "mail [REDACTED:email]"), // not an id: scanned
		strKV("user.account_uuid", "4111111111111111"),
	)
	if !proto.Equal(out.Message(), want.Message()) {
		t.Errorf("got  %v\nwant %v", out.Message(), want.Message())
	}
	again, err := p.Redact(out)
	if err != nil || again.Message() != out.Message() {
		t.Errorf("redacting the output again changed it: %v", err)
	}

	hp := mustCompile(t, "hkeys", &config.Redaction{Action: "hash", HashKeyFile: writeKey(t, "k"), MaskKeys: []string{"user.email"}})
	out, err = hp.Redact(logsRequest(nil, strKV("user.email", "alice@example.com")))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := bodyOrAttr(out), hmacTag("k", "key", "alice@example.com"); got != want {
		t.Errorf("hashed mask_keys value = %q, want %q", got, want)
	}
	if again, _ := hp.Redact(out); again.Message() != out.Message() {
		t.Errorf("a hashed key was hashed again")
	}
}

func nest(depth int, leaf *commonpb.AnyValue) *commonpb.AnyValue {
	v := leaf
	for i := 0; i < depth; i++ {
		if i%2 == 0 {
			v = array(v)
		} else {
			v = kvlist(&commonpb.KeyValue{Key: "k", Value: v})
		}
	}
	return v
}

func TestFailClosed(t *testing.T) {
	p := mustCompile(t, "default", nil)
	t.Run("deep enough", func(t *testing.T) {
		out, err := p.Redact(logsRequest(nil, &commonpb.KeyValue{Key: "v", Value: nest(maxDepth, strVal("a@example.com"))}))
		if err != nil {
			t.Fatal(err)
		}
		v := out.Logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0].Attributes[0].Value
		for v.GetStringValue() == "" {
			if a := v.GetArrayValue(); a != nil {
				v = a.Values[0]
			} else {
				v = v.GetKvlistValue().Values[0].Value
			}
		}
		if v.GetStringValue() != "[REDACTED:email]" {
			t.Errorf("leaf = %q", v.GetStringValue())
		}
	})
	t.Run("too deep", func(t *testing.T) {
		in := logsRequest(nil, &commonpb.KeyValue{Key: "v", Value: nest(maxDepth+1, strVal("a@example.com"))})
		out, err := p.Redact(in)
		if !errors.Is(err, ErrIncomplete) || out.Message() != nil {
			t.Fatalf("Redact = %v, %v; want no request and ErrIncomplete", out.Message(), err)
		}
		if !strings.Contains(err.Error(), `redaction profile "default": redaction incomplete: a value nests maps and arrays more than 64 deep`) {
			t.Errorf("error = %q", err)
		}
	})
	t.Run("detector panics", func(t *testing.T) {
		testHookText = func(s string) {
			if strings.Contains(s, "boom") {
				panic("detector exploded")
			}
		}
		defer func() { testHookText = nil }()
		m := admin.NewTestMetrics()
		p, err := Compile("boom", nil, m)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Redact(logsRequest(nil, strKV("a", "x@example.com"), strKV("b", "boom")))
		if !errors.Is(err, ErrIncomplete) || out.Message() != nil || !strings.Contains(err.Error(), "detector exploded") {
			t.Errorf("Redact = %v, %v; want no request and ErrIncomplete", out.Message(), err)
		}
		if got := p.String("boom x@example.com"); got != failedText {
			t.Errorf("String = %q, want %q", got, failedText)
		}
		if got := testutil.ToFloat64(m.Redactions.WithLabelValues("boom", "email")); got != 0 {
			t.Errorf("a failed call counted %v redactions", got)
		}
	})
}

// TestIDAttributes: values of id attributes stay when they look like ids and are scanned when
// they do not; user.email is text like any other.
func TestIDAttributes(t *testing.T) {
	p := mustCompile(t, "default", nil)
	tests := []struct{ key, in, want string }{
		{"session.id", "b29c69f5-3170-45ae-a294-f9af08bace29", "b29c69f5-3170-45ae-a294-f9af08bace29"},
		{"user.account_uuid", "4111111111111111", "4111111111111111"},
		{"user.id", "ff6978d4f4f5cba7d1c0a20ce6ce4853da60479333be1256f84097d8ae2a10fb", "ff6978d4f4f5cba7d1c0a20ce6ce4853da60479333be1256f84097d8ae2a10fb"},
		{"event.timestamp", "2026-11-25T20:48:03.208Z", "2026-11-25T20:48:03.208Z"},
		{"service.version", "2.1.328", "2.1.328"},
		{"user.id", "alice@example.com", "[REDACTED:email]"},
		{"prompt.id", "call 415-555-0199", "call [REDACTED:phone]"},
		{"user.email", "jane.doe@example.com", "[REDACTED:email]"},
		{"order.id", "4111111111111111", "[REDACTED:credit_card]"}, // not an id key: scanned
	}
	for _, tt := range tests {
		out, err := p.Redact(logsRequest(nil, strKV(tt.key, tt.in)))
		if err != nil {
			t.Fatal(err)
		}
		if got := bodyOrAttr(out); got != tt.want {
			t.Errorf("%s=%q: got %q, want %q", tt.key, tt.in, got, tt.want)
		}
	}
}
