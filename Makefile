# claude-otel-gw: build, run, test, install.
BINARY  := claude-otel-gw
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
PKGS    := ./...
GO      ?= go
BIN     ?= bin/$(BINARY)

# Installing. DESTDIR stages the files under a folder for a package and starts nothing;
# PREFIX (or BINDIR) says where the system-wide binary goes. SYSTEMCTL and LAUNCHCTL name the
# service managers' tools; UNAME_S picks systemd (Linux) or launchd (Darwin).
DESTDIR   ?=
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SYSTEMCTL ?= systemctl
LAUNCHCTL ?= launchctl
UNAME_S   ?= $(shell uname -s)

# Per user: the user unit runs %h/.local/bin/claude-otel-gw, so the binary goes there.
XDG_CONFIG_HOME ?= $(HOME)/.config
USER_BINDIR     := $(HOME)/.local/bin
USER_UNITDIR    := $(XDG_CONFIG_HOME)/systemd/user
AGENT_DIR       := $(HOME)/Library/LaunchAgents
AGENT_LOGDIR    := $(HOME)/Library/Logs/claude-otel-gw

# Per machine.
SYSTEM_UNITDIR  := /etc/systemd/system
SYSTEM_CONFDIR  := /etc/claude-otel-gw
DAEMON_DIR      := /Library/LaunchDaemons
DAEMON_CONFDIR  := /Library/Application Support/claude-otel-gw

UNIT   := claude-otel-gw.service
AGENT  := dev.claude-otel-gw.agent
DAEMON := dev.claude-otel-gw.daemon

# What the binary is built from: the Go files and the config embedded in it.
GO_SOURCES := $(shell find . -path ./.git -prune -o -name testdata -prune -o -type f \( -name '*.go' -o -name '*.toml' \) ! -name '*_test.go' -print) go.mod go.sum

.PHONY: build run test lint bench fuzz clean install-user install-system uninstall-user uninstall-system

build: ## the binary, in bin/
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

# The install targets rebuild the binary only when a source changed, so that
# "make build && sudo make install-system" does not run the Go toolchain as root.
$(BIN): $(GO_SOURCES)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $@ .

run: ## the gateway on the default config (the embedded one if no config file exists)
	$(GO) run -ldflags "$(LDFLAGS)" .

test: ## the suite CI runs
	$(GO) test -race $(PKGS)

lint: ## formatting and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)

bench: ## benchmarks of the hot path
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fuzz: ## a minute of each fuzz target
	$(GO) test -run '^$$' -fuzz FuzzUnmarshal -fuzztime 60s -fuzzminimizetime 5s ./telemetry/otlpjson
	$(GO) test -run '^$$' -fuzz FuzzHTTPHandler -fuzztime 60s ./ingest
	$(GO) test -run '^$$' -fuzz '^FuzzString$$' -fuzztime 60s ./redact
	$(GO) test -run '^$$' -fuzz '^FuzzMatcher$$' -fuzztime 60s ./redact
	$(GO) test -run '^$$' -fuzz '^FuzzPrefilter$$' -fuzztime 60s ./redact
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 60s ./config
	$(GO) test -run '^$$' -fuzz '^FuzzEscapeDollars$$' -fuzztime 60s ./config
	$(GO) test -run '^$$' -fuzz FuzzRecover -fuzztime 60s ./sinks/spool

clean:
	rm -rf bin

install-user: $(BIN) ## the binary in ~/.local/bin, run as your user service (Linux) or agent (macOS)
ifeq ($(UNAME_S),Darwin)
	install -d "$(DESTDIR)$(USER_BINDIR)" "$(DESTDIR)$(AGENT_DIR)" "$(DESTDIR)$(AGENT_LOGDIR)"
	install -m 0755 "$(BIN)" "$(DESTDIR)$(USER_BINDIR)/$(BINARY)"
	sed -e 's|/usr/local/bin/$(BINARY)|$(USER_BINDIR)/$(BINARY)|' -e 's|__HOME__|$(HOME)|g' \
		deploy/$(AGENT).plist > "$(DESTDIR)$(AGENT_DIR)/$(AGENT).plist"
	chmod 0644 "$(DESTDIR)$(AGENT_DIR)/$(AGENT).plist"
ifeq ($(DESTDIR),)
	$(LAUNCHCTL) bootout gui/$$(id -u)/$(AGENT) 2>/dev/null || true
	$(LAUNCHCTL) enable gui/$$(id -u)/$(AGENT)
	$(LAUNCHCTL) bootstrap gui/$$(id -u) "$(AGENT_DIR)/$(AGENT).plist"
endif
else
	install -d "$(DESTDIR)$(USER_BINDIR)" "$(DESTDIR)$(USER_UNITDIR)"
	install -m 0755 "$(BIN)" "$(DESTDIR)$(USER_BINDIR)/$(BINARY)"
	install -m 0644 deploy/$(UNIT) "$(DESTDIR)$(USER_UNITDIR)/$(UNIT)"
