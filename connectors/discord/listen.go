package discord

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/parleybot/parley"
)

// CursorKey is the store cursor key holding the last message id handled in
// a configured channel.
func CursorKey(channelID string) string { return "discord:channel:" + channelID }

const historyPage = 100

// discordEpoch is the first millisecond of 2015, where snowflakes start.
const discordEpoch = 1420070400000

// snowflakeAt returns the smallest snowflake of time t (for history paging
// from a moment rather than a message).
func snowflakeAt(t time.Time) string {
	ms := t.UnixMilli() - discordEpoch
	if ms < 0 {
		ms = 0
	}
	return strconv.FormatUint(uint64(ms)<<22, 10) //nolint:gosec // G115: ms >= 0 here
}

// idLess orders snowflakes numerically.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// cursor returns the last message id handled in a configured channel,
// loading it from the store the first time; a channel never seen starts at
// the moment Run started.
func (c *Connector) cursor(ctx context.Context, channelID string, start time.Time) (string, error) {
	c.mu.Lock()
	cur, ok := c.cursors[channelID]
	c.mu.Unlock()
	if ok {
		return cur, nil
	}
	v, err := c.store.Cursor(ctx, CursorKey(channelID))
	if err != nil {
		return "", fmt.Errorf("discord: reading cursor of channel %s: %w", channelID, err)
	}
	if v == "" {
		v = snowflakeAt(start)
		c.log.Info("no cursor for channel yet; starting from now", "channel_id", channelID)
	}
	c.mu.Lock()
	if cur, ok := c.cursors[channelID]; ok { // set meanwhile
		v = cur
	} else {
		c.cursors[channelID] = v
	}
	c.mu.Unlock()
	return v, nil
}

// advance moves a channel's cursor forward (never back) in memory.
func (c *Connector) advance(channelID, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.cursors[channelID]; !ok || idLess(cur, id) {
		c.cursors[channelID] = id
		c.dirty[channelID] = true
	}
}

// saveCursor writes a channel's cursor if it moved, through sink, so that
// it is saved only once the mentions handed to sink before are stored.
func (c *Connector) saveCursor(ctx context.Context, sink parley.Sink, channelID string) error {
	c.mu.Lock()
	v, dirty := c.cursors[channelID], c.dirty[channelID]
	c.mu.Unlock()
	if !dirty {
		return nil
	}
	if err := parley.SaveCursor(ctx, sink, c.store, CursorKey(channelID), v); err != nil {
		return fmt.Errorf("discord: saving cursor of channel %s: %w", channelID, err)
	}
	c.mu.Lock()
	if c.cursors[channelID] == v {
		delete(c.dirty, channelID)
	}
	c.mu.Unlock()
	return nil
}

func (c *Connector) flushCursors(ctx context.Context, sink parley.Sink) {
	c.mu.Lock()
	var chs []string
	for ch := range c.dirty {
		chs = append(chs, ch)
	}
	c.mu.Unlock()
	for _, ch := range chs {
		if err := c.saveCursor(ctx, sink, ch); err != nil {
			c.log.Error("saving cursor at shutdown", "channel_id", ch, "err", err)
		}
	}
}

// catchUp reads, oldest first, what each configured channel received after
// its cursor and hands the mentions to sink. A channel whose history cannot
// be read is logged and skipped; only a sink or store failure is returned.
func (c *Connector) catchUp(ctx context.Context, sink parley.Sink) error {
	for _, ch := range c.cfg.Channels {
		n := 0
		for {
			cur, err := c.cursor(ctx, ch, c.start)
			if err != nil {
				return err
			}
			var page []*discordgo.Message
			err = c.call(ctx, func(opts ...discordgo.RequestOption) error {
				var err error
				page, err = c.s.ChannelMessages(ch, historyPage, "", cur, "", opts...)
				return err
			})
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.log.Warn("catch-up: cannot read channel history (does the bot have Read Message History there?)", "channel_id", ch, "err", err)
				break
			}
			slices.SortFunc(page, func(a, b *discordgo.Message) int {
				if a.ID == b.ID {
					return 0
				}
				if idLess(a.ID, b.ID) {
					return -1
				}
				return 1
			})
			for _, m := range page {
				if m.ChannelID == "" {
					m.ChannelID = ch
				}
				if err := c.handle(ctx, sink, m, true); err != nil {
					return err
				}
				n++
			}
			if err := c.saveCursor(ctx, sink, ch); err != nil {
				return err
			}
			if len(page) < historyPage {
				break
			}
		}
		if n > 0 {
			c.log.Info("caught up on channel", "channel_id", ch, "messages", n)
		}
	}
	return nil
}

