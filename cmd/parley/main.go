// Command parley is Parley's one binary: the bot (run), the demo, and the
// tools around the store (ingest, queue, stats, check, classify, rules).
//
// main stays thin: it parses the command line, builds the parts a command
// needs, runs it and closes what it opened. Each command lives in its own
// cmd_*.go file and registers itself in the command table.
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
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/yamlpos"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Exec(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// command is one `parley NAME` subcommand.
type command struct {
	name    string
	summary string
	// usage is the help text after the summary: synopsis, flags are added
	// automatically, then an example.
	usage string
	run   func(ctx context.Context, e *env, args []string) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("parley: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// env is what a command gets from main: its streams, the environment and
// the common flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	logger         *slog.Logger

	cmd *command
	fs  *flag.FlagSet

	// Common flags.
	dbPath     string
	dataDir    string
	configPath string
	jsonOut    bool
	logLevel   string
}

// errUsage marks an error in how the command was called (exit status 2).
var errUsage = errors.New("usage")

// exitError carries a specific exit status with a message already printed
// (or none to print).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Exec runs parley with args and returns the exit status.
func Exec(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "parley help: unknown command %q\n\n", args[1])
				printHelp(stderr)
				return 2
			}
			// The command defines its own flags before it parses, so
			// --help shows them all.
			args = []string{c.name, "--help"}
		} else {
			printHelp(stdout)
			return 0
		}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "parley: unknown command %q\n", args[0])
		if s := yamlpos.Suggest(args[0], commandNames()); s != "" {
			fmt.Fprintf(stderr, "Did you mean 'parley %s'?\n", s)
		}
		fmt.Fprintln(stderr)
		printHelp(stderr)
		return 2
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, cmd: c}
	e.logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := c.run(ctx, e, args[1:])
	return exitStatus(e, err)
}

func exitStatus(e *env, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.msg != "" {
			fmt.Fprintln(e.stderr, "parley "+e.cmd.name+": "+xe.msg)
		}
		return xe.code
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(e.stderr, "parley %s: %v\nRun 'parley help %s' for usage.\n", e.cmd.name, err, e.cmd.name)
		return 2
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(e.stderr, "parley %s: interrupted\n", e.cmd.name)
		return 130
	}
	msg := err.Error()
	if parley.ErrorCode(err) == parley.EINTERNAL {
		msg = "internal error: " + msg
	}
	fmt.Fprintf(e.stderr, "parley %s: %s\n", e.cmd.name, msg)
	return 1
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `Parley listens for mentions of your brand on Discord and Mastodon, remembers
every person and conversation, drafts replies for a person to approve, and
invites happy customers to share.

Usage: parley COMMAND [flags] [args]

Commands:
`)
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Try it with no account anywhere:
  parley demo

