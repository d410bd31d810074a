package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

func init() {
	register(&command{
		name:    "check",
		summary: "validate a config file and its rules",
		usage: `parley check --config FILE [--connect]

Reports every problem as FILE:LINE: what is wrong, and exits with status 1 if
there is any: unknown keys, a missing brand name, a rule whose expression or
template is broken, a connector whose token variable is not set.

With --connect it also logs in to each configured platform and reports
what works, posting nothing. Mastodon: the account (verify_credentials),
the post limit, the scopes of the token's application (read and
write:statuses; servers before Mastodon 4.3 do not list them) and the
streaming API (a stream is opened and closed). Discord: the bot user, the
message content intent, the servers the bot is in, and for each configured
channel and the staff channel that the bot sees it and has View Channel,
Read Message History and Send Messages there (and Embed Links in the staff
channel), computed from the server's roles and the channel's overwrites.

Example:
  parley check --config config.example.yaml
  PARLEY_MASTODON_TOKEN=... parley check --config parley.yaml --connect`,
		run: runCheck,
	})
}

func runCheck(ctx context.Context, e *env, args []string) error {
	connect := e.flags().Bool("connect", false, "also log in to each configured platform and report what works (posts nothing)")
	if _, err := e.parse(args); err != nil {
		return err
	}
	cfg, err := loadConfigOrCancel(ctx, e)
	if ctx.Err() != nil {
		return fmt.Errorf("check stopped: %w", ctx.Err())
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Fprintln(e.stdout, p.String())
		}
		return &exitError{code: 1, msg: fmt.Sprintf("%s in %s", plural(len(ce.Problems), "problem", "problems"), e.configPath)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: OK (%d rules, %d Mastodon accounts, Discord %s)\n", e.configPath, cfg.ruleSet().Len(),
		len(cfg.Connectors.Mastodon), map[bool]string{true: "on", false: "off"}[cfg.Connectors.Discord != nil])
	for _, w := range cfg.warnings() {
		fmt.Fprintf(e.stdout, "%s: warning: %s\n", e.configPath, w)
	}
	if *connect {
		return checkConnect(ctx, e, cfg)
	}
	return nil
}

// checkConnect logs in to every configured platform, without posting or
// storing anything, and prints what works; any failure exits 1.
func checkConnect(ctx context.Context, e *env, cfg *Config) error {
	conns, err := buildConnectors(e, cfg, nil)
	if err != nil {
		return err
	}
	if len(conns.sources) == 0 {
		fmt.Fprintln(e.stdout, "no connectors configured: nothing to connect to")
		return nil
	}
	failed := 0
	for _, src := range conns.sources {
		ch, ok := src.source.(interface {
			Check(context.Context) ([]string, error)
		})
		if !ok {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		lines, err := ch.Check(cctx)
		cancel()
		for _, l := range lines {
			fmt.Fprintf(e.stdout, "%s: ok      %s\n", src.name, l)
		}
		if err != nil {
			failed++
			// A joined error holds one problem a line.
			for _, l := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(e.stdout, "%s: FAILED  %s\n", src.name, l)
			}
		}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%s could not connect", plural(failed, "connector", "connectors"))}
	}
	return nil
}

// loadConfigOrCancel loads the config, returning when ctx ends (SIGTERM)
// even while the load runs: loading runs every template on sample data,
// which is bounded (rules.LimitTemplate) but cannot be interrupted, and a
// config may hold many rules. A cancelled load finishes on its goroutine
// within those bounds while the process exits.
func loadConfigOrCancel(ctx context.Context, e *env) (*Config, error) {
	type loaded struct {
		cfg *Config
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		cfg, err := e.requireConfig()
		done <- loaded{cfg, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case l := <-done:
		return l.cfg, l.err
	}
}

// warnings lists what the config allows but should not (plain http://
// server URLs), for check and the log of run.
func (c *Config) warnings() []string {
	var ws []string
	for _, m := range c.Connectors.Mastodon {
		ws = append(ws, m.Warnings()...)
	}
	if d := c.Connectors.Discord; d != nil {
		ws = append(ws, d.Warnings()...)
	}
	return ws
}
