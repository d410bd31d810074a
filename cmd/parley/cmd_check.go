package main

import (
	"context"
	"errors"
	"fmt"
)

func init() {
	register(&command{
		name:    "check",
		summary: "validate a config file and its rules",
		usage: `parley check --config FILE

Reports every problem as FILE:LINE: what is wrong, and exits with status 1 if
there is any: unknown keys, a missing brand name, a rule whose expression or
template is broken, a connector whose token variable is not set.

Example:
  parley check --config config.example.yaml`,
		run: runCheck,
	})
}

func runCheck(ctx context.Context, e *env, args []string) error {
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
