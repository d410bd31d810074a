package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
	"github.com/parleybot/parley/web"
)

func init() {
	register(&command{
		name:    "status",
		summary: "show each connector's state, the outbox and the digest schedule",
		usage: `parley status [--config FILE] [--addr HOST:PORT | --url URL] [--offline] [--json]

Asks the running 'parley run' for its status page (GET /status.json, with
the bearer token named by web.metrics_token_env): each connector's state
(connected, streaming or polling, last mention heard, last error, rate
limit, cursors), the outbox (approved, sending, failed drafts with their
errors) and the digest schedule (next run, last delivery per target).

When no parley answers at the address (or it refuses the token), or with
--offline, it reads what the database holds instead: the cursors, the
outbox and the digest deliveries; the connectors' live state is then
unknown. The first line says which. On PostgreSQL, with several 'parley
run' sharing the database, it names the node that answered, says which
node runs each connector (standby on the others) and lists the leases:
who holds each connector account and the digest schedule, until when. The web inbox shows the same page to
admins at /status, with a button to retry a failed draft.

Example:
  parley status --config parley.yaml
  parley status --db /var/lib/parley/parley.db --offline --json`,
		run: runStatus,
	})
}

func runStatus(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	addr := fs.String("addr", "", "where parley run listens (default PARLEY_ADDR, the config's web.addr, else "+web.DefaultAddr+")")
	rawURL := fs.String("url", "", "the full /status.json URL, e.g. https://parley.example.com/status.json")
	offline := fs.Bool("offline", false, "read the database only; do not ask a running parley")
	timeout := fs.Duration("timeout", 5*time.Second, "give up on the running parley after this long")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	var st parley.Status
	var from string
	if !*offline {
		u := statusURL(e, cfg, *addr, *rawURL)
		var why string
		st, why = fetchStatus(ctx, e, cfg, u, *timeout)
		if why == "" {
			from = "live from " + u
		} else {
			from = why + ": read from the database"
		}
	}
	if *offline || !st.Live {
		store, err := e.openExistingStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer joinErr(&retErr, store.Close)
		r := &statusReader{st: store}
		if cfg != nil {
			r.conns, r.digest, r.next = configuredConnectors(cfg), cfg.Digest, digestNext(store, cfg.Digest)
		}
		if st, err = r.read(ctx); err != nil {
			return err
		}
		if from == "" {
			from = "read from the database"
		}
		from += " " + store.Where() + " (connectors' live state unknown)"
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(st)
	}
	printStatus(e.stdout, st, from)
	return nil
}

func statusURL(e *env, cfg *Config, addr, rawURL string) string {
	if rawURL != "" {
		return rawURL
	}
	if addr == "" {
		addr = e.envAddr()
	}
	if addr == "" && cfg != nil {
		addr = cfg.Web.Addr
	}
	if addr == "" {
		addr = web.DefaultAddr
	}
	return "http://" + probeAddr(addr) + "/status.json"
}

// fetchStatus asks a running parley; why says, when it did not answer
// with a status, what happened.
func fetchStatus(ctx context.Context, e *env, cfg *Config, u string, timeout time.Duration) (parley.Status, string) {
	var st parley.Status
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return st, fmt.Sprintf("%s is not a URL (%v)", u, err)
	}
	req.Header.Set("Accept", "application/json")
	if cfg != nil {
		tok, err := cfg.Web.MetricsToken(e.getenv)
		if err != nil {
			return st, err.Error()
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, "no parley answers at " + u
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return st, "the parley at " + u + " wants its token (set web.metrics_token_env in the config and the variable it names)"
	case resp.StatusCode != http.StatusOK:
		return st, fmt.Sprintf("%s answered %s", u, resp.Status)
	case err != nil:
		return st, fmt.Sprintf("reading %s: %v", u, err)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return parley.Status{}, fmt.Sprintf("%s did not answer a status (%v)", u, errors.Unwrap(err))
	}
	return st, ""
}

// configuredConnectors names the config's connectors as 'parley run' does,
// without building them (no token needed).
func configuredConnectors(cfg *Config) []namedSource {
	var out []namedSource
	for _, mc := range cfg.Connectors.Mastodon {
		out = append(out, namedSource{name: "mastodon:" + mc.String(), prefix: mastodonCursorPrefix(mc)})
	}
	if cfg.Connectors.Discord != nil {
		out = append(out, namedSource{name: "discord", prefix: "discord:"})
	}
	return out
}

