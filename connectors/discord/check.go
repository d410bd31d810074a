package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// The permissions Parley needs: in a brand channel it reads the messages
// and answers them; in the staff channel it also posts embeds with buttons.
const (
	channelPerms = discordgo.PermissionViewChannel | discordgo.PermissionReadMessageHistory | discordgo.PermissionSendMessages
	staffPerms   = channelPerms | discordgo.PermissionEmbedLinks
)

var permNames = []struct {
	bit  int64
	name string
}{
	{discordgo.PermissionViewChannel, "View Channel"},
	{discordgo.PermissionSendMessages, "Send Messages"},
	{discordgo.PermissionEmbedLinks, "Embed Links"},
	{discordgo.PermissionReadMessageHistory, "Read Message History"},
}

// Check logs in with the bot token and reports, one line each, what
// works: the bot user, the message content intent (the application's
// flags), the servers the bot is in, and for each configured channel and
// the staff channel that it exists, is visible and grants the bot the
// permissions Parley needs (computed from the server's roles and the
// channel's overwrites). It posts nothing and opens no gateway connection.
// The error lists, one per line, what does not work.
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
	var problems []error
	note := func(line string, err error) {
		if err != nil {
			problems = append(problems, err)
		} else if line != "" {
			lines = append(lines, line)
		}
	}
	note(c.checkIntents(ctx))
	guilds, err := c.myGuilds(ctx)
	if err != nil {
		return lines, errors.Join(append(problems, err)...)
	}
	names := make([]string, 0, len(guilds))
	for _, g := range guilds {
		names = append(names, g.Name)
	}
	if len(guilds) == 0 {
		note("", errors.New("the bot is in no server: invite it (OAuth2 URL generator, scope bot)"))
	} else {
		note(fmt.Sprintf("in %d server(s): %s", len(guilds), strings.Join(names, ", ")), nil)
	}
	pc := permChecker{c: c, me: me.ID, guilds: map[string]*discordgo.Guild{}, members: map[string]*discordgo.Member{}}
	for _, id := range c.cfg.Channels {
		note(pc.check(ctx, id, "channel", channelPerms, guilds))
	}
	if c.cfg.StaffChannel != "" {
		note(pc.check(ctx, c.cfg.StaffChannel, "staff channel", staffPerms, guilds))
	}
	return lines, errors.Join(problems...)
}

// checkIntents reads the application's flags: without the message content
// intent, the bot hears only messages that mention it.
func (c *Connector) checkIntents(ctx context.Context) (string, error) {
	var app struct {
		Name  string `json:"name"`
		Flags int    `json:"flags"`
	}
	err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
		body, err := c.s.RequestWithBucketID("GET", discordgo.EndpointApplication("@me"), nil, discordgo.EndpointApplication(""), opts...)
		if err != nil {
			return err
		}
		return json.Unmarshal(body, &app)
	})
	if err != nil {
		return "", fmt.Errorf("reading the bot's application (/applications/@me): %w", err)
	}
	if app.Flags&(appFlagGatewayMessageContent|appFlagGatewayMessageContentLimited) == 0 {
		return "", errors.New("the message content intent is off: the bot would hear only messages that mention it; " +
			"enable MESSAGE CONTENT INTENT under Bot in the Discord Developer Portal")
	}
	return "message content intent enabled", nil
}