ifeq ($(DESTDIR),)
	$(SYSTEMCTL) --user daemon-reload
	$(SYSTEMCTL) --user enable $(UNIT)
# restart rather than start: after an upgrade the new binary must run
	$(SYSTEMCTL) --user restart $(UNIT)
endif
endif

uninstall-user: ## stop and remove what install-user installed; the config and state stay
ifeq ($(UNAME_S),Darwin)
ifeq ($(DESTDIR),)
	$(LAUNCHCTL) bootout gui/$$(id -u)/$(AGENT) 2>/dev/null || true
endif
	rm -f "$(DESTDIR)$(AGENT_DIR)/$(AGENT).plist" "$(DESTDIR)$(USER_BINDIR)/$(BINARY)"
	@echo "kept: $(HOME)/Library/Application Support/claude-otel-gw (config, state) and $(AGENT_LOGDIR)"
else
ifeq ($(DESTDIR),)
	$(SYSTEMCTL) --user disable --now $(UNIT) || true
endif
	rm -f "$(DESTDIR)$(USER_UNITDIR)/$(UNIT)" "$(DESTDIR)$(USER_BINDIR)/$(BINARY)"
ifeq ($(DESTDIR),)
	$(SYSTEMCTL) --user daemon-reload
endif
	@echo "kept: the config in $(XDG_CONFIG_HOME)/claude-otel-gw and the state in ~/.local/state/claude-otel-gw"
endif

install-system: $(BIN) ## the binary in $(PREFIX)/bin, the system unit or daemon, a config if there is none; run with sudo, or DESTDIR to stage
ifeq ($(UNAME_S),Darwin)
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(DAEMON_DIR)" "$(DESTDIR)$(DAEMON_CONFDIR)"
	install -m 0755 "$(BIN)" "$(DESTDIR)$(BINDIR)/$(BINARY)"
	sed -e 's|/usr/local/bin/$(BINARY)|$(BINDIR)/$(BINARY)|' deploy/$(DAEMON).plist > "$(DESTDIR)$(DAEMON_DIR)/$(DAEMON).plist"
	chmod 0644 "$(DESTDIR)$(DAEMON_DIR)/$(DAEMON).plist"
	test -e "$(DESTDIR)$(DAEMON_CONFDIR)/config.toml" || install -m 0600 config.toml.example "$(DESTDIR)$(DAEMON_CONFDIR)/config.toml"
	@echo
	@echo "Edit $(DAEMON_CONFDIR)/config.toml, check it with"
	@echo "  $(BINDIR)/$(BINARY) --check --config '$(DAEMON_CONFDIR)/config.toml'"
	@echo "and start the daemon:"
	@echo "  launchctl bootstrap system $(DAEMON_DIR)/$(DAEMON).plist"
else
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(SYSTEM_UNITDIR)" "$(DESTDIR)$(SYSTEM_CONFDIR)"
	install -m 0755 "$(BIN)" "$(DESTDIR)$(BINDIR)/$(BINARY)"
	sed -e 's|/usr/local/bin/$(BINARY)|$(BINDIR)/$(BINARY)|' deploy/claude-otel-gw-system.service > "$(DESTDIR)$(SYSTEM_UNITDIR)/$(UNIT)"
	chmod 0644 "$(DESTDIR)$(SYSTEM_UNITDIR)/$(UNIT)"
# 0644: the service's transient user must read it; secrets go in credentials, not here
	test -e "$(DESTDIR)$(SYSTEM_CONFDIR)/config.toml" || install -m 0644 config.toml.example "$(DESTDIR)$(SYSTEM_CONFDIR)/config.toml"
	@echo
	@echo "Edit $(SYSTEM_CONFDIR)/config.toml (a listener off loopback needs TLS), then start the service:"
	@echo "  systemctl daemon-reload"
	@echo "  systemctl enable --now $(UNIT)"
endif

uninstall-system: ## stop and remove what install-system installed; the config and state stay
ifeq ($(UNAME_S),Darwin)
ifeq ($(DESTDIR),)
	$(LAUNCHCTL) bootout system/$(DAEMON) 2>/dev/null || true
endif
	rm -f "$(DESTDIR)$(DAEMON_DIR)/$(DAEMON).plist" "$(DESTDIR)$(BINDIR)/$(BINARY)"
	@echo "kept: $(DAEMON_CONFDIR) (config, state) and /var/log/claude-otel-gw.log"
else
ifeq ($(DESTDIR),)
	$(SYSTEMCTL) disable --now $(UNIT) || true
endif
	rm -f "$(DESTDIR)$(SYSTEM_UNITDIR)/$(UNIT)" "$(DESTDIR)$(BINDIR)/$(BINARY)"
ifeq ($(DESTDIR),)
	$(SYSTEMCTL) daemon-reload
endif
	@echo "kept: $(SYSTEM_CONFDIR) (config) and /var/lib/claude-otel-gw (state)"
endif