Run 'parley help COMMAND' (or 'parley COMMAND --help') for a command's flags and an example.
`)
}

// commandNames lists every registered command, sorted.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// flags returns the command's flag set with the common flags defined.
func (e *env) flags() *flag.FlagSet {
	if e.fs != nil {
		return e.fs
	}
	fs := flag.NewFlagSet("parley "+e.cmd.name, flag.ContinueOnError)
	// parse prints help (to stdout) and flag errors (to stderr) itself.
	fs.SetOutput(io.Discard)
	fs.StringVar(&e.dbPath, "db", "", "database file (default DATA/parley.db), or a postgres:// URL")
	fs.StringVar(&e.dataDir, "data", "", "data folder (default the config's data:, else ./parley-data)")
	fs.StringVar(&e.configPath, "config", "", "config file (YAML); see config.example.yaml")
	fs.StringVar(&e.logLevel, "log-level", "", "log level: debug, info, warn or error")
	fs.Usage = func() {}
	e.fs = fs
	return fs
}

// usage writes the command's help: summary, synopsis and example, flags.
func (e *env) usage(w io.Writer) {
	c, fs := e.cmd, e.flags()
	fmt.Fprintf(w, "parley %s: %s\n\n%s\n\nFlags:\n", c.name, c.summary, strings.TrimSpace(c.usage))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// flagError explains a flag the command could not parse, with the nearest
// defined flag when the name looks like a typo of one.
func (e *env) flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		msg = fmt.Sprintf("unknown flag --%s", name)
		var names []string
		e.flags().VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if s := yamlpos.Suggest(name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", s)
		}
	}
	return fmt.Errorf("%w: %s", errUsage, msg)
}

// jsonFlag adds --json to the command's flags.
func (e *env) jsonFlag() {
	e.flags().BoolVar(&e.jsonOut, "json", false, "print JSON instead of text")
}

// parse parses args with the command's flags and returns the positional
// arguments. Flags may come before or after the positional arguments.
func (e *env) parse(args []string) ([]string, error) {
	fs := e.flags()
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				e.usage(e.stdout)
				return nil, err
			}
			return nil, e.flagError(err)
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	e.applyEnvFlags()
	if e.logLevel != "" {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(e.logLevel)); err != nil {
			return nil, fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, e.logLevel)
		}
		e.logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
	}
	return rest, nil
}

// setLogLevel makes lvl the default level unless --log-level was given.
func (e *env) setLogLevel(lvl slog.Level) {
	if e.logLevel == "" {
		e.logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
	}
}

// DefaultDataDir is where Parley keeps its database when nothing says
// otherwise.
const DefaultDataDir = "./parley-data"

// databasePath resolves the database file: --db, else --data/parley.db,
// else the config's data folder, else ./parley-data/parley.db.
func (e *env) databasePath(cfg *Config) string {
	if e.dbPath != "" {
		return e.dbPath
	}
	dir := e.dataDir
	if dir == "" && cfg != nil && cfg.Data != "" {
		dir = cfg.Data
	}
	if dir == "" {
		dir = DefaultDataDir
	}
	return filepath.Join(dir, "parley.db")
}

// openStore opens the store the flags, environment and cfg (may be nil)
// select: the SQLite file (created when missing) or the PostgreSQL
// database. The SQLite file is not locked: commands other than run and
// demo share it with a running parley, as SQLite's own locking allows.
func (e *env) openStore(ctx context.Context, cfg *Config) (cliStore, error) {
	url, err := e.postgresURL(cfg)
	if err != nil {
		return nil, err
	}
	if url != "" {
		return postgres.Open(ctx, url, postgres.Options{Logger: e.logger})
	}
	return store.Open(ctx, e.databasePath(cfg), store.Options{Logger: e.logger})
}

// openExistingStore is openStore for commands that only read: a SQLite
// database that does not exist yet is an error that says how to make one,
// rather than a new empty file.
func (e *env) openExistingStore(ctx context.Context, cfg *Config) (cliStore, error) {
	url, err := e.postgresURL(cfg)
	if err != nil {
		return nil, err
	}
	if url == "" {
		path := e.databasePath(cfg)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, parley.Errorf(parley.ENOTFOUND, "no database at %s: run 'parley demo' or 'parley ingest' first, or point --db at one", path)
		}
	}
	return e.openStore(ctx, cfg)
}

// openSQLite opens the SQLite file for a command that works on a file
// only (demo), refusing clearly when PostgreSQL is selected.
func (e *env) openSQLite(ctx context.Context, cfg *Config) (*store.Store, error) {
	if err := e.sqliteOnly(cfg, "`parley ingest` (to load mentions)"); err != nil {
		return nil, err
	}
	return store.Open(ctx, e.databasePath(cfg), store.Options{Logger: e.logger})
}

// checkPlatform refuses a --platform value Parley has no connector for;
// "" passes (no filter).
func checkPlatform(p string) error {
	switch p {
	case "", parley.PlatformMastodon, parley.PlatformDiscord:
		return nil
	}
	return fmt.Errorf("%w: --platform %q: Parley knows mastodon and discord", errUsage, p)
}

// plural writes "1 problem" or "3 problems".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// joinErr runs f (a deferred Close or Flush) and joins its error into
// *dst, so a command that wrote through it does not report success when
// the last write failed.
func joinErr(dst *error, f func() error) {
	*dst = errors.Join(*dst, f())
}