// handle decides whether m is a mention and delivers it. A message at or
// before its channel's cursor was handled already and is skipped. The
// cursor advances only after sink.Submit returned nil.
func (c *Connector) handle(ctx context.Context, sink parley.Sink, m *discordgo.Message, fromHistory bool) error {
	if m.ID == "" || m.ChannelID == "" {
		return nil
	}
	tracked := c.channels[m.ChannelID]
	if tracked {
		cur, err := c.cursor(ctx, m.ChannelID, c.start)
		if err != nil {
			return err
		}
		if !idLess(cur, m.ID) {
			return nil // handled already (live, or an earlier catch-up)
		}
	}
	mention, ok := c.classify(ctx, m, fromHistory)
	if ok && !c.seenID(m.ID) {
		if err := sink.Submit(ctx, mention); err != nil {
			return err
		}
		c.markSeen(m.ID)
		c.log.Debug("mention delivered", "message_id", m.ID, "channel_id", m.ChannelID, "direct", mention.Direct, "catch_up", fromHistory)
	}
	if tracked {
		c.advance(m.ChannelID, m.ID)
		if ok {
			if err := c.saveCursor(ctx, sink, m.ChannelID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Connector) seenID(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen.has(id)
}

func (c *Connector) markSeen(id string) {
	c.mu.Lock()
	c.seen.add(id)
	c.mu.Unlock()
}

// classify returns the mention for m when it concerns the brand: a DM, a
// message mentioning the bot or one of its roles, or a keyword in a watched
// channel (or a thread of one).
func (c *Connector) classify(ctx context.Context, m *discordgo.Message, fromHistory bool) (parley.Mention, bool) {
	c.mu.Lock()
	botID := c.botID
	c.mu.Unlock()
	if m.Author == nil || m.Author.ID == botID || m.Author.Bot || m.WebhookID != "" {
		return parley.Mention{}, false
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return parley.Mention{}, false
	}
	var info chanInfo
	direct := false
	if fromHistory || m.GuildID != "" {
		info = c.channelInfo(ctx, m.ChannelID)
		if m.GuildID == "" {
			m.GuildID = info.guildID
		}
		if m.GuildID == "" && (info.typ == discordgo.ChannelTypeDM || info.typ == discordgo.ChannelTypeGroupDM) {
			direct = true
		}
	} else {
		direct = true // the gateway sends guild_id with every guild message
	}
	if !direct && len(c.guilds) > 0 && !c.guilds[m.GuildID] {
		return parley.Mention{}, false
	}
	text := c.text(m)
	watched := c.channels[m.ChannelID] || (info.isThread() && c.channels[info.parentID])
	if !direct && !c.mentionsBot(m, botID) && !(watched && c.hasKeyword(text)) {
		return parley.Mention{}, false
	}
	return c.toMention(m, info, text, direct), true
}

func (c *Connector) mentionsBot(m *discordgo.Message, botID string) bool {
	if botID == "" {
		return false
	}
	for _, u := range m.Mentions {
		if u != nil && u.ID == botID {
			return true
		}
	}
	if strings.Contains(m.Content, "<@"+botID+">") || strings.Contains(m.Content, "<@!"+botID+">") {
		return true
	}
	c.mu.Lock()
	roles := c.botRoles[m.GuildID]
	c.mu.Unlock()
	for _, r := range m.MentionRoles {
		if roles[r] {
			return true
		}
	}
	return false
}

// hasKeyword reports whether text contains a configured keyword as a whole
// word (case-insensitive).
func (c *Connector) hasKeyword(text string) bool {
	if len(c.keywords) == 0 {
		return false
	}
	lower := strings.ToLower(text)
	for _, k := range c.keywords {
		for from := 0; from < len(lower); {
			i := strings.Index(lower[from:], k)
			if i < 0 {
				break
			}
			i += from
			end := i + len(k)
			if (i == 0 || !isWordByte(lower[i-1])) && (end == len(lower) || !isWordByte(lower[end])) {
				return true
			}
			from = i + 1
		}
	}
	return false
}

// channelInfo returns what is known of a channel: from GUILD_CREATE and
// THREAD_CREATE events, else from GET /channels/{id} (cached).
func (c *Connector) channelInfo(ctx context.Context, id string) chanInfo {
	c.mu.Lock()
	info, ok := c.chans[id]
	c.mu.Unlock()
	if ok {
		return info
	}
	var ch *discordgo.Channel
	err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
		var err error
		ch, err = c.s.Channel(id, opts...)
		return err
	})
	if err != nil || ch == nil {
		c.log.Debug("cannot look up channel", "channel_id", id, "err", err)
		return chanInfo{}
	}
	c.rememberChannel(ch)
	return chanInfo{guildID: ch.GuildID, parentID: ch.ParentID, name: ch.Name, typ: ch.Type}
}

// text renders a message's content as readable text.
func (c *Connector) text(m *discordgo.Message) string {
	t := ResolveMentions(MarkdownToText(m.Content), func(kind, id string) string {
		switch kind {
		case MentionUser:
			for _, u := range m.Mentions {
				if u != nil && u.ID == id {
					return userName(u)
				}
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if id == c.botID {
				return c.botName
			}
		case MentionRole:
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.roleNames[id]
		case MentionChannel:
			for _, ch := range m.MentionChannels {
				if ch != nil && ch.ID == id {
					return ch.Name
				}
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.chans[id].name
		}
		return ""
	})
	if strings.TrimSpace(t) == "" {
		var names []string
		for _, a := range m.Attachments {
			if a != nil {
				names = append(names, "[attachment: "+a.Filename+"]")
			}
		}
		t = strings.Join(names, " ")
	}
	return t
}

func userName(u *discordgo.User) string {
	if u.GlobalName != "" {
		return u.GlobalName
	}
	return u.Username
}

// toMention translates a Discord message at the edge. Channel is
// "guildID/channelID" ("@me/channelID" for DMs), the channel being the
// thread when the message is in one; ThreadKey is the thread's id.
func (c *Connector) toMention(m *discordgo.Message, info chanInfo, text string, direct bool) parley.Mention {
	guild := m.GuildID
	if direct || guild == "" {
		guild = "@me"
	}
	author := parley.Person{
		Platform:   parley.PlatformDiscord,
		ExternalID: m.Author.ID,
		Handle:     m.Author.Username,
		Name:       m.Author.GlobalName,
	}
	if m.Author.Discriminator != "" && m.Author.Discriminator != "0" {
		author.Handle = m.Author.Username + "#" + m.Author.Discriminator
	}
	if m.Member != nil && m.Member.Nick != "" {
		author.Name = m.Member.Nick
	}
	mention := parley.Mention{
		Platform:   parley.PlatformDiscord,
		ExternalID: m.ID,
		Author:     author,
		Text:       text,
		CreatedAt:  m.Timestamp,
		Channel:    guild + "/" + m.ChannelID,
		URL:        "https://discord.com/channels/" + guild + "/" + m.ChannelID + "/" + m.ID,
		Direct:     direct,
		Visibility: "public",
	}
	if direct {
		mention.Visibility = "direct"
	}
	if m.MessageReference != nil && m.MessageReference.MessageID != "" && m.Type == discordgo.MessageTypeReply {
		mention.InReplyTo = m.MessageReference.MessageID
	}
	if info.isThread() {
		mention.ThreadKey = m.ChannelID
	}
	if mention.CreatedAt.IsZero() {
		mention.CreatedAt = c.opt.now()
	}
	return mention
}
