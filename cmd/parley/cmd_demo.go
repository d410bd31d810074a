package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/internal/textutil"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/web"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "try Parley on bundled sample data, with no account anywhere",
		usage: `parley demo [--data DIR] [--addr HOST:PORT] [--serve=false]

Creates a database in the data folder (default ./parley-data), replays a
bundled sample of a few hundred mentions of Tidewater Skates, a made-up
skateboard brand, through the pipeline with the rules of config.example.yaml,
and prints what happened and the commands to look closer. Then it serves the
web inbox (default http://127.0.0.1:8080) with a demo login until Ctrl-C;
approved drafts are "posted" to a stand-in platform that prints them.
Running it again stores nothing twice: mentions are unique.

Example:
  go run ./cmd/parley demo
  parley demo --data /tmp/parley-demo --addr 127.0.0.1:9000
  parley demo --serve=false     # print the summary and exit`,
		run: runDemo,
	})
}

// demoConfigName is how messages name the built-in example config.
const demoConfigName = "config.example.yaml (built in)"

func runDemo(ctx context.Context, e *env, args []string) (retErr error) {
	serve := e.flags().Bool("serve", true, "serve the web inbox after the replay, until Ctrl-C")
	addr := e.flags().String("addr", "", "where the web inbox listens (default "+web.DefaultAddr+")")
	if _, err := e.parse(args); err != nil {
		return err
	}
	e.setLogLevel(slog.LevelWarn)
	cfg, err := ParseConfig(demoConfigName, parley.ExampleConfig, e.getenv)
	if err != nil {
		return fmt.Errorf("the built-in example config is broken: %w", err)
	}
	cfg.Data = "" // --data, else ./parley-data
	dbPath := e.databasePath(cfg)
	st, err := e.openSQLite(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)

	fmt.Fprintf(e.stdout, "Parley demo: %s, a made-up skateboard brand, on Mastodon and Discord.\n", cfg.Brand.Name)
	fmt.Fprintf(e.stdout, "Replaying %d sample mentions into %s ...\n\n", bytes.Count(replay.Sample(), []byte("\n")), dbPath)
	sample := replay.Sample()
	sum, err := ingest(ctx, e, cfg, st, bytes.NewReader(sample), ingestOptions{size: int64(len(sample)), bar: isTerminal(e.stderr), name: "sample"})
	if err != nil {
		return err
	}
	pass, asOf, err := demoAdvocates(ctx, e, cfg, st)
	if err != nil {
		return err
	}
	urgent, err := printDemoSummary(ctx, e.stdout, st, sum, pass)
	if err != nil {
		return err
	}
	if err := printDemoCommands(e.stdout, dbFlag(dbPath), urgent); err != nil {
		return err
	}
	if !*serve {
		return nil
	}
	return serveDemo(ctx, e, cfg, st, *addr, asOf)
}

// demoAdvocates finds the sample's advocates as of the morning after it
// ends (the demo's clock) and offers them prompts through the queue. asOf
// is that morning, zero for an empty database.
func demoAdvocates(ctx context.Context, e *env, cfg *Config, st *store.Store) (pass bot.AdvocatePass, asOf time.Time, err error) {
	latest, err := st.LatestMention(ctx)
	if err != nil || latest.IsZero() {
		// Nothing to score; a database that fails here fails the
		// summary that follows, with its error.
		return pass, asOf, nil
	}
	eng, err := cfg.advocateEngine()
	if err != nil {
		return pass, asOf, err
	}
	asOf = latest.Add(12 * time.Hour)
	adv := bot.NewAdvocates(st, eng, bot.AdvocatesOptions{Logger: e.logger, Now: func() time.Time { return asOf }})
	pass, err = adv.RunOnce(ctx)
	return pass, asOf, err
}

