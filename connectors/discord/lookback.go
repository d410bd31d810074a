package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// lookBack is how many of a channel's newest messages a retry reads for a
// message an earlier attempt posted (one page: Discord's largest).
const lookBack = 100

// findOurMessage looks through the newest messages of channelID for one
// an earlier attempt of this draft posted: by the bot, carrying nonce
// (Discord echoes it only for a while) or with the same text answering the
// same message (replyTo; "" for a DM). It returns its id, or "". Discord
// honours a nonce for a few minutes only, so after a crash and a later
// restart the nonce alone would post again. Failures are logged and
// ignored: the nonce still guards the post while it lasts.
func (c *Connector) findOurMessage(ctx context.Context, channelID, text, replyTo, nonce string) string {
	botID, err := c.selfID(ctx)
	if err != nil || botID == "" {
		c.log.Warn("discord: cannot tell our own messages apart; relying on the nonce", "err", err)
		return ""
	}
	endpoint := discordgo.EndpointChannelMessages(channelID) + "?limit=" + strconv.Itoa(lookBack)
	var raw []byte
	err = c.call(ctx, func(opts ...discordgo.RequestOption) error {
		var err error
		raw, err = c.s.RequestWithBucketID(http.MethodGet, endpoint, nil, discordgo.EndpointChannelMessages(channelID), opts...)
		return err
	})
	if err != nil {
		c.log.Warn("discord: cannot read the channel to check for an earlier post; relying on the nonce", "channel_id", channelID, "err", err)
		return ""
	}
	var msgs []discordgo.Message
	var nonces []struct {
		Nonce json.RawMessage `json:"nonce"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil || json.Unmarshal(raw, &nonces) != nil || len(nonces) != len(msgs) {
		c.log.Warn("discord: cannot read the channel's messages; relying on the nonce", "channel_id", channelID, "err", err)
		return ""
	}
	text = strings.TrimSpace(text)
	for i, m := range msgs {
		if m.Author == nil || m.Author.ID != botID {
			continue
		}
		var n string
		if json.Unmarshal(nonces[i].Nonce, &n) == nil && n != "" && n == nonce {
			return m.ID
		}
		ref := ""
		if m.MessageReference != nil {
			ref = m.MessageReference.MessageID
		}
		if ref == replyTo && strings.TrimSpace(m.Content) == text {
			return m.ID
		}
	}
	return ""
}

// selfID returns the bot's user id: from the gateway's READY, else asked
// of the API (a connector that only sends, as the CLI's, never connects).
func (c *Connector) selfID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.botID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	var u *discordgo.User
	err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
		var err error
		u, err = c.s.User("@me", opts...)
		return err
	})
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.botID == "" {
		c.botID = u.ID
	}
	c.mu.Unlock()
	return u.ID, nil
}
