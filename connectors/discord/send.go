package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/parleybot/parley"
)

// MaxMessageLen is the longest message content Discord accepts.
const MaxMessageLen = 2000

// maxNonceLen is the longest nonce Discord accepts.
const maxNonceLen = 25

// Nonce returns the nonce sent with every attempt to post d: the draft's
// IdempotencyKey ("parley-draft-<id>", at most 25 characters for ids below
// 10^9), or, for longer keys, "p" followed by the first 24 hex digits of
// the key's SHA-256. Discord returns the message already created when a
// message with the same nonce and enforce_nonce arrives from the bot within
// a few minutes, so a retry soon after never posts twice; a later retry
// first looks for the message in the channel (see Send).
func Nonce(d parley.Draft) string {
	return nonceFor(d.IdempotencyKey())
}

func nonceFor(key string) string {
	if len(key) <= maxNonceLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "p" + hex.EncodeToString(sum[:])[:maxNonceLen-1]
}

// messageSend is discordgo's MessageSend plus the fields discordgo v0.29
// lacks.
type messageSend struct {
	*discordgo.MessageSend
	Nonce        string `json:"nonce,omitempty"`
	EnforceNonce bool   `json:"enforce_nonce,omitempty"`
}

// MaxTextLength implements parley.TextLimiter: Discord's message limit.
func (c *Connector) MaxTextLength() int { return MaxMessageLen }

// CheckDraft returns an EINVALID error when Discord would refuse d's text
// (empty, or longer than 2000 characters), else nil.
func (c *Connector) CheckDraft(_ context.Context, d parley.Draft) error {
	text := strings.TrimSpace(d.Text)
	if text == "" {
		return parley.Errorf(parley.EINVALID, "draft %d: empty text", d.ID)
	}
	if n := utf8.RuneCountInString(text); n > MaxMessageLen {
		return parley.Errorf(parley.EINVALID, "draft %d is %d characters long; Discord allows %d", d.ID, n, MaxMessageLen)
	}
	return nil
}

// Send posts out.Draft: as a reply (message_reference) to out.InReplyTo in
// its channel or thread, or, for a prompt (InReplyTo nil), as a DM to
// out.To (opening the DM channel first). Every attempt carries the nonce
// Nonce(out.Draft) with enforce_nonce, so sending the same draft again
// returns the message posted the first time; and a retry
// (Draft.Attempts > 1) first looks through the channel's 100 newest
// messages for ours answering the same message with the same text, which
// covers a restart after Discord forgot the nonce. It returns the message's
// id. Errors: EUNAVAILABLE for network errors, 5xx and 429 (after retrying
// within the rate limit); ENOTFOUND when the channel, the message to
// answer or the user is gone; EINVALID when Discord refused the content or
// the draft cannot go to Discord (other 4xx, empty or too long text,
// missing channel or user).
func (c *Connector) Send(ctx context.Context, out parley.Outgoing) (string, error) {
	if err := c.CheckDraft(ctx, out.Draft); err != nil {
		return "", err
	}
	msg := &discordgo.MessageSend{
		Content: strings.TrimSpace(out.Draft.Text),
		// Never ping @everyone or roles from a draft; do ping the person
		// we answer.
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, RepliedUser: true},
	}
	var channelID string
	if out.InReplyTo != nil {
		in := out.InReplyTo
		if in.Platform != "" && in.Platform != parley.PlatformDiscord {
			return "", parley.Errorf(parley.EINVALID, "draft %d answers a %s mention, not a Discord one", out.Draft.ID, in.Platform)
		}
		guildID, chID := splitChannel(in.Channel)
		if in.ThreadKey != "" {
			chID = in.ThreadKey
		}
		if chID == "" || in.ExternalID == "" {
			return "", parley.Errorf(parley.EINVALID, "draft %d: the mention it answers has no Discord channel or message id", out.Draft.ID)
		}
		channelID = chID
		ref := &discordgo.MessageReference{MessageID: in.ExternalID, ChannelID: chID}
		if guildID != "@me" {
			ref.GuildID = guildID
		}
		msg.Reference = ref
	} else {
		if out.To.ExternalID == "" {
			return "", parley.Errorf(parley.EINVALID, "draft %d: a prompt needs a Discord user to write to", out.Draft.ID)
		}
		var ch *discordgo.Channel
		err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
			var err error
			ch, err = c.s.UserChannelCreate(out.To.ExternalID, opts...)
			return err
		})
		if err != nil {
			return "", mapError("opening a DM channel with user "+out.To.ExternalID, err)
		}
		channelID = ch.ID
	}
	if out.Draft.Attempts > 1 {
		replyTo := ""
		if msg.Reference != nil {
			replyTo = msg.Reference.MessageID
		}
		if id := c.findOurMessage(ctx, channelID, msg.Content, replyTo, Nonce(out.Draft)); id != "" {
			c.log.Info("draft already posted by an earlier attempt; not posting again", "draft_id", out.Draft.ID, "channel_id", channelID, "message_id", id)
			return id, nil
		}
	}
	posted, err := c.post(ctx, channelID, msg, Nonce(out.Draft))
	if err != nil {
		return "", mapError("posting draft to channel "+channelID, err)
	}
	c.log.Info("draft posted", "draft_id", out.Draft.ID, "channel_id", channelID, "message_id", posted.ID)
	return posted.ID, nil
}

