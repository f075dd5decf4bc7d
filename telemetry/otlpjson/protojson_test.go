package otlpjson

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// protojson is the reference for everything OTLP/JSON shares with the proto3 JSON mapping,
// which is everything but the ids. These tests translate the ids between hex and base64 and
// hold the two codecs to the same result both ways, so a misspelt field name, a field left
// out or a value written in the wrong form shows up as a difference.

// crossCheckMessages are the captured requests and the filled messages.
func crossCheckMessages(t *testing.T) map[string]proto.Message {
	t.Helper()
	ms := map[string]proto.Message{}
	for _, c := range loadCaptured(t, "") {
		ms[c.name] = c.msg
	}
	for i, m := range filled(t) {
		ms[fmt.Sprintf("filled/%d/%s", i, m.ProtoReflect().Descriptor().Name())] = m
	}
	return ms
}

// TestOursReadByProtojson: our output, ids turned to base64, is what protojson reads back
// into the same message. protojson refuses unknown field names, so a wrong name fails here.
func TestOursReadByProtojson(t *testing.T) {
	for name, m := range crossCheckMessages(t) {
		t.Run(name, func(t *testing.T) {
			out, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			converted := convertIDs(t, out, hexToBase64)
			back := m.ProtoReflect().New().Interface()
			if err := protojson.Unmarshal(converted, back); err != nil {
				t.Fatalf("protojson rejects our output: %v\n%s", err, converted)
			}
			if !proto.Equal(m, back) {
				t.Fatalf("protojson reads our output as a different message\nwant: %v\ngot:  %v", m, back)
			}
		})
	}
}

// TestProtojsonReadByOurs: protojson's output, ids turned to hex, decodes to the same message,
// with lowerCamelCase names and with snake_case ones, and with enums as names.
func TestProtojsonReadByOurs(t *testing.T) {
	for name, m := range crossCheckMessages(t) {
		for _, opts := range []protojson.MarshalOptions{
			{},
			{UseProtoNames: true},
			{UseEnumNumbers: true, Multiline: true},
		} {
			t.Run(fmt.Sprintf("%s/protonames=%v", name, opts.UseProtoNames), func(t *testing.T) {
				pj, err := opts.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				converted := convertIDs(t, pj, base64ToHex)
				back := m.ProtoReflect().New().Interface()
				if err := Unmarshal(converted, back); err != nil {
					t.Fatalf("we reject protojson's output: %v\n%s", err, converted)
				}
				if !proto.Equal(m, back) {
					t.Fatalf("we read protojson's output as a different message\nwant: %v\ngot:  %v", m, back)
				}
			})
		}
	}
}

// TestSameJSONAsProtojson: with enums as numbers, protojson writes what we write, ids aside:
// the same fields, the same names, the same values, down to which defaults are left out.
func TestSameJSONAsProtojson(t *testing.T) {
	for name, m := range crossCheckMessages(t) {
		t.Run(name, func(t *testing.T) {
			ours, err := Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			pj, err := protojson.MarshalOptions{UseEnumNumbers: true}.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			want := normalize(t, convertIDs(t, pj, base64ToHex))
			got := normalize(t, ours)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("JSON differs from protojson's\nours:      %s\nprotojson: %s", ours, pj)
			}
		})
	}
}

var idKeys = map[string]bool{
	"traceId": true, "spanId": true, "parentSpanId": true,
	"trace_id": true, "span_id": true, "parent_span_id": true,
}

func hexToBase64(s string) (string, error) {
	b, err := hex.DecodeString(s)
	return base64.StdEncoding.EncodeToString(b), err
}

func base64ToHex(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return hex.EncodeToString(b), err
}

// convertIDs rewrites the id fields of a JSON document with conv.
func convertIDs(t *testing.T, data []byte, conv func(string) (string, error)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && idKeys[k] {
					c, err := conv(s)
					if err != nil {
						t.Fatalf("%s %q: %v", k, s, err)
					}
					v[k] = c
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// normalize parses JSON with numbers as float64 values (NaN and the infinities are strings in
// both codecs), so 1e-7 and 1e-07 compare equal while "1" and 1 do not.
func normalize(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				v[k] = walk(x)
			}
		case []any:
			for i, x := range v {
				v[i] = walk(x)
			}
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil && !math.IsInf(f, 0) {
				t.Fatalf("number %s: %v", v, err)
			}
			return f
		}
		return v
	}
	return walk(v)
}