// printDemoSummary writes what the replay stored, the conversations, the
// advocates and the most urgent drafts, which it returns.
func printDemoSummary(ctx context.Context, w io.Writer, st *store.Store, sum ingestSummary, pass bot.AdvocatePass) ([]parley.Draft, error) {
	stats, err := st.Stats(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "This run: %d mentions stored, %d already known (duplicates and earlier runs), %d drafts queued.\n\n",
		sum.stats.Stored, sum.stats.Duplicates, sum.stats.Drafts)
	fmt.Fprintf(w, "In the database now:\n")
	fmt.Fprintf(w, "  mentions   %d\n  people     %d\n  threads    %d\n", stats.Mentions, stats.People, stats.Threads)
	fmt.Fprintf(w, "  sentiment  %s\n", sentimentMix(stats))
	fmt.Fprintf(w, "  drafts     %d waiting for approval, %d approved, %d sent, %d rejected, %d superseded\n",
		stats.Drafts[parley.DraftPending], stats.Drafts[parley.DraftApproved], stats.Drafts[parley.DraftSent],
		stats.Drafts[parley.DraftRejected], stats.Drafts[parley.DraftSuperseded])
	if err := demoConversations(ctx, w, st); err != nil {
		return nil, err
	}
	fmt.Fprintln(w)

	fans, err := st.Advocates(ctx, []string{parley.AdvocateActive}, 10)
	if err != nil {
		return nil, err
	}
	if len(fans) > 0 {
		names := make([]string, len(fans))
		for i, p := range fans {
			names[i] = "@" + p.Handle
		}
		fmt.Fprintf(w, "Advocates (happy, vocal customers): %s\n", strings.Join(names, ", "))
		if n := len(pass.Prompts); n > 0 {
			fmt.Fprintf(w, "  %d invitations to share drafted for them; they wait for approval like replies.\n", n)
		}
		fmt.Fprintln(w)
	}

	urgent, err := st.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}, Limit: 3})
	if err != nil {
		return nil, err
	}
	if len(urgent) > 0 {
		fmt.Fprintln(w, "Most urgent drafts:")
		for _, d := range urgent {
			v, err := loadView(ctx, st, d)
			if err != nil {
				return nil, err
			}
			post := ""
			if v.Mention != nil {
				post = v.Mention.Text
			}
			fmt.Fprintf(w, "  #%d  @%s: %q\n       draft: %q\n", d.ID, v.Person.Handle, textutil.Truncate(textutil.OneLine(post), 70), textutil.Truncate(textutil.OneLine(d.Text), 70))
		}
		fmt.Fprintln(w)
	}
	return urgent, nil
}

