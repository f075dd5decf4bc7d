package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// kinds holds every kind of field the decoder supports, including those today's schema does
// not use yet (map[string]string, Secret).
type kinds struct {
	Name    string            `toml:"name"`
	Token   Secret            `toml:"token"`
	On      bool              `toml:"on"`
	Maybe   *bool             `toml:"maybe"`
	Count   int               `toml:"count"`
	Small   int8              `toml:"small"`
	Tags    []string          `toml:"tags"`
	Headers map[string]string `toml:"headers"`
	Attrs   map[string]Value  `toml:"attrs"`
	One     *Value            `toml:"one"`
	Wait    Duration          `toml:"wait"`
	Size    ByteSize          `toml:"size"`
	Inner   inner             `toml:"inner"`
	Items   []*inner          `toml:"item"`
	Named   map[string]*inner `toml:"named"`
	Skipped string            `toml:"-"`
}

type inner struct {
	ID    string `toml:"id"`
	Level int    `toml:"level"`
}

func decodeKinds(t *testing.T, doc string) (*kinds, *decoder) {
	t.Helper()
	root, perr := parseTree("k.toml", []byte(doc))
	if perr != nil {
		t.Fatalf("parse: %v", perr)
	}
	var k kinds
	d := newDecoder("k.toml", func(name string) (string, bool) {
		if name == "TOKEN" {
			return "s3cr3t", true
		}
		return "", false
	})
	d.decode("", root, reflect.ValueOf(&k).Elem())
	return &k, d
}

func TestDecodeEveryKind(t *testing.T) {
	k, d := decodeKinds(t, `
name = "n"
token = "${TOKEN}"
on = true
maybe = false
count = 0x10
small = -128
tags = ["a", "b"]
headers = { "x-api-key" = "k", Authorization = "${TOKEN}" }
attrs = { s = "x", i = 1_000, f = 1e3, b = false, neg = -0.0 }
one = 42
wait = "1h30m"
size = "1.5"
inner.id = "dotted"
item = [{ id = "a" }, { id = "b", level = 2 }]

[named.x]
id = "nx"

[named."with space"]
level = 3
`)
	if len(d.errs) != 1 {
		t.Fatalf("want one error (size), got:\n%v", d.errs)
	}
	check(t, "size error", d.errs[0].Error(), `k.toml:13:8: size: not a size (want bytes as an integer, or e.g. "64MiB", "1GiB") ("1.5")`)
	want := &kinds{
		Name:    "n",
		Token:   "s3cr3t",
		On:      true,
		Maybe:   new(false),
		Count:   16,
		Small:   -128,
		Tags:    []string{"a", "b"},
		Headers: map[string]string{"x-api-key": "k", "Authorization": "s3cr3t"},
		Attrs: map[string]Value{
			"s":   {Text: "x", Kind: StringValue},
			"i":   {Text: "1000", Kind: IntValue},
			"f":   {Text: "1000", Kind: FloatValue},
			"b":   {Text: "false", Kind: BoolValue},
			"neg": {Text: "-0", Kind: FloatValue},
		},
		One:   &Value{Text: "42", Kind: IntValue},
		Wait:  Duration(90 * time.Minute),
		Inner: inner{ID: "dotted"},
		Items: []*inner{{ID: "a"}, {ID: "b", Level: 2}},
		Named: map[string]*inner{"x": {ID: "nx"}, "with space": {Level: 3}},
	}
	check(t, "decoded", k, want)
	for key, p := range map[string]Position{
		"headers.x-api-key":  {9, 27},
		"attrs.neg":          {10, 57},
		"tags[1]":            {8, 14},
		"inner.id":           {14, 12},
		"item[1]":            {15, 23},
		"item[1].level":      {15, 43},
		"named.x":            {17, 1},
		"named.x.id":         {18, 6},
		`named."with space"`: {20, 1},
	} {
		check(t, key, d.pos.at(key), p)
	}
}

func TestDecodeWrongTypes(t *testing.T) {
	_, d := decodeKinds(t, `
name = ["x"]
on = 1
maybe = "no"
small = 128
tags = [1, "ok", { a = 1 }]
headers = { a = 1 }
attrs = { a = [1], b = 1979-05-27T07:32:00Z }
one = {}
wait = "soon"
size = -1
inner = []
item = { id = "x" }
named = 3
skipped = "x"
`)
	want := []string{
		`k.toml:2:8: name: want a string, got an array`,
		`k.toml:3:6: on: want a boolean, got an integer (1)`,
		`k.toml:4:9: maybe: want a boolean, got a string ("no")`,
		`k.toml:5:9: small: integer out of range (128)`,
		`k.toml:6:9: tags: want a string, got an integer (1)`,
		`k.toml:6:18: tags: want a string, got a table`,
		`k.toml:7:17: headers.a: want a string, got an integer (1)`,
		`k.toml:8:15: attrs.a: want a string, number or boolean, got an array`,
		`k.toml:8:24: attrs.b: want a string, number or boolean, got a date-time (1979-05-27T07:32:00Z)`,
		`k.toml:9:7: one: want a string, number or boolean, got a table`,
		`k.toml:10:8: wait: not a duration (want e.g. "30s", "5m", "7d") ("soon")`,
		`k.toml:11:8: size: must not be negative (-1)`,
		`k.toml:12:9: inner: want a table, got an array`,
		`k.toml:13:8: item: want an array of tables, got a table`,
		`k.toml:14:9: named: want a table, got an integer (3)`,
		`k.toml:15:1: skipped: unknown key`,
	}
	got := make([]string, len(d.errs))
	for i, e := range d.errs {
		got[i] = e.Error()
	}
	check(t, "errors", strings.Join(got, "\n"), strings.Join(want, "\n"))
	for _, key := range []string{"name", "tags", "headers.a", "item"} {
		if !d.failed[key] {
			t.Errorf("%s is not marked as failed", key)
		}
	}
}

// A secret decodes like a string and prints masked.
func TestPrintMasksSecrets(t *testing.T) {
	k, d := decodeKinds(t, "token = \"${TOKEN}\"\nheaders = { auth = \"${TOKEN}\" }\n")
	if len(d.errs) > 0 {
		t.Fatal(d.errs)
	}
	check(t, "token", string(k.Token), "s3cr3t")
	p := &printer{}
	p.table("", reflect.ValueOf(struct {
		Token   Secret            `toml:"token"`
		Headers map[string]Secret `toml:"headers"`
		Plain   string            `toml:"plain"`
	}{k.Token, map[string]Secret{"auth": k.Token}, "shown"}))
	check(t, "printed", p.buf.String(), "token = \"[REDACTED]\"\nheaders = { auth = \"[REDACTED]\" }\nplain = \"shown\"\n")
}
