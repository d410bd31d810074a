package discord

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"
)

// Check logs in with the bot token and reports, one line each, what works:
// the bot user, and each configured channel (and the staff channel) the
// bot can read. It posts nothing and opens no gateway connection. An error
// means the token or a channel does not work; the lines say what did.
func (c *Connector) Check(ctx context.Context) ([]string, error) {
	var lines []string
	var me *discordgo.User
	err := c.call(ctx, func(opts ...discordgo.RequestOption) (err error) {
		me, err = c.s.User("@me", opts...)
		return err
	})
	if err != nil {
		return lines, fmt.Errorf("logging in with the bot token: %w", err)
	}
	lines = append(lines, fmt.Sprintf("logged in as bot %s (id %s)", me.Username, me.ID))
	ids := append([]string{}, c.cfg.Channels...)
	if c.cfg.StaffChannel != "" {
		ids = append(ids, c.cfg.StaffChannel)
	}
	for _, id := range ids {
		var ch *discordgo.Channel
		err := c.call(ctx, func(opts ...discordgo.RequestOption) (err error) {
			ch, err = c.s.Channel(id, opts...)
			return err
		})
		if err != nil {
			return lines, fmt.Errorf("channel %s: the bot cannot see it (is it invited, with View Channels?): %w", id, err)
		}
		what := "channel"
		if id == c.cfg.StaffChannel {
			what = "staff channel"
		}
		lines = append(lines, fmt.Sprintf("%s #%s (%s) readable", what, ch.Name, id))
	}
	return lines, nil
}