// printDemoCommands writes the commands that look closer at the demo
// database (db is its --db flag, if one is needed).
func printDemoCommands(w io.Writer, db string, urgent []parley.Draft) error {
	fmt.Fprintf(w, "Look closer (with 'go run ./cmd/parley' in place of 'parley' if it is not installed):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "  parley conversations list%s\tconversations that need a reply, longest waiting first\n", db)
	fmt.Fprintf(tw, "  parley conversations search \"wheels\"%s\tfind any stored message (words, @handle, #tag)\n", db)
	fmt.Fprintf(tw, "  parley queue list%s\tthe approval queue, most urgent first\n", db)
	if len(urgent) > 0 {
		fmt.Fprintf(tw, "  parley queue show %d%s\ta draft with its person and thread\n", urgent[0].ID, db)
		fmt.Fprintf(tw, "  parley queue approve %d%s\tapprove it ('parley run' posts it)\n", urgent[0].ID, db)
	}
	fmt.Fprintf(tw, "  parley stats --json%s\tthe counts, for scripts\n", db)
	fmt.Fprintf(tw, "  parley advocates list%s\tthe fans, and how their scores were made (explain)\n", db)
	fmt.Fprintf(tw, "  parley digest --week LAST%s\tthe weekly digest for managers\n", db)
	fmt.Fprintf(tw, "  parley rules test --config config.example.yaml \"this deck is sick\"\twhich rules match a message, and why\n")
	fmt.Fprintf(tw, "  echo 'my wheels arrived broken' | parley classify --config config.example.yaml\tthe sentiment of any text, with the brand's words\n")
	return tw.Flush()
}

// serveDemo runs the web inbox and the outbox on the demo database until
// ctx ends; approved drafts go to stand-in platforms that print them.
func serveDemo(ctx context.Context, e *env, cfg *Config, st *store.Store, addr string, asOf time.Time) error {
	if addr == "" {
		addr = e.envAddr()
	}
	if addr != "" {
		cfg.Web.Addr = addr
	}
	// The demo posts (to stand-ins): like run, one at a time per database.
	unlock, err := lockDatabase(st.Path())
	if err != nil {
		return err
	}
	defer unlock()
	password, err := web.EnsureDemoUser(ctx, st, "demo")
	if err != nil {
		return err
	}
	senders := []parley.Sender{
		&demoPlatform{platform: parley.PlatformMastodon, w: e.stdout},
		&demoPlatform{platform: parley.PlatformDiscord, w: e.stdout},
	}
	m := &Main{e: e, cfg: cfg, store: st, where: st.Path(), conns: connectorSet{senders: senders}}
	if !asOf.IsZero() {
		m.advocatesNow = func() time.Time { return asOf }
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nThe web inbox: %s  (log in as demo / %s)\n", m.URL(), password)
	fmt.Fprintf(e.stdout, "Approve a draft there with the keyboard: j/k to move, a to approve, e to edit, r to reject, ? for help.\n")
	fmt.Fprintf(e.stdout, "Press Ctrl-C to stop.\n")
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "\nStopping...")
	return m.Close()
}

// demoPlatform stands in for Mastodon and Discord in the demo: it "posts"
// a draft by printing it, and answers a repeated idempotency key with the
// same post, like the real platforms.
type demoPlatform struct {
	platform string
	mu       sync.Mutex
	w        io.Writer
	posted   map[string]string
}

func (d *demoPlatform) Platform() string { return d.platform }

func (d *demoPlatform) Send(_ context.Context, out parley.Outgoing) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.posted == nil {
		d.posted = map[string]string{}
	}
	key := out.Draft.IdempotencyKey()
	if id, ok := d.posted[key]; ok {
		return id, nil
	}
	id := fmt.Sprintf("demo-%d", out.Draft.ID)
	d.posted[key] = id
	to := "@" + out.To.Handle
	if out.InReplyTo != nil {
		to = "a reply to @" + out.InReplyTo.Author.Handle
	}
	fmt.Fprintf(d.w, "(demo) posted draft %d on %s as %s: %s\n", out.Draft.ID, d.platform, to, textutil.Truncate(textutil.OneLine(out.Draft.Text), 100))
	return id, nil
}

// dbFlag returns " --db PATH" unless path is the default database.
func dbFlag(path string) string {
	if filepath.Clean(path) == filepath.Clean(filepath.Join(DefaultDataDir, "parley.db")) {
		return ""
	}
	return " --db " + path
}

// demoConversations prints the conversations line of the demo's summary:
// every thread is one, with at most one pending reply.
func demoConversations(ctx context.Context, w io.Writer, st *store.Store) error {
	all, err := st.Conversations(ctx, parley.ConversationFilter{View: parley.ViewAll, Limit: 1 << 30})
	if err != nil {
		return err
	}
	needs, undrafted := 0, 0
	now := time.Now()
	for _, c := range all {
		if c.Effective(now) == parley.NeedsReply {
			needs++
			if c.PendingDraftID == 0 {
				undrafted++
			}
		}
	}
	fmt.Fprintf(w, "  conversations %d (one per thread, at most one pending reply each): %d need a reply, %d of them without a draft\n",
		len(all), needs, undrafted)
	fmt.Fprintf(w, "             (drafts a newer message in the same conversation replaced are superseded: kept, never sent)\n")
	return nil
}