// post creates a message with a nonce (enforced when not empty).
func (c *Connector) post(ctx context.Context, channelID string, msg *discordgo.MessageSend, nonce string) (*discordgo.Message, error) {
	body := messageSend{MessageSend: msg, Nonce: nonce, EnforceNonce: nonce != ""}
	endpoint := discordgo.EndpointChannelMessages(channelID)
	var m *discordgo.Message
	err := c.call(ctx, func(opts ...discordgo.RequestOption) error {
		resp, err := c.s.RequestWithBucketID(http.MethodPost, endpoint, body, endpoint, opts...)
		if err != nil {
			return err
		}
		m = new(discordgo.Message)
		if err := discordgo.Unmarshal(resp, m); err != nil {
			return errors.Join(discordgo.ErrJSONUnmarshal, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// splitChannel splits a Mention.Channel "guildID/channelID".
func splitChannel(s string) (guildID, channelID string) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

// Discord JSON error codes that mean "gone".
const (
	codeUnknownChannel = 10003
	codeUnknownMessage = 10008
	codeUnknownUser    = 10013
)

// mapError turns a discordgo error into a parley error with a code the
// outbox can act on.
func mapError(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return parley.Errorf(parley.EUNAVAILABLE, "discord: %s: %w", what, err)
	}
	var rle *rateLimitedError
	if errors.As(err, &rle) {
		return parley.Errorf(parley.EUNAVAILABLE, "discord: %s: %w", what, err)
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		code := 0
		if re.Message != nil {
			code = re.Message.Code
		}
		body := string(re.ResponseBody)
		switch {
		case status == http.StatusNotFound, code == codeUnknownChannel, code == codeUnknownMessage, code == codeUnknownUser,
			strings.Contains(body, "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"):
			return parley.Errorf(parley.ENOTFOUND, "discord: %s: %w", what, err)
		case status == http.StatusTooManyRequests, status >= 500:
			return parley.Errorf(parley.EUNAVAILABLE, "discord: %s: %w", what, err)
		case status >= 400:
			return parley.Errorf(parley.EINVALID, "discord: %s: %w", what, err)
		}
	}
	if errors.Is(err, discordgo.ErrJSONUnmarshal) {
		return parley.Errorf(parley.EINTERNAL, "discord: %s: unexpected answer: %w", what, err)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return parley.Errorf(parley.EUNAVAILABLE, "discord: %s: %w", what, err)
	}
	// discordgo's "Exceeded Max retries HTTP 502", connection resets and
	// other transport failures: worth a retry.
	return parley.Errorf(parley.EUNAVAILABLE, "discord: %s: %w", what, err)
}

// PostText posts text to a channel as Parley (the weekly digest, say),
// with no pings at all. key makes the post idempotent: posting again with
// the same key returns the first message. Errors as Send.
func (c *Connector) PostText(ctx context.Context, channelID, text, key string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > MaxMessageLen {
		return "", parley.Errorf(parley.EINVALID, "a Discord message holds 1 to %d characters, not %d", MaxMessageLen, utf8.RuneCountInString(text))
	}
	msg := &discordgo.MessageSend{
		Content:         text,
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	}
	posted, err := c.post(ctx, channelID, msg, nonceFor(key))
	if err != nil {
		return "", mapError("posting to channel "+channelID, err)
	}
	return posted.ID, nil
}
