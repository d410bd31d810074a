package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/discord"
	"github.com/parleybot/parley/connectors/mastodon"
	"github.com/parleybot/parley/digest"
)

func init() {
	register(&command{
		name:    "digest",
		summary: "build the weekly digest; print it, write it to a file, or send it",
		usage: `parley digest [--week 2026-W47|LAST] [--format md|html|text] [--out FILE] [--send [--force]] [--config FILE] [--db PATH]

Builds the digest of one ISO week (Monday to Sunday in digest.timezone, else
brand.timezone, else UTC) compared with the week before: volume, sentiment,
response times, people, topics and three things to do next.

Without --send it only prints the digest (Markdown by default) or writes it
to --out; the format follows --out's extension (.html, .md, .txt) unless
--format says otherwise. With --send it also stores the digest and delivers
it to the targets in the config's digest: section, once per week: a week
already sent is refused unless --force.

--week LAST (the default) is the last complete week. If that week has no
mentions while the newest mention is in another week (a replayed sample, an
old database), LAST is the week of the newest mention, and a note says so.

Example:
  parley digest --week LAST --format html --out digest.html
  parley digest --week 2026-W46
  parley digest --config parley.yaml --send`,
		run: runDigest,
	})
}

func runDigest(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	weekFlag := fs.String("week", "LAST", "the ISO week, e.g. 2026-W47, or LAST for the last complete week")
	format := fs.String("format", "", "md, html or text (default from --out's extension, else md)")
	out := fs.String("out", "", "write the digest to this file instead of standard output")
	send := fs.Bool("send", false, "store the digest and deliver it to the config's targets")
	force := fs.Bool("force", false, "with --send: send a week that was sent before again")
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	if *force && !*send {
		return fmt.Errorf("%w: --force only goes with --send", errUsage)
	}
	// Without a config there are no targets: a send would store the week
	// as sent and make the real send of that week refuse.
	if *send && e.configPath == "" {
		return fmt.Errorf("%w: --send needs --config FILE: its digest: section names the targets, and nothing was stored or sent", errUsage)
	}
	f, err := digestFormat(*format, *out)
	if err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := e.openExistingStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)
	svc, err := digestService(e, cfg, st, *send)
	if err != nil {
		return err
	}
	week, err := digestWeek(ctx, e, svc, *weekFlag)
	if err != nil {
		return err
	}
	var body string
	var sendErr error
	if *send {
		if body, sendErr, err = sendDigest(ctx, e, svc, week, f, *force); err != nil {
			return err
		}
	} else if body, err = buildDigest(ctx, svc, week, f); err != nil {
		return err
	}
	switch {
	case *out != "":
		if err := digest.WriteFileAtomic(*out, []byte(body)); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote the digest of %s to %s\n", week, *out)
	case !*send:
		fmt.Fprint(e.stdout, body)
	}
	return sendErr
}

// digestService is the digest service for the config (nil: defaults);
// with send, it posts through the config's connectors.
func digestService(e *env, cfg *Config, st cliStore, send bool) (*digest.Service, error) {
	var posters map[string]digest.Poster
	if send && cfg != nil {
		conns, err := buildConnectors(e, cfg, st)
		if err != nil {
			return nil, err
		}
		posters = digestPosters(conns)
	}
	var dcfg digest.Config
	brand := ""
	if cfg != nil {
		dcfg, brand = cfg.Digest, cfg.Brand.Name
	}
	return digest.NewService(st, dcfg, digest.ServiceOptions{
		Brand: brand, Logger: e.logger, Getenv: e.getenv, Posters: posters,
	})
}

// digestWeek reads --week: an ISO week, or LAST for the last complete
// week (else the week of the newest mention, with a note).
func digestWeek(ctx context.Context, e *env, svc *digest.Service, flag string) (digest.Week, error) {
	if !strings.EqualFold(strings.TrimSpace(flag), "LAST") {
		week, err := digest.ParseWeek(flag)
		if err != nil {
			return week, fmt.Errorf("%w: --week: %s", errUsage, parley.ErrorMessage(err))
		}
		return week, nil
	}
	w, fellBack, err := svc.LastWeek(ctx)
	if err != nil {
		return w, err
	}
	if fellBack {
		fmt.Fprintf(e.stderr, "note: the last complete week, %s, has no mentions; showing %s, the week of the newest mention\n",
			digest.LastComplete(time.Now(), svc.Location()), w)
	}
	return w, nil
}

// sendDigest stores and delivers the week's digest and prints the
// deliveries. It returns the digest in format f, and sendErr when some
// delivery failed after the digest was stored.
func sendDigest(ctx context.Context, e *env, svc *digest.Service, week digest.Week, f string, force bool) (body string, sendErr, err error) {
	rec, err := svc.Send(ctx, week, force)
	if err != nil && parley.ErrorCode(err) == parley.ECONFLICT {
		return "", nil, parley.Errorf(parley.ECONFLICT, "%s; --force sends it again", parley.ErrorMessage(err))
	}
	if err != nil && rec.Markdown == "" {
		return "", nil, err
	}
	printDeliveries(e, rec)
	return map[string]string{"md": rec.Markdown, "html": rec.HTML, "text": rec.Text}[f], err, nil
}

