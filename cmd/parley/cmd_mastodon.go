package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleybot/parley/connectors/mastodon"
)

func init() {
	register(&command{
		name:    "mastodon",
		summary: "connect a Mastodon account: create an app and an access token",
		usage: `parley mastodon login --server URL

Registers Parley as an app on the server, prints a link to authorize it
with the bot account, reads the code the server shows you, and prints the
token to put in the environment (PARLEY_MASTODON_TOKEN) with the config
lines to add. Works with Mastodon, GoToSocial and Akkoma (authorization
code flow; the password grant is not used).

Example:
  parley mastodon login --server https://mastodon.social`,
		run: runMastodon,
	})
}

func runMastodon(ctx context.Context, e *env, args []string) error {
	server := e.flags().String("server", "", "the server's URL, e.g. https://mastodon.social")
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || rest[0] != "login" {
		return fmt.Errorf("%w: want 'parley mastodon login --server URL'", errUsage)
	}
	if strings.TrimSpace(*server) == "" {
		return fmt.Errorf("%w: --server URL is required", errUsage)
	}
	_, err = mastodon.Login(ctx, *server, e.stdin, e.stdout, nil)
	return err
}
