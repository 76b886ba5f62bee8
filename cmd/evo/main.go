// Command evo is EVO-TR: a self-hosted Turkish AI assistant for Telegram,
// Discord and the terminal. `evo help` lists its subcommands.
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
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // SLEEP_TIMEZONE works on machines without a zone database
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// app is what every subcommand gets: its streams, the configuration and
// the logger, all built once in run.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	cfg    Config
	log    *slog.Logger
	// lookup is the environment run was given.
	lookup func(string) (string, bool)
}

// command is one subcommand of evo.
type command struct {
	name    string
	summary string
	// noConfig commands run without loading the configuration.
	noConfig bool
	// quiet commands talk to a person on stdout: their log shows warnings
	// and errors only, unless LOG_LEVEL is set.
	quiet bool
	run   func(ctx context.Context, a *app, args []string) error
}

// commands lists evo's subcommands; help prints them in this order.
func commands() []command {
	return []command{
		{name: "serve", summary: "Run the configured bots, the night schedule and the HTTP server (/healthz, /readyz, /metrics); --cpuprofile FILE", run: cmdServe},
		{name: "chat", summary: "Talk to the brain in the terminal: evo chat [--user NAME]", quiet: true, run: cmdChat},
		{name: "migrate", summary: "Apply the database migrations and exit", run: cmdMigrate},
		{name: "route", summary: "Ask the router offline: evo route \"text\" | --jsonl | eval FILE | learn FILE", run: cmdRoute},
		{name: "experts", summary: "Build the experts' models in Ollama and show them: evo experts sync [--resident] | list", run: cmdExperts},
		{name: "sleep", summary: "Run the night job once: evo sleep [--day dün|bugün|YYYY-MM-DD]", run: cmdSleep},
		{name: "dataset", summary: "Build mlx-lm training sets from the nights' files: evo dataset --out DIR PATH...", noConfig: true, run: cmdDataset},
		{name: "users", summary: "Who may use EVO-TR: evo users list | allow CODE | deny PLATFORM:ID", run: cmdUsers},
		{name: "memory", summary: "Rebuild Chroma, the memories' search index, from their rows in Postgres: evo memory reindex", run: cmdMemory},
		{name: "audit", summary: "Print admin commands and refused attempts: evo audit [--since dün|bugün|YYYY-MM-DD]", run: cmdAudit},
		{name: "bench", summary: "Load EVO-TR as users do and time it: evo bench [--users N] [--messages M] [--json] [--token-rate R]", run: cmdBench},
		{name: "version", summary: "Print the version", noConfig: true, run: cmdVersion},
		{name: "help", summary: "List the subcommands", noConfig: true, run: nil},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// errUsage marks an error that help text follows.
var errUsage = errors.New("usage")

// run executes one evo invocation and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	if name == "help" || name == "-h" || name == "--help" {
		printHelp(stdout)
		return 0
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "evo: unknown command %q\n\n", name)
		printHelp(stderr)
		return 2
	}
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, lookup: lookup}
	if !cmd.noConfig {
		cfg, err := LoadConfig(lookup)
		if err != nil {
			fmt.Fprintf(stderr, "evo: configuration: %v\n", err)
			return 2
		}
		a.cfg = cfg
	}
	level := a.cfg.LogLevel
	if _, set := lookup("LOG_LEVEL"); cmd.quiet && !set {
		level = "warn"
	}
	a.log = newLogger(stderr, level, a.cfg.LogFormat)
	if err := cmd.run(ctx, a, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "evo %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "EVO-TR: self-hosted Turkish AI assistant.")
	fmt.Fprintln(w, "\nUsage: evo <command> [arguments]\n\nCommands:")
	cmds := commands()
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w, "\nConfiguration comes from the environment and an optional .env file; see .env.example.")
}

func cmdVersion(_ context.Context, a *app, _ []string) error {
	_, err := fmt.Fprintf(a.stdout, "evo %s\n", version)
	return err
}

// newLogger builds the one logger of the process.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