func printStatus(w io.Writer, st parley.Status, from string) {
	fmt.Fprintf(w, "status %s, at %s\n", from, st.At.Local().Format("2006-01-02 15:04:05"))
	if st.Node != "" {
		fmt.Fprintf(w, "node %s (one of several sharing the database)\n", st.Node)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "connectors")
	if len(st.Connectors) == 0 {
		fmt.Fprintln(w, "  none configured")
	}
	for _, c := range st.Connectors {
		printConnector(w, c, st.At)
	}
	for _, c := range st.Cursors {
		fmt.Fprintf(w, "  cursor %s = %s (saved %s)\n", c.Key, c.Value, stamp(c.UpdatedAt))
	}
	o := st.Outbox
	fmt.Fprintf(w, "\noutbox: %d approved (%d retrying), %d sending, %d failed\n", o.Approved, o.Retrying, o.Sending, o.Failed)
	for _, d := range o.Failing {
		what := "failed"
		if d.State == parley.DraftApproved {
			what = "retrying"
		}
		fmt.Fprintf(w, "  draft %d (%s) %s after %s: %s\n", d.ID, d.Platform, what, plural(d.Attempts, "attempt", "attempts"), textutil.OneLine(d.LastError))
	}
	if len(o.Failing) > 0 {
		fmt.Fprintln(w, "  retry one from the web inbox's Status page (admins), or reject it with 'parley queue reject ID'")
	}
	dg := st.Digest
	fmt.Fprintf(w, "\ndigest: schedule %q (%s)", dg.Schedule, dg.TimeZone)
	if !dg.NextRun.IsZero() {
		fmt.Fprintf(w, ", next run %s", stamp(dg.NextRun))
	}
	fmt.Fprintln(w)
	if len(dg.LastDeliveries) == 0 {
		fmt.Fprintln(w, "  no delivery yet")
	}
	for _, d := range dg.LastDeliveries {
		outcome := "delivered"
		if !d.OK {
			outcome = "FAILED: " + textutil.OneLine(d.Error)
		}
		fmt.Fprintf(w, "  %s: %s %s %s\n", d.Target, d.Week, outcome, stamp(d.At))
	}
	printLeases(w, st)
}

// printLeases says which node holds what, marking this node's.
func printLeases(w io.Writer, st parley.Status) {
	if len(st.Leases) == 0 {
		return
	}
	fmt.Fprintln(w, "\nleases (which node runs what)")
	for _, l := range st.Leases {
		this := ""
		if st.Node != "" && l.Holder == st.Node {
			this = " (this node)"
		}
		switch {
		case l.Until.IsZero():
			fmt.Fprintf(w, "  %s: free, released by %s\n", l.Name, l.Holder)
		case l.Until.Before(st.At):
			fmt.Fprintf(w, "  %s: free, expired %s (last held by %s)\n", l.Name, stamp(l.Until), l.Holder)
		default:
			fmt.Fprintf(w, "  %s: held by %s%s until %s\n", l.Name, l.Holder, this, stamp(l.Until))
		}
	}
}

func printConnector(w io.Writer, c parley.ConnectorStatus, now time.Time) {
	state := c.State
	switch c.State {
	case web.ConnectorRunning:
		state += map[bool]string{true: ", connected", false: ", not connected"}[c.Connected]
	case web.ConnectorStandby:
		if c.Holder != "" {
			state += ", " + c.Holder + " runs it"
		} else {
			state += ", waiting for its lease"
		}
		fmt.Fprintf(w, "  %s: %s\n", c.Name, state)
		return
	}
	if c.Mode != "" {
		state += ", " + c.Mode
	}
	if c.Detail != "" {
		state += " (" + c.Detail + ")"
	}
	fmt.Fprintf(w, "  %s: %s\n", c.Name, state)
	var facts []string
	if st := c.State; st == web.ConnectorRunning || st == web.ConnectorStopped {
		last := "none since the start"
		if !c.LastMention.IsZero() {
			last = stamp(c.LastMention)
		}
		facts = append(facts, "last mention "+last)
	}
	if rl := c.RateLimit; rl.Remaining >= 0 {
		f := fmt.Sprintf("rate limit %d of %d left", rl.Remaining, rl.Limit)
		if !rl.Reset.IsZero() {
			f += ", resets " + stamp(rl.Reset)
		}
		facts = append(facts, f)
	}
	if rl := c.RateLimit; rl.HeldUntil.After(now) {
		facts = append(facts, "held by the platform until "+stamp(rl.HeldUntil))
	}
	if c.LastError != "" {
		facts = append(facts, "last error "+stamp(c.LastErrorAt)+": "+textutil.OneLine(c.LastError))
	}
	if len(facts) > 0 {
		fmt.Fprintf(w, "    %s\n", strings.Join(facts, "; "))
	}
	for _, cur := range c.Cursors {
		fmt.Fprintf(w, "    cursor %s = %s (saved %s)\n", cur.Key, cur.Value, stamp(cur.UpdatedAt))
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
