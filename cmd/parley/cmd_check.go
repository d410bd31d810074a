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

func runCheck(_ context.Context, e *env, args []string) error {
	if _, err := e.parse(args); err != nil {
		return err
	}
	cfg, err := e.requireConfig()
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
