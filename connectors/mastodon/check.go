package mastodon

import (
	"context"
	"fmt"
)

// Check logs in and reports, one line each, what works: the account the
// token belongs to (verify_credentials) and the server's limits and
// streaming address. It posts nothing and stores nothing. An error means
// the token or the server does not work; the lines say what did.
func (c *Connector) Check(ctx context.Context) ([]string, error) {
	var lines []string
	acc, err := c.account(ctx)
	if err != nil {
		return lines, err
	}
	lines = append(lines, fmt.Sprintf("logged in as @%s (%s)", acc.Acct, acc.DisplayName))
	inst, err := c.instance(ctx)
	if err != nil {
		return lines, fmt.Errorf("reading the server's instance information: %w", err)
	}
	lines = append(lines, fmt.Sprintf("server %s: posts up to %d characters", inst.Domain, inst.MaxChars))
	if inst.StreamingURL != "" {
		lines = append(lines, "streaming at "+inst.StreamingURL)
	} else {
		lines = append(lines, "streaming: the server names no streaming address; Parley streams from the server's own address")
	}
	return lines, nil
}