// buildDigest renders the week's digest in format f without storing it.
func buildDigest(ctx context.Context, svc *digest.Service, week digest.Week, f string) (string, error) {
	d, err := svc.Build(ctx, week)
	if err != nil {
		return "", err
	}
	switch f {
	case "html":
		return d.HTML(digest.HTMLOptions{})
	case "text":
		return d.Text(), nil
	}
	return d.Markdown(), nil
}

func digestFormat(format, out string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(format))
	if f == "" {
		switch strings.ToLower(filepath.Ext(out)) {
		case ".html", ".htm":
			f = "html"
		case ".txt", ".text":
			f = "text"
		default:
			f = "md"
		}
	}
	switch f {
	case "md", "markdown":
		return "md", nil
	case "html":
		return "html", nil
	case "text", "txt":
		return "text", nil
	}
	return "", fmt.Errorf("%w: --format %q: want md, html or text", errUsage, format)
}

func printDeliveries(e *env, rec parley.DigestRecord) {
	fmt.Fprintf(e.stdout, "digest %s: %s (%s)\n", rec.Week, rec.Status, rec.Summary)
	if len(rec.Deliveries) == 0 {
		fmt.Fprintln(e.stdout, "  no targets in the config's digest: section; the digest is stored only")
	}
	for _, d := range rec.Deliveries {
		switch {
		case d.OK && d.Detail != "":
			fmt.Fprintf(e.stdout, "  ok      %s: %s\n", d.Target, d.Detail)
		case d.OK:
			fmt.Fprintf(e.stdout, "  ok      %s\n", d.Target)
		default:
			fmt.Fprintf(e.stdout, "  FAILED  %s after %d attempts: %s\n", d.Target, d.Attempts, d.Error)
		}
	}
}

// digestPosters adapts the connectors to the digest's chat targets:
// Discord posts the Markdown digest in pieces of at most 2,000 characters
// to the target's channel; Mastodon sends the text digest as direct
// messages (through the first account). Each piece carries a key made of
// the week, the target and its number, so a retried delivery posts once.
func digestPosters(conns connectorSet) map[string]digest.Poster {
	posters := map[string]digest.Poster{}
	for _, s := range conns.senders {
		switch c := s.(type) {
		case *discord.Connector:
			posters[digest.TargetDiscord] = chatPoster{
				digest: func(ctx context.Context, t digest.Target, d *digest.Digest) error {
					return postDiscord(ctx, c, t.Channel, d.Markdown(), fmt.Sprintf("parley-digest-%s-%s", d.Week, t.Channel))
				},
				notice: func(ctx context.Context, t digest.Target, n digest.Notice) error {
					return postDiscord(ctx, c, t.Channel, n.Text, "parley-"+n.ID+"-"+t.Channel)
				}}
		case *mastodon.Connector:
			if _, ok := posters[digest.TargetMastodon]; ok {
				continue
			}
			posters[digest.TargetMastodon] = chatPoster{digest: func(ctx context.Context, t digest.Target, d *digest.Digest) error {
				for _, to := range t.To {
					// Leave room for the @mention in front.
					for i, part := range digest.Split(d.Text(), mastodon.DefaultMaxCharacters-len(to)-2) {
						key := fmt.Sprintf("parley-digest-%s-%s-%d", d.Week, to, i)
						if _, err := c.PostDirect(ctx, to, part, key); err != nil {
							return err
						}
					}
				}
				return nil
			}}
		}
	}
	return posters
}

// postDiscord posts text to a channel in parts Discord takes, each with
// its own idempotency key (key and the part's number).
func postDiscord(ctx context.Context, c *discord.Connector, channel, text, key string) error {
	for i, part := range digest.Split(text, discord.MaxMessageLen) {
		if _, err := c.PostText(ctx, channel, part, fmt.Sprintf("%s-%d", key, i)); err != nil {
			return err
		}
	}
	return nil
}

// chatPoster posts digests, and notices (alerts) where the platform has a
// channel for them, through a connector.
type chatPoster struct {
	digest func(ctx context.Context, t digest.Target, d *digest.Digest) error
	notice func(ctx context.Context, t digest.Target, n digest.Notice) error
}

func (p chatPoster) PostDigest(ctx context.Context, t digest.Target, d *digest.Digest) error {
	return p.digest(ctx, t, d)
}

func (p chatPoster) PostNotice(ctx context.Context, t digest.Target, n digest.Notice) error {
	if p.notice == nil {
		return parley.Errorf(parley.EINVALID, "a %s target takes no alerts", t.Type)
	}
	return p.notice(ctx, t, n)
}
