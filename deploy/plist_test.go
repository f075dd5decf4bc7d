package deploy_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"claude-otel-gw/config"
)

const (
	agentPlist  = "dev.claude-otel-gw.agent.plist"
	daemonPlist = "dev.claude-otel-gw.daemon.plist"
)

// plistValue is one value of an XML property list.
type plistValue struct {
	kind  string // string, integer, real, bool, date, data, array or dict
	text  string // string, integer, real, date and data
	truth bool   // bool
	items []plistValue
	dict  map[string]plistValue
}

// parsePlist reads an XML property list as launchd does: a <plist> holding one value.
func parsePlist(data []byte) (plistValue, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	root, err := nextStart(dec)
	if err != nil {
		return plistValue{}, err
	}
	if root.Name.Local != "plist" {
		return plistValue{}, fmt.Errorf("root element <%s>, want <plist>", root.Name.Local)
	}
	start, err := nextStart(dec)
	if err != nil {
		return plistValue{}, err
	}
	v, err := decodeValue(dec, start)
	if err != nil {
		return plistValue{}, err
	}
	if tok, err := nextNonSpace(dec); err != nil {
		return plistValue{}, err
	} else if end, ok := tok.(xml.EndElement); !ok || end.Name.Local != "plist" {
		return plistValue{}, fmt.Errorf("more than one value in <plist>: %v", tok)
	}
	if tok, err := nextNonSpace(dec); err != io.EOF {
		return plistValue{}, fmt.Errorf("content after </plist>: %v %v", tok, err)
	}
	return v, nil
}

// nextNonSpace returns the next token that is not white space, a comment, a processing
// instruction or the DOCTYPE.
func nextNonSpace(dec *xml.Decoder) (xml.Token, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(tok)) == 0 {
				continue
			}
		case xml.Comment, xml.ProcInst, xml.Directive:
			continue
		}
		return xml.CopyToken(tok), nil
	}
}

func nextStart(dec *xml.Decoder) (xml.StartElement, error) {
	tok, err := nextNonSpace(dec)
	if err != nil {
		return xml.StartElement{}, err
	}
	start, ok := tok.(xml.StartElement)
	if !ok {
		return xml.StartElement{}, fmt.Errorf("want an element, got %v", tok)
	}
	return start, nil
}

func decodeValue(dec *xml.Decoder, start xml.StartElement) (plistValue, error) {
	switch name := start.Name.Local; name {
	case "true", "false":
		if err := dec.Skip(); err != nil {
			return plistValue{}, err
		}
		return plistValue{kind: "bool", truth: name == "true"}, nil
	case "string", "integer", "real", "date", "data":
		var text string
		if err := dec.DecodeElement(&text, &start); err != nil {
			return plistValue{}, err
		}
		v := plistValue{kind: name, text: text}
		if name == "integer" {
			if _, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err != nil {
				return plistValue{}, fmt.Errorf("<integer>%s</integer>: %w", text, err)
			}
		}
		return v, nil
	case "array":
		v := plistValue{kind: "array"}
		for {
			tok, err := nextNonSpace(dec)
			if err != nil {
				return plistValue{}, err
			}
			if _, ok := tok.(xml.EndElement); ok {
				return v, nil
			}
			child, ok := tok.(xml.StartElement)
			if !ok {
				return plistValue{}, fmt.Errorf("text in <array>: %v", tok)
			}
			item, err := decodeValue(dec, child)
			if err != nil {
				return plistValue{}, err
			}
			v.items = append(v.items, item)
		}
	case "dict":
		v := plistValue{kind: "dict", dict: map[string]plistValue{}}
		for {
			tok, err := nextNonSpace(dec)
			if err != nil {
				return plistValue{}, err
			}
			if _, ok := tok.(xml.EndElement); ok {
				return v, nil
			}
			keyStart, ok := tok.(xml.StartElement)
			if !ok || keyStart.Name.Local != "key" {
				return plistValue{}, fmt.Errorf("want <key> in <dict>, got %v", tok)
			}
			var key string
			if err := dec.DecodeElement(&key, &keyStart); err != nil {
				return plistValue{}, err
			}
			if _, dup := v.dict[key]; dup {
				return plistValue{}, fmt.Errorf("key %q twice in one <dict>", key)
			}
			valStart, err := nextStart(dec)
			if err != nil {
				return plistValue{}, fmt.Errorf("key %q: %w", key, err)
			}
			val, err := decodeValue(dec, valStart)
			if err != nil {
				return plistValue{}, fmt.Errorf("key %q: %w", key, err)
			}
			v.dict[key] = val
		}
	default:
		return plistValue{}, errors.New("unknown property list element <" + name + ">")
	}
}

