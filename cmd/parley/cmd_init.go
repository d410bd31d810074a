package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleybot/parley"
)

func init() {
	register(&command{
		name:    "init",
		summary: "write a starter config for your brand",
		usage: `parley init [--dir DIR] [--brand NAME] [--keywords a,b] [--mastodon-server URL] [--discord] [--timezone ZONE] [--force]

Writes DIR/parley.yaml (default the current folder; mode 0600) for your
brand with general-purpose rules: complaint, question, praise, order
problem, opt-out. On a terminal it asks for what the flags did not give;
in a script the flags are enough (--brand is then required). Tokens are
never written: the file names the variables that hold them. Then:

  parley check --config DIR/parley.yaml --connect
  parley run --config DIR/parley.yaml

Example:
  parley init --dir /etc/parley
  parley init --dir . --brand "Acme Coffee" --keywords acme,acmecoffee \
    --mastodon-server https://mastodon.social --discord`,
		run: runInit,
	})
}

type initAnswers struct {
	brand, timezone, mastodon string
	keywords                  []string
	discord                   bool
}

func runInit(_ context.Context, e *env, args []string) error {
	fs := e.flags()
	dir := fs.String("dir", ".", "the folder to write parley.yaml to")
	brand := fs.String("brand", "", "the brand's name, as replies and the digest say it")
	keywords := fs.String("keywords", "", "comma-separated words to listen for (default the brand's name)")
	mastodon := fs.String("mastodon-server", "", "the Mastodon server of the bot account, e.g. https://mastodon.social")
	discord := fs.Bool("discord", false, "add a Discord connector")
	tz := fs.String("timezone", "", "IANA time zone for quiet hours and the digest (default UTC)")
	force := fs.Bool("force", false, "overwrite an existing parley.yaml")
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	path := filepath.Join(*dir, "parley.yaml")
	if _, err := os.Stat(path); err == nil && !*force {
		return parley.Errorf(parley.ECONFLICT, "%s already exists: edit it, or --force to replace it", path)
	}
	a := initAnswers{brand: *brand, timezone: *tz, mastodon: *mastodon, discord: *discord, keywords: splitWords(*keywords)}
	if isTerminal(e.stdout) && isTerminalReader(e.stdin) {
		if err := a.ask(e.stdin, e.stdout); err != nil {
			return err
		}
	}
	if strings.TrimSpace(a.brand) == "" {
		return fmt.Errorf("%w: --brand NAME is required when parley init does not run on a terminal", errUsage)
	}
	if len(a.keywords) == 0 {
		a.keywords = []string{strings.ToLower(strings.Join(strings.Fields(a.brand), ""))}
	}
	text := a.config()
	// The starter must pass check as written (tokens aside).
	if _, err := ParseConfig(path, []byte(text), func(string) string { return "set" }); err != nil {
		return fmt.Errorf("the starter config does not check (please report this): %w", err)
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", *dir, err)
	}
	if err := writePrivate(path, []byte(text)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (readable by you only)\n\nNext:\n", path)
	if a.mastodon != "" {
		fmt.Fprintf(e.stdout, "  parley mastodon login --server %s    # prints export PARLEY_MASTODON_TOKEN=...\n", a.mastodon)
	}
	if a.discord {
		fmt.Fprintln(e.stdout, "  export PARLEY_DISCORD_TOKEN=...        # the bot token; set channels in the file")
	}
	fmt.Fprintf(e.stdout, "  parley check --config %s --connect\n  parley run --config %s\n", path, path)
	return nil
}

// ask fills, on a terminal, what the flags left empty.
func (a *initAnswers) ask(in io.Reader, out io.Writer) error {
	r := bufio.NewReader(in)
	line := func(prompt, def string) (string, error) {
		if def != "" {
			fmt.Fprintf(out, "%s [%s]: ", prompt, def)
		} else {
			fmt.Fprintf(out, "%s: ", prompt)
		}
		s, err := r.ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && s != "") {
			return "", fmt.Errorf("init: %w", err)
		}
		if s = strings.TrimSpace(s); s == "" {
			return def, nil
		}
		return s, nil
	}
	var err error
	for a.brand == "" {
		if a.brand, err = line("Brand name (as replies say it)", ""); err != nil {
			return err
		}
	}
	if len(a.keywords) == 0 {
		def := strings.ToLower(strings.Join(strings.Fields(a.brand), ""))
		kw, err := line("Keywords to listen for, comma-separated", def)
		if err != nil {
			return err
		}
		a.keywords = splitWords(kw)
	}
	if a.mastodon == "" {
		if a.mastodon, err = line("Mastodon server of the bot account (empty: no Mastodon)", ""); err != nil {
			return err
		}
	}
	if !a.discord {
		yn, err := line("Listen on Discord too? (y/N)", "n")
		if err != nil {
			return err
		}
		a.discord = strings.HasPrefix(strings.ToLower(yn), "y")
	}
	if a.timezone == "" {
		if a.timezone, err = line("Time zone (IANA, e.g. Europe/Berlin)", "UTC"); err != nil {
			return err
		}
	}
	return nil
}

func splitWords(s string) []string {
	var out []string
	for _, w := range strings.Split(s, ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// isTerminalReader reports whether r is an interactive terminal.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// writePrivate writes a file only its owner may read (0600), replacing
// one that is there.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) //nolint:gosec // the path the user chose
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}
