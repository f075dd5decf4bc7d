package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
)

// EmbeddedName is the Source of the embedded default config, and the file name its errors
// carry.
const EmbeddedName = "<embedded default>"

//go:embed default.toml
var embeddedTOML []byte

// Load reads and parses the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Embedded returns the config the gateway runs with when there is no config file.
func Embedded() (*Config, error) {
	return Parse(EmbeddedName, embeddedTOML)
}

// Parse reads a config from data. name is where it came from: it starts every error, becomes
// Config.Source, and its folder is what relative paths in the config are relative to.
// The error, if any, is an Errors listing every problem found.
func Parse(name string, data []byte) (*Config, error) {
	root, perr := parseTree(name, data)
	if perr != nil {
		return nil, Errors{perr}
	}
	c := Default()
	c.Source = name
	d := newDecoder(name, os.LookupEnv)
	d.decode("", root, reflect.ValueOf(c).Elem())
	delete(d.pos, "")
	c.pos = d.pos

	base := ""
	if name != EmbeddedName {
		base = filepath.Dir(name)
	}
	asWritten := resolvePaths(c, base, os.UserHomeDir, d)
	applyDefaults(c)
	errs := append(d.errs, validate(c, d.failed, d.open, asWritten)...)
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	return c, nil
}

// resolvePaths expands ~ and makes relative paths absolute in the keys that name files and
// folders. It returns those values as they were written, for messages.
func resolvePaths(c *Config, base string, home func() (string, error), d *decoder) map[string]string {
	asWritten := map[string]string{}
	resolve := func(key string, p *string) {
		if d.failed[key] || *p == "" {
			return
		}
		abs, err := expandPath(*p, base, home)
		if err != nil {
			d.fail(key, c.pos.at(key), "%v (%s)", err, quoteString(*p))
			return
		}
		asWritten[key] = *p
		*p = abs
	}
	resolve("state.dir", &c.State.Dir)
	resolve("ingest.tls_cert_file", &c.Ingest.TLSCertFile)
	resolve("ingest.tls_key_file", &c.Ingest.TLSKeyFile)
	resolve("ingest.client_ca_file", &c.Ingest.ClientCAFile)
	resolve("ingest.bearer_token_file", &c.Ingest.BearerTokenFile)
	for _, name := range slices.Sorted(maps.Keys(c.Redaction)) {
		resolve(joinKey("redaction", name)+".hash_key_file", &c.Redaction[name].HashKeyFile)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Sinks)) {
		key, s := joinKey("sink", name), c.Sinks[name]
		resolve(key+".path", &s.Path)
		resolve(key+".ca_file", &s.CAFile)
		resolve(key+".cert_file", &s.CertFile)
		resolve(key+".key_file", &s.KeyFile)
	}
	return asWritten
}

// Locate picks the config file to run with: explicit if given (it must exist), else the
// platform default path if that file exists, else "" meaning the embedded default.
func Locate(explicit string) (string, error) {
	return locate(explicit, DefaultPath())
}

func locate(explicit, p string) (string, error) {
	if explicit != "" {
		info, err := os.Stat(explicit)
		if err != nil {
			return "", fmt.Errorf("config file: %w", err)
		}
		if info.IsDir() {
			return "", fmt.Errorf("config file: %s is a folder", explicit)
		}
		return explicit, nil
	}
	if p == "" {
		return "", nil
	}
	info, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		// A default file that exists but cannot be read must not be silently replaced by the
		// embedded default.
		return "", fmt.Errorf("config file: %w", err)
	case info.IsDir():
		return "", fmt.Errorf("config file: %s is a folder", p)
	}
	return p, nil
}
