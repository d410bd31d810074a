package mastodon

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// NeededScopes are the OAuth scopes Parley uses: reading the account,
// notifications, statuses and search, and posting replies and direct
// messages. "read" and "write" cover their sub-scopes.
var NeededScopes = []string{"read:accounts", "read:notifications", "read:statuses", "read:search", "write:statuses"}

// Check logs in and reports, one line each, what works: the account the
// token belongs to (verify_credentials), the server's limits, the scopes
// of the token's application (/api/v1/apps/verify_credentials) and whether
// the streaming API answers (a stream is opened and closed at once). It
// posts nothing and stores nothing. The error lists, one per line, what
// does not work; the lines say what did.
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
	var problems []error
	if line, err := c.checkScopes(ctx); err != nil {
		problems = append(problems, err)
	} else {
		lines = append(lines, line)
	}
	if line, err := c.checkStream(ctx); err != nil {
		problems = append(problems, err)
	} else {
		lines = append(lines, line)
	}
	return lines, errors.Join(problems...)
}

// checkScopes reads the scopes of the token's application. Servers before
// Mastodon 4.3 do not say; that is reported, not failed.
func (c *Connector) checkScopes(ctx context.Context) (string, error) {
	var app struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := c.api.getJSON(ctx, "/api/v1/apps/verify_credentials", nil, &app); err != nil {
		return "", fmt.Errorf("reading the token's application (/api/v1/apps/verify_credentials): %w", err)
	}
	if app.Scopes == nil {
		return fmt.Sprintf("application %q: the server does not list its scopes (Mastodon before 4.3); Parley needs %s",
			app.Name, strings.Join(NeededScopes, " ")), nil
	}
	if missing := MissingScopes(app.Scopes, NeededScopes); len(missing) > 0 {
		return "", fmt.Errorf("application %q has scopes %q but lacks %s: log in again with 'parley mastodon login' (it asks for %q)",
			app.Name, strings.Join(app.Scopes, " "), strings.Join(missing, ", "), LoginScopes)
	}
	return fmt.Sprintf("application %q has the scopes Parley needs (%s)", app.Name, strings.Join(app.Scopes, " ")), nil
}

// MissingScopes returns the scopes of need that have does not grant; a
// top-level scope ("read") grants its sub-scopes ("read:statuses").
func MissingScopes(have, need []string) []string {
	granted := map[string]bool{}
	for _, s := range have {
		granted[s] = true
	}
	var missing []string
	for _, s := range need {
		top, _, _ := strings.Cut(s, ":")
		if !granted[s] && !granted[top] {
			missing = append(missing, s)
		}
	}
	return missing
}

// checkStream opens the user stream and closes it at once.
func (c *Connector) checkStream(ctx context.Context) (string, error) {
	conn, err := c.dialStream(ctx, "check", url.Values{"stream": {"user"}})
	if err != nil {
		return "", fmt.Errorf("streaming: %w (Parley would poll every %s instead)", err, c.pollInterval)
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = conn.Close() // a probe: nothing was read
	where := c.server.Host
	if inst, _ := c.instance(ctx); inst.StreamingURL != "" {
		where = inst.StreamingURL
	}
	return fmt.Sprintf("streaming reachable at %s (opened and closed)", where), nil
}
