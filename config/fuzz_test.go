package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// FuzzParse feeds the loader arbitrary documents: it must never panic, every problem must
// carry the file name, and whatever loads must print to a document that loads back equal.
func FuzzParse(f *testing.F) {
	f.Setenv("XDG_STATE_HOME", "/var/lib/gw-fuzz")
	for _, pattern := range []string{"good/*.toml", "bad/*.toml"} {
		files, _ := filepath.Glob(filepath.Join(testdataDir, pattern))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	if data, err := os.ReadFile(exampleFile); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// What go-toml accepts, the tree must hold.
		if _, perr := parseTree("fuzz.toml", data); perr != nil {
			var m map[string]any
			if toml.Unmarshal(data, &m) == nil {
				t.Fatalf("go-toml accepts the document, the tree does not: %v", perr)
			}
		}
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			for _, e := range err.(Errors) {
				if e.File != "fuzz.toml" || e.Msg == "" {
					t.Fatalf("malformed error %#v", e)
				}
			}
			return
		}
		var out bytes.Buffer
		if err := c.Print(&out); err != nil {
			t.Fatal(err)
		}
		back, err := Parse("fuzz.toml", out.Bytes())
		if err != nil {
			t.Fatalf("printed config does not load: %v\n%s", err, out.String())
		}
		back.pos, c.pos = nil, nil
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("printed config loads differently:\n%s", out.String())
		}
	})
}

func BenchmarkParseExample(b *testing.B) {
	b.Setenv("XDG_STATE_HOME", "/var/lib/gw-bench")
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(exampleFile, data); err != nil {
			b.Fatal(err)
		}
	}
}
