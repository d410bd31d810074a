package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplyGoesToTheChosenMessageDiscord: in a Discord conversation where
// Jules answered Marcus, a reply written to Marcus's message (--to) is
// posted as a reply to that message (not to the newest one) and pings only
// Marcus, never Jules.
func TestReplyGoesToTheChosenMessageDiscord(t *testing.T) {
	g := newDiscordGuild(t)
	fake, brand, guild := g.fake, g.brand, g.guild
	// The fake keeps the messages it creates but not the allowed_mentions
	// they were sent with, and that field decides who gets pinged: the
	// REST calls go through a recorder so the test sees the body as sent.
	rec := newMessagePostRecorder(t, fake.URL)
	run, db := g.start(t, discordRun{apiURL: rec.URL})
	errb := &run.errb

	marcus := &discordgo.User{ID: "200000000000000010", Username: "marcus", GlobalName: "Marcus", Discriminator: "0"}
	jules := &discordgo.User{ID: "200000000000000011", Username: "jules", GlobalName: "Jules", Discriminator: "0"}
	first := fake.InjectMessage(&discordgo.Message{ChannelID: brand, GuildID: guild, Author: marcus,
		Content: "my tidewater deck split after a week"})
	// Jules answers Marcus's message (a Discord reply), so both land in one
	// conversation and Jules's message is the newest in it: a reply that
	// went to "the newest" would answer Jules.
	second := fake.InjectMessage(&discordgo.Message{ChannelID: brand, GuildID: guild, Author: jules,
		Content:          "<@" + marcus.ID + "> same thing happened to my tidewater deck",
		Mentions:         []*discordgo.User{marcus},
		MessageReference: &discordgo.MessageReference{MessageID: first.ID, ChannelID: brand, GuildID: guild}})

	var hits, julesHits []searchHit
	require.Eventually(t, func() bool {
		hits, julesHits = searchMentions(t, db, "@marcus"), searchMentions(t, db, "@jules")
		return len(hits) == 1 && len(julesHits) == 1
	}, patience, 50*time.Millisecond, "both messages stored; stderr: %s", errb)
	require.Equal(t, first.ID, hits[0].ExternalID)
	require.Equal(t, second.ID, julesHits[0].ExternalID)
	require.Equal(t, hits[0].ConversationID, julesHits[0].ConversationID, "Jules's reply joins Marcus's conversation")

	replyTo(t, db, hits[0].ConversationID, hits[0].MentionID, "Marcus, sorry! DM us your order number.")

	require.Eventually(t, func() bool { return len(fake.Posted()) == 1 }, patience, 20*time.Millisecond,
		"stderr: %s", errb)
	posted := fake.Posted()[0]
	require.NotNil(t, posted.MessageReference, "posted as a reply")
	assert.Equal(t, first.ID, posted.MessageReference.MessageID, "in reply to the chosen message, not the newest")
	assert.Equal(t, brand, posted.ChannelID)

	run.stop(t)
	assert.Len(t, fake.Posted(), 1, "exactly one message posted, even after the run stopped")

	// Retries of the same draft reuse one nonce and the fake answers them
	// with the message already created, so every body recorded must say the
	// same thing; at least one must have been sent.
	bodies := rec.bodies(t)
	require.NotEmpty(t, bodies)
	for _, b := range bodies {
		require.NotNil(t, b.MessageReference)
		assert.Equal(t, first.ID, b.MessageReference.MessageID)
		assert.Equal(t, []string{marcus.ID}, pinged(b, marcus.ID),
			"only the chosen message's author is pinged; body: %+v", b)
		assert.NotContains(t, b.Content, jules.ID, "Jules is not mentioned in the text")
	}
}

// sentMessage is the part of a create-message body that decides where the
// message goes and who it pings.
type sentMessage struct {
	Content          string `json:"content"`
	MessageReference *struct {
		MessageID string `json:"message_id"`
	} `json:"message_reference"`
	AllowedMentions *struct {
		Parse       []string `json:"parse"`
		Users       []string `json:"users"`
		RepliedUser bool     `json:"replied_user"`
	} `json:"allowed_mentions"`
}

var userMention = regexp.MustCompile(`<@!?(\d+)>`)

// pinged returns the users Discord would notify for b, following its
// rules: a <@id> in the content pings only when allowed_mentions is
// absent, parses "users" or lists that id; the author of the message
// replied to (repliedAuthor) is pinged when allowed_mentions is absent or
// sets replied_user.
func pinged(b sentMessage, repliedAuthor string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	am := b.AllowedMentions
	for _, m := range userMention.FindAllStringSubmatch(b.Content, -1) {
		id := m[1]
		if am == nil || slices.Contains(am.Parse, "users") || slices.Contains(am.Users, id) {
			add(id)
		}
	}
	if b.MessageReference != nil && (am == nil || am.RepliedUser) {
		add(repliedAuthor)
	}
	return out
}

// messagePostRecorder proxies REST calls to the fake Discord and keeps the
// bodies of the messages created (POST /api/v9/channels/{id}/messages).
// The gateway is not proxied: the fake hands out its own websocket URL.
type messagePostRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	sent [][]byte
}

func newMessagePostRecorder(t *testing.T, target string) *messagePostRecorder {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rec := &messagePostRecorder{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v9/channels/") && strings.HasSuffix(r.URL.Path, "/messages") {
			raw, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			rec.mu.Lock()
			rec.sent = append(rec.sent, raw)
			rec.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(raw))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *messagePostRecorder) bodies(t *testing.T) []sentMessage {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]sentMessage, 0, len(rec.sent))
	for _, raw := range rec.sent {
		var b sentMessage
		require.NoError(t, json.Unmarshal(raw, &b), "%s", raw)
		out = append(out, b)
	}
	return out
}
