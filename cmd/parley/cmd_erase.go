package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// runPeopleErase erases one person on either store: `parley people erase
// HANDLE --yes [--block]`.
func runPeopleErase(ctx context.Context, e *env, rest []string, platform string, block, yes bool) (retErr error) {
	if len(rest) != 1 || strings.TrimSpace(rest[0]) == "" {
		return fmt.Errorf("%w: people erase takes one handle (or platform id)", errUsage)
	}
	if err := checkPlatform(platform); err != nil {
		return err
	}
	if !yes {
		return fmt.Errorf("%w: erasing %s cannot be undone: add --yes to confirm (export first with 'parley people export %s')",
			errUsage, rest[0], rest[0])
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := e.openAny(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)
	p, err := st.FindPerson(ctx, platform, rest[0])
	if err != nil {
		return err
	}
	res, err := st.ErasePerson(ctx, p.ID, defaultActor(e), block)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(res)
	}
	fmt.Fprintln(e.stdout, res.Detail())
	return nil
}
