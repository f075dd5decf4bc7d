# claude-otel-gw: build, run, test.
BINARY  := claude-otel-gw
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
PKGS    := ./...

.PHONY: build run test lint bench fuzz clean

build: ## the binary, in bin/
	go build -trimpath -ldflags "$(LDFLAGS)" -o bin/$(BINARY) .

run: ## the gateway on the default config (the embedded one if no config file exists)
	go run -ldflags "$(LDFLAGS)" .

test: ## the suite CI runs
	go test -race $(PKGS)

lint: ## formatting and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet $(PKGS)

bench: ## benchmarks of the hot path
	go test -run '^$$' -bench . -benchmem $(PKGS)

fuzz: ## a minute of each fuzz target
	go test -run '^$$' -fuzz FuzzUnmarshal -fuzztime 60s -fuzzminimizetime 5s ./telemetry/otlpjson
	go test -run '^$$' -fuzz FuzzHTTPHandler -fuzztime 60s ./ingest
	go test -run '^$$' -fuzz FuzzString -fuzztime 60s ./redact
	go test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./config

clean:
	rm -rf bin
