package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/export"
)

func init() {
	register(&command{
		name:    "export",
		summary: "export mentions, conversations, drafts or people as CSV or JSON lines",
		usage: `parley export mentions|conversations|drafts|people [--format csv|jsonl] [--since WHEN] [--until WHEN]
              [--platform mastodon|discord] [--out FILE]

Writes every row of one kind to stdout, or to FILE (created readable by
you only; replaced whole once the export is complete). Rows stream from
the database one at a time, so any size fits. CSV has a header row; JSON
lines has one object per line, the shape 'parley conversations show
--json' prints. WHEN is a date (2006-01-02), a time (RFC 3339) or a
duration back from now (24h, 7d). The time filtered on is a mention's or
draft's creation, a conversation's last message, a person's last sighting.

Example:
  parley export mentions --format csv --since 7d --out mentions.csv
  parley export conversations --format jsonl --platform mastodon | jq .state`,
		run: runExport,
	})
	register(&command{
		name:    "people",
		summary: "a person's data on request: export everything Parley holds about them, or erase it",
		usage: `parley people export HANDLE [--platform mastodon|discord] [--out FILE]
parley people erase HANDLE --yes [--block] [--platform mastodon|discord]

Prints one JSON document with the person (HANDLE or their platform id),
their mentions, the conversations they wrote in, drafts and advocate
prompts to them, their advocate history, staff notes, sentiment
corrections of their posts and the audit entries naming them. Other
people's messages are left out. --platform chooses when the handle is
on more than one platform.

erase removes what identifies the person and what they said (docs/web.md,
"A person's data"): their mentions' text, links and platform ids, their
handle and name; prompts, notes and webhook events about them; drafts to
them lose their text and are never sent. Counts stay, anonymous, for the
digest. The erasure is in the audit log, without the erased data. --block
also keeps their future posts out. It cannot be undone: --yes confirms.

Example:
  parley people export @marcus@mastodon.social --out marcus.json
  parley people erase @marcus@mastodon.social --yes --block`,
		run: runPeople,
	})
}

// exportStore is what the export commands need from a store.
type exportStore interface {
	parley.DataExporter
	FindPerson(ctx context.Context, platform, handleOrID string) (parley.Person, error)
}

type exportFlags struct {
	format, since, until, platform, out string
}

func runExport(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	var f exportFlags
	fs.StringVar(&f.format, "format", "csv", "csv or jsonl (JSON lines)")
	fs.StringVar(&f.since, "since", "", "from this time: a date, an RFC 3339 time or a duration back from now (7d)")
	fs.StringVar(&f.until, "until", "", "before this time, as --since")
	fs.StringVar(&f.platform, "platform", "", "only this platform (mastodon or discord)")
	fs.StringVar(&f.out, "out", "", "write to this file instead of stdout")
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: name one kind to export: mentions, conversations, drafts or people", errUsage)
	}
	kind := rest[0]
	if err := export.Check(kind, "csv"); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := export.Check(kind, f.format); err != nil {
		return fmt.Errorf("%w: --format %q: want csv or jsonl", errUsage, f.format)
	}
	filter, err := f.filter(time.Now())
	if err != nil {
		return err
	}
	st, closeStore, err := e.openExportStore(ctx)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, closeStore)
	n := 0
	err = writeOut(e, f.out, func(w io.Writer) error {
		n, err = export.Write(ctx, st, kind, f.format, filter, w)
		return err
	})
	if err != nil {
		return err
	}
	if f.out != "" {
		one := map[string]string{"mentions": "mention", "conversations": "conversation", "drafts": "draft", "people": "person"}[kind]
		fmt.Fprintf(e.stderr, "exported %s to %s\n", plural(n, one, kind), f.out)
	}
	return nil
}

func (f exportFlags) filter(now time.Time) (parley.ExportFilter, error) {
	var out parley.ExportFilter
	if err := checkPlatform(f.platform); err != nil {
		return out, err
	}
	out.Platform = f.platform
	var err error
	if out.Since, err = parseWhen(f.since, "--since", now); err != nil {
		return out, err
	}
	if out.Until, err = parseWhen(f.until, "--until", now); err != nil {
		return out, err
	}
	if !out.Since.IsZero() && !out.Until.IsZero() && !out.Since.Before(out.Until) {
		return out, fmt.Errorf("%w: --since %s is not before --until %s", errUsage, f.since, f.until)
	}
	return out, nil
}

// parseWhen reads "" (no bound), a duration back from now (90m, 24h, 7d)
// or a date or time.
func parseWhen(v, flagName string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := parseDate(v, flagName)
	if err != nil {
		return t, fmt.Errorf("%w (or a duration back from now: 24h, 7d)", err)
	}
	return t, nil
}

// openExportStore opens the database for reading.
func (e *env) openExportStore(ctx context.Context) (exportStore, func() error, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	st, err := e.openExistingStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return st, st.Close, nil
}

// writeOut runs write on stdout, or on a new file at path: written to a
// temporary file (mode 0600) beside it and renamed once complete, so a
// failed export leaves no half file behind and never a readable one.
func writeOut(e *env, path string, write func(io.Writer) error) (retErr error) {
	if path == "" {
		bw := bufio.NewWriterSize(e.stdout, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	defer func() {
		if retErr != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	return nil
}

func runPeople(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	var platform, out string
	fs.StringVar(&platform, "platform", "", "the person's platform (mastodon or discord), when the handle is on both")
	fs.StringVar(&out, "out", "", "write to this file instead of stdout")
	block := fs.Bool("block", false, "erase: keep the person's future posts out (a tombstone)")
	yes := fs.Bool("yes", false, "erase: confirm; an erasure cannot be undone")
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 && rest[0] == "erase" {
		return runPeopleErase(ctx, e, rest[1:], platform, *block, *yes)
	}
	if len(rest) == 0 || rest[0] != "export" {
		return fmt.Errorf("%w: want 'parley people export HANDLE' or 'parley people erase HANDLE --yes'", errUsage)
	}
	if len(rest) != 2 || strings.TrimSpace(rest[1]) == "" {
		return fmt.Errorf("%w: people export takes one handle (or platform id)", errUsage)
	}
	if err := checkPlatform(platform); err != nil {
		return err
	}
	st, closeStore, err := e.openExportStore(ctx)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, closeStore)
	p, err := st.FindPerson(ctx, platform, rest[1])
	if err != nil {
		return err
	}
	data, err := st.PersonData(ctx, p.ID)
	if err != nil {
		return err
	}
	err = writeOut(e, out, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(data)
	})
	if err == nil && out != "" {
		fmt.Fprintf(e.stderr, "exported @%s on %s (%s) to %s\n", p.Handle, p.Platform, plural(len(data.Mentions), "mention", "mentions"), out)
	}
	return err
}
