package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverShows(t *testing.T) {
	s := Secret("hunter2")
	check(t, "string(s)", string(s), "hunter2")

	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("text", "token", s)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("json", "token", s)
	js, err := json.Marshal(struct{ Token Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	text, err := s.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	for what, out := range map[string]string{
		"%v":         fmt.Sprintf("%v", s),
		"%s":         fmt.Sprintf("%s", s),
		"%+v struct": fmt.Sprintf("%+v", struct{ Token Secret }{s}),
		"%#v":        fmt.Sprintf("%#v", s),
		"slog":       logs.String(),
		"json":       string(js),
		"text":       string(text),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s shows the secret: %s", what, out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s does not say [REDACTED]: %s", what, out)
		}
	}
}