// field is the value at a key, which must have the kind given.
func field(t *testing.T, d plistValue, key, kind string) plistValue {
	t.Helper()
	v, ok := d.dict[key]
	if !ok {
		t.Fatalf("no %s key", key)
	}
	if v.kind != kind {
		t.Fatalf("%s is a %s, want a %s", key, v.kind, kind)
	}
	return v
}

func loadPlist(t *testing.T, name string) plistValue {
	t.Helper()
	v, err := parsePlist([]byte(readFile(t, name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if v.kind != "dict" {
		t.Fatalf("%s holds a %s, want a dict", name, v.kind)
	}
	return v
}

func TestPlistsDescribeTheGateway(t *testing.T) {
	shutdown := config.Default().ShutdownTimeout.D()
	for _, tc := range []struct {
		file    string
		args    []string
		logPath string
	}{
		// The agent's log is per user; launchd does not expand ~, so the path says
		// __HOME__ and make install-user fills it in.
		{agentPlist, []string{"/usr/local/bin/claude-otel-gw"}, "__HOME__/Library/Logs/claude-otel-gw/claude-otel-gw.log"},
		{daemonPlist, []string{"/usr/local/bin/claude-otel-gw", "--config", "/Library/Application Support/claude-otel-gw/config.toml"}, "/var/log/claude-otel-gw.log"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := loadPlist(t, tc.file)
			// launchd expects a job's file to be named after its label.
			if got, want := field(t, p, "Label", "string").text, strings.TrimSuffix(tc.file, ".plist"); got != want {
				t.Errorf("Label %q, want %q", got, want)
			}
			var args []string
			for _, a := range field(t, p, "ProgramArguments", "array").items {
				if a.kind != "string" {
					t.Fatalf("ProgramArguments holds a %s", a.kind)
				}
				args = append(args, a.text)
			}
			if strings.Join(args, "\x00") != strings.Join(tc.args, "\x00") {
				t.Errorf("ProgramArguments %q, want %q", args, tc.args)
			}
			if !field(t, p, "RunAtLoad", "bool").truth {
				t.Error("RunAtLoad is false")
			}
			keepAlive := field(t, p, "KeepAlive", "dict")
			if len(keepAlive.dict) != 1 || field(t, keepAlive, "SuccessfulExit", "bool").truth {
				t.Errorf("KeepAlive %+v, want only SuccessfulExit = false (restart after a failure only)", keepAlive.dict)
			}
			switch pt := field(t, p, "ProcessType", "string").text; pt {
			case "Standard", "Interactive", "Adaptive":
			default:
				t.Errorf("ProcessType %q: want one that does not throttle I/O (Background does)", pt)
			}
			for _, key := range []string{"StandardOutPath", "StandardErrorPath"} {
				if got := field(t, p, key, "string").text; got != tc.logPath {
					t.Errorf("%s %q, want %q", key, got, tc.logPath)
				}
			}
			exit, _ := strconv.Atoi(field(t, p, "ExitTimeOut", "integer").text)
			if time.Duration(exit)*time.Second <= shutdown {
				t.Errorf("ExitTimeOut %ds does not exceed the default shutdown_timeout %s", exit, shutdown)
			}
			if umask := field(t, p, "Umask", "integer").text; umask != "63" {
				t.Errorf("Umask %s, want 63 (0077)", umask)
			}
		})
	}
}

func TestPlistParserRejectsBrokenLists(t *testing.T) {
	for _, bad := range []string{
		`<plist><dict><key>A</key></dict></plist>`,
		`<plist><dict><string>no key</string></dict></plist>`,
		`<plist><dict><key>A</key><integer>x</integer></dict></plist>`,
		`<plist><dict><key>A</key><true/><key>A</key><false/></dict></plist>`,
		`<plist><dict></dict><dict></dict></plist>`,
		`<plist><dict><key>A</key><string>unclosed</dict></plist>`,
		`<list><dict></dict></list>`,
	} {
		if _, err := parsePlist([]byte(bad)); err == nil {
			t.Errorf("parsed without an error: %s", bad)
		}
	}
}

// plutil is launchd's own reading of a property list; it exists on macOS only, so elsewhere
// the encoding/xml parse above is the check.
func TestPlistsPassPlutil(t *testing.T) {
	plutil, err := exec.LookPath("plutil")
	if err != nil {
		t.Skip("plutil not found (it comes with macOS): the lists were checked with encoding/xml only")
	}
	for _, file := range []string{agentPlist, daemonPlist} {
		if out, err := exec.Command(plutil, "-lint", file).CombinedOutput(); err != nil {
			t.Errorf("plutil -lint %s: %v\n%s", file, err, out)
		}
	}
}
