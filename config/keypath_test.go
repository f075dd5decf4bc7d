package config

import "testing"

func TestKeyPaths(t *testing.T) {
	check(t, "join", joinKey(joinKey(indexKey("route", 0), "match"), "event.name"), `route[0].match."event.name"`)
	check(t, "bare", quoteKey("grpc_listen-2"), "grpc_listen-2")
	check(t, "empty", quoteKey(""), `""`)
	check(t, "quoted", quoteKey(`a "b"\c`), `"a \"b\"\\c"`)
	check(t, "control", quoteKey("tab\there\x01"), `"tab\there\u0001"`)
	check(t, "unicode", quoteKey("café"), `"café"`)
	for path, parent := range map[string]string{
		"route[0].sinks[1]":            "route[0].sinks",
		"route[0].sinks":               "route[0]",
		"route[0]":                     "route",
		"route":                        "",
		`route[0].match."event.name"`:  "route[0].match",
		`route[0].match."a[1].b\"c.d"`: "route[0].match",
		`sink."my.sink".queue`:         `sink."my.sink"`,
	} {
		check(t, path, parentPath(path), parent)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"grpc_listen", "http_listen", "initial_interval", "max_interval", "id", "ip"}
	for key, want := range map[string]string{
		"grpc_lisen":  " (did you mean grpc_listen?)",
		"GRPC_LISTEN": " (did you mean grpc_listen?)",
		"htp_listen":  " (did you mean http_listen?)",
		"initial":     " (did you mean initial_interval?)",
		"interval":    "",
		"colour":      "",
		"x":           "",
		"iq":          " (did you mean id?)",
	} {
		check(t, key, suggest(key, known), want)
	}
}
