// Command claude-otel-gw is the gateway between Claude Code's OpenTelemetry export and the
// places its telemetry must go: it ingests OTLP, routes and redacts it per destination, and
// delivers it through bounded queues. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"claude-otel-gw/config"
	"claude-otel-gw/gateway"
	"claude-otel-gw/internal/claudesettings"
	"claude-otel-gw/internal/sdnotify"
	"claude-otel-gw/redact"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("claude-otel-gw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath  = fs.String("config", "", "config file (default: the platform config path if it exists, else the embedded default)")
		check       = fs.Bool("check", false, "validate the config and exit: 0 valid, 1 invalid")
		printConfig = fs.Bool("print-config", false, "print the effective config (defaults filled in, secrets masked) and exit")
		showVersion = fs.Bool("version", false, "print the version and exit")
		redactStdin = fs.Bool("redact", false, "read text on stdin and write it redacted: a dry run of a redaction profile")
		profile     = fs.String("profile", config.DefaultProfile, "the redaction profile --redact uses")
		settings    = fs.Bool("claude-settings", false, "print the Claude Code managed-settings JSON that points Claude Code at this gateway, and exit")
		protocol    = fs.String("protocol", "", "with --claude-settings: grpc, http/protobuf or http/json (default: grpc when its listener is on)")
		withToken   = fs.Bool("with-token", false, "with --claude-settings: add the bearer token from ingest.bearer_token_file")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "claude-otel-gw: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	info := buildInfo()
	if *showVersion {
		fmt.Fprintf(stdout, "claude-otel-gw %s (revision %s, %s)\n", info.Version, info.Revision, runtime.Version())
		return 0
	}

	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch {
	case *printConfig:
		if err := cfg.Print(stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	case *redactStdin:
		return redactText(cfg, *profile, stdin, stdout, stderr)
	case *settings:
		return claudeSettings(cfg, claudesettings.Options{Protocol: *protocol, WithToken: *withToken}, stdout, stderr)
	case *protocol != "" || *withToken:
		fmt.Fprintln(stderr, "claude-otel-gw: --protocol and --with-token go with --claude-settings")
		return 2
	}

	var level slog.LevelVar
	level.Set(logLevel(cfg.Log))
	log := newLogger(cfg.Log, &level, stderr)
	gw, err := gateway.Build(cfg, log, info)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *check {
		if err := gw.Close(); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: ok\n", cfg.Source)
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Registered before Start, so that a SIGHUP sent as soon as the service is up reloads
	// rather than kills (Go's default for SIGHUP).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := gw.Start(ctx); err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	// Under systemd (Type=notify) the service is up once the listeners are.
	if err := sdnotify.Ready(); err != nil {
		log.Warn("telling systemd the gateway is ready failed", "err", err)
	}
	running := cfg
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-hup:
			if next := reload(ctx, gw, *configPath, &level, log); next != nil {
				running = next
			}
		}
	}
	log.Info("shutting down")
	sdnotify.Stopping() //nolint:errcheck // systemd learns it from the exit anyway
	sctx, cancel := context.WithTimeout(context.Background(), running.ShutdownTimeout.D())
	defer cancel()
	if err := gw.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// loadConfig reads the explicit config, else the platform default file, else the embedded one.
func loadConfig(explicit string) (*config.Config, error) {
	path, err := config.Locate(explicit)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return config.Embedded()
	}
	return config.Load(path)
}

func redactText(cfg *config.Config, profile string, stdin io.Reader, stdout, stderr io.Writer) int {
	pc, ok := cfg.Redaction[profile]
	if !ok {
		fmt.Fprintf(stderr, "claude-otel-gw: no redaction profile %q\n", profile)
		return 1
	}
	p, err := redact.Compile(profile, pc, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if _, err := io.WriteString(stdout, p.String(string(in))); err != nil {
		return 1
	}
	return 0
}

func claudeSettings(cfg *config.Config, o claudesettings.Options, stdout, stderr io.Writer) int {
	s, notes, err := claudesettings.Build(cfg, o)
	if err != nil {
		fmt.Fprintf(stderr, "claude-otel-gw: %v\n", err)
		return 1
	}
	out, err := s.JSON()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		return 1
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "claude-otel-gw: note: %s\n", n)
	}
	return 0
}

// reload answers a SIGHUP: it loads the config again from where it was found at start (or,
// for the embedded default, from the platform path if a file is there now) and hands it to the
// gateway. On any failure the running config stays, every problem is logged, and the reload
// metric says so. It returns the new config, or nil.
func reload(ctx context.Context, gw *gateway.Gateway, explicit string, level *slog.LevelVar, log *slog.Logger) *config.Config {
	sdnotify.Reloading()   //nolint:errcheck // only systemd's view of the reload is lost
	defer sdnotify.Ready() //nolint:errcheck
	log.Info("reloading the config")
	cfg, err := loadConfig(explicit)
	if err != nil {
		gw.ReloadFailed()
	} else {
		err = gw.Reload(ctx, cfg)
	}
	msg := "reload failed; the running config stays"
	if cfg != nil && (err == nil || errors.Is(err, gateway.ErrPartlyApplied)) {
		level.Set(logLevel(cfg.Log))
		if err == nil {
			return cfg
		}
		msg = "reload partly failed"
	} else {
		cfg = nil
	}
	// One line per problem, so that each is found by whoever greps the log for its key.
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			log.Error(msg, "problem", line)
		}
	}
	return cfg
}

func logLevel(c config.Log) slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	return level
}

func newLogger(c config.Log, level slog.Leveler, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func buildInfo() gateway.Info {
	info := gateway.Info{Version: version, Revision: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Revision = s.Value
			}
		}
	}
	return info
}
