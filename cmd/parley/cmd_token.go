package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

func init() {
	register(&command{
		name:    "token",
		summary: "manage REST API tokens: add, list, revoke",
		usage: `parley token add NAME --role agent|manager|admin
parley token list [--json]
parley token revoke NAME

A token lets a program use the REST API (/api/v1, docs/api.md) with the
powers of its role; what it changes is in the activity log as token:NAME.
add prints the token once: Parley keeps only its SHA-256. revoke stops it
at once. Admins manage the same tokens on the web inbox's /tokens page.

Example:
  parley token add crm-sync --role agent
  curl -H "Authorization: Bearer pk_..." http://127.0.0.1:8080/api/v1/stats`,
		run: runToken,
	})
}

func runToken(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	role := fs.String("role", "", "the new token's role: agent, manager or admin (add)")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: want add, list or revoke", errUsage)
	}
	sub, rest := rest[0], rest[1:]
	var r parley.Role
	switch sub {
	case "list":
		if len(rest) != 0 {
			return fmt.Errorf("%w: list takes no arguments", errUsage)
		}
	case "add", "revoke":
		if len(rest) != 1 {
			return fmt.Errorf("%w: %s takes one token name", errUsage, sub)
		}
		if err := parley.CheckUserName(rest[0]); err != nil {
			return fmt.Errorf("%w: token name: %v", errUsage, err)
		}
		if sub == "add" {
			if *role == "" {
				return fmt.Errorf("%w: add needs --role agent, manager or admin", errUsage)
			}
			if r, err = parley.ParseRole(*role); err != nil {
				return fmt.Errorf("%w: --role: %v", errUsage, err)
			}
		}
	default:
		return fmt.Errorf("%w: unknown subcommand %q: want add, list or revoke", errUsage, sub)
	}

	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := e.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)

	actor := defaultActor(e)
	switch sub {
	case "list":
		return tokenList(ctx, e, st)
	case "add":
		secret, _, err := web.AddToken(ctx, st, rest[0], r, actor)
		if err != nil {
			return err
		}
		userAudit(ctx, e, st, actor, "token_add", fmt.Sprintf("%s as %s (parley token)", rest[0], r))
		fmt.Fprintf(e.stdout, "token %s added as %s\ntoken: %s\n", rest[0], r, secret)
		fmt.Fprintln(e.stderr, "(shown once: Parley keeps only a hash of it; send it as 'Authorization: Bearer TOKEN')")
	case "revoke":
		if err := st.RevokeToken(ctx, rest[0]); err != nil {
			return err
		}
		userAudit(ctx, e, st, actor, "token_revoke", rest[0]+" (parley token)")
		fmt.Fprintf(e.stdout, "token %s revoked; it no longer works\n", rest[0])
	}
	return nil
}

func tokenList(ctx context.Context, e *env, st cliStore) error {
	tokens, err := st.Tokens(ctx)
	if err != nil {
		return err
	}
	if e.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tokens)
	}
	if len(tokens) == 0 {
		fmt.Fprintln(e.stdout, "no API tokens yet; add one with 'parley token add NAME --role agent'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tLAST USED")
	for _, t := range tokens {
		last := "never"
		if !t.LastUsedAt.IsZero() {
			last = t.LastUsedAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Local().Format("2006-01-02"), last)
	}
	return tw.Flush()
}