func (c *Connector) myGuilds(ctx context.Context) ([]*discordgo.UserGuild, error) {
	var gs []*discordgo.UserGuild
	err := c.call(ctx, func(opts ...discordgo.RequestOption) (err error) {
		gs, err = c.s.UserGuilds(200, "", "", false, opts...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing the bot's servers: %w", err)
	}
	return gs, nil
}

// permChecker checks channels, reading each server and the bot's member
// record once.
type permChecker struct {
	c       *Connector
	me      string
	guilds  map[string]*discordgo.Guild
	members map[string]*discordgo.Member
}

func (p *permChecker) check(ctx context.Context, id, what string, need int64, in []*discordgo.UserGuild) (string, error) {
	ch, err := p.channel(ctx, id)
	if err != nil {
		return "", fmt.Errorf("%s %s: the bot cannot see it (does it exist, is the bot invited, with View Channel?): %w", what, id, err)
	}
	if !slices.ContainsFunc(in, func(g *discordgo.UserGuild) bool { return g.ID == ch.GuildID }) {
		return "", fmt.Errorf("%s #%s (%s): the bot is not in its server %s", what, ch.Name, id, ch.GuildID)
	}
	g, m, err := p.guild(ctx, ch.GuildID)
	if err != nil {
		return "", fmt.Errorf("%s #%s (%s): reading its server's roles: %w", what, ch.Name, id, err)
	}
	over := ch
	if ch.IsThread() && ch.ParentID != "" {
		if over, err = p.channel(ctx, ch.ParentID); err != nil {
			return "", fmt.Errorf("%s #%s (%s): reading the thread's channel: %w", what, ch.Name, id, err)
		}
	}
	have := channelPermissions(g, over, p.me, m.Roles)
	if missing := permList(need &^ have); missing != "" {
		return "", fmt.Errorf("%s #%s (%s): the bot lacks %s there (give its role these permissions, or allow them in the channel's overwrites)",
			what, ch.Name, id, missing)
	}
	return fmt.Sprintf("%s #%s (%s) readable, with %s", what, ch.Name, id, permList(need)), nil
}

func (p *permChecker) channel(ctx context.Context, id string) (*discordgo.Channel, error) {
	var ch *discordgo.Channel
	err := p.c.call(ctx, func(opts ...discordgo.RequestOption) (err error) {
		ch, err = p.c.s.Channel(id, opts...)
		return err
	})
	return ch, err
}

func (p *permChecker) guild(ctx context.Context, id string) (*discordgo.Guild, *discordgo.Member, error) {
	if g, ok := p.guilds[id]; ok {
		return g, p.members[id], nil
	}
	var g *discordgo.Guild
	var m *discordgo.Member
	err := p.c.call(ctx, func(opts ...discordgo.RequestOption) (err error) {
		if g, err = p.c.s.Guild(id, opts...); err != nil {
			return err
		}
		m, err = p.c.s.GuildMember(id, p.me, opts...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	p.guilds[id], p.members[id] = g, m
	return g, m, nil
}

// channelPermissions computes a member's permissions in a channel as
// Discord does: the server owner and Administrator have all; else the
// @everyone role and the member's roles, then the channel's @everyone
// overwrite, its role overwrites (denies, then allows) and the member's
// own overwrite.
func channelPermissions(g *discordgo.Guild, ch *discordgo.Channel, userID string, roles []string) int64 {
	if g.OwnerID == userID {
		return discordgo.PermissionAll
	}
	var perms int64
	for _, r := range g.Roles {
		if r.ID == g.ID || slices.Contains(roles, r.ID) {
			perms |= r.Permissions
		}
	}
	if perms&discordgo.PermissionAdministrator != 0 {
		return discordgo.PermissionAll
	}
	var allow, deny int64
	var everyone, member *discordgo.PermissionOverwrite
	for _, o := range ch.PermissionOverwrites {
		switch {
		case o.ID == g.ID:
			everyone = o
		case o.Type == discordgo.PermissionOverwriteTypeRole && slices.Contains(roles, o.ID):
			allow, deny = allow|o.Allow, deny|o.Deny
		case o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == userID:
			member = o
		}
	}
	if everyone != nil {
		perms = perms&^everyone.Deny | everyone.Allow
	}
	perms = perms&^deny | allow
	if member != nil {
		perms = perms&^member.Deny | member.Allow
	}
	return perms
}

// permList names the permissions of bits Parley checks, "" for none.
func permList(bits int64) string {
	var names []string
	for _, p := range permNames {
		if bits&p.bit != 0 {
			names = append(names, p.name)
		}
	}
	return strings.Join(names, ", ")
}
