package discord

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/discord/discordtest"
)

// Ids of the fake world every test starts with.
const (
	guildID     = "100000000000000001"
	watchedID   = "100000000000000010" // #brand: watched, with keywords
	otherID     = "100000000000000011" // #random: not watched
	staffID     = "100000000000000012" // #staff
	threadID    = "100000000000000013" // a thread in #brand
	staffRoleID = "100000000000000020"
	botRoleID   = "100000000000000021"
	userID      = "100000000000000030"
)

var (
	ana  = &discordgo.User{ID: userID, Username: "ana", GlobalName: "Ana P", Discriminator: "0"}
	wait = 5 * time.Second
	tick = 5 * time.Millisecond
)

// recSink records submitted mentions.
type recSink struct {
	mu sync.Mutex
	ms []parley.Mention
}

func (s *recSink) Submit(ctx context.Context, m parley.Mention) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ms = append(s.ms, m)
	return nil
}

func (s *recSink) all() []parley.Mention {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]parley.Mention(nil), s.ms...)
}

func (s *recSink) byID(id string) []parley.Mention {
	var out []parley.Mention
	for _, m := range s.all() {
		if m.ExternalID == id {
			out = append(out, m)
		}
	}
	return out
}

// syncBuffer is a goroutine-safe log buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type env struct {
	t     *testing.T
	fake  *discordtest.Server
	store *memStore
	sink  *recSink
	conn  *Connector
	logs  *syncBuffer
	cfg   Config

	cancel context.CancelFunc
	done   chan error
}

type envOpt struct {
	staff bool
	opts  []Option
	setup func(*discordtest.Server, *memStore)
}

// newEnv builds a fake Discord with a guild, #brand (watched), #random,
// #staff and a thread in #brand, and a connector for it (not running).
func newEnv(t *testing.T, o envOpt) *env {
	t.Helper()
	fake := discordtest.New(t)
	fake.AddGuild(&discordgo.Guild{ID: guildID, Name: "Acme", Roles: []*discordgo.Role{
		{ID: staffRoleID, Name: "Community"}, {ID: botRoleID, Name: "Parley"},
	}})
	fake.SetBotRoles(guildID, botRoleID)
	for _, ch := range []*discordgo.Channel{
		{ID: watchedID, GuildID: guildID, Name: "brand", Type: discordgo.ChannelTypeGuildText},
		{ID: otherID, GuildID: guildID, Name: "random", Type: discordgo.ChannelTypeGuildText},
		{ID: staffID, GuildID: guildID, Name: "staff", Type: discordgo.ChannelTypeGuildText},
	} {
		fake.AddChannel(ch, false)
	}
	e := &env{t: t, fake: fake, store: newMemStore(), sink: &recSink{}, logs: &syncBuffer{}}
	e.cfg = Config{
		Guilds:   []string{guildID},
		Channels: []string{watchedID},
		Keywords: []string{"Acme", "rocket skates"},
		APIURL:   fake.URL,
	}
	if o.staff {
		e.cfg.StaffChannel = staffID
		e.cfg.StaffRoles = []string{staffRoleID}
	}
	if o.setup != nil {
		o.setup(fake, e.store)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := append([]Option{
		WithReconnectBackoff(10*time.Millisecond, 50*time.Millisecond),
		WithStaffPollInterval(20 * time.Millisecond),
		WithRateLimitRetries(5, 100*time.Millisecond),
	}, o.opts...)
	c, err := New(e.cfg, fake.Token, e.store, logger, opts...)
	require.NoError(t, err)
	// The buttons decide through the one decision service, which checks
	// drafts with this connector as the platform's sender.
	c.SetDecider(bot.NewDecisions(draftsOnly{e.store}, bot.DecisionsOptions{
		Check: bot.SenderCheck(e.store, []parley.Sender{c})}))
	e.conn = c
	return e
}

// draftsOnly is the in-memory store as a decision store for draft
// decisions: the staff buttons never reach the conversation methods.
type draftsOnly struct{ *memStore }

func (draftsOnly) Conversation(context.Context, int64) (parley.Conversation, error) {
	return parley.Conversation{}, parley.Errorf(parley.ENOTFOUND, "no conversations in the memory store")
}

func (draftsOnly) Conversations(context.Context, parley.ConversationFilter) ([]parley.Conversation, error) {
	return nil, nil
}

func (draftsOnly) SetConversationState(context.Context, int64, string, parley.ConversationState, time.Time, string) (parley.Conversation, error) {
	return parley.Conversation{}, parley.Errorf(parley.ENOTFOUND, "no conversations in the memory store")
}

func (draftsOnly) AssignConversation(context.Context, int64, string, string) (parley.Conversation, error) {
	return parley.Conversation{}, parley.Errorf(parley.ENOTFOUND, "no conversations in the memory store")
}

func (draftsOnly) WriteReply(context.Context, int64, int64, string, string) (parley.Draft, error) {
	return parley.Draft{}, parley.Errorf(parley.ENOTFOUND, "no conversations in the memory store")
}

// start runs the connector until the test ends and waits for the gateway.
func (e *env) start() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done = make(chan error, 1)
	go func() { e.done <- e.conn.Run(ctx, e.sink) }()
	e.t.Cleanup(e.stop)
	require.Eventually(e.t, e.fake.Connected, wait, tick, "connector never connected")
}

// stop ends Run and checks it returned nil.
func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	select {
	case err := <-e.done:
		require.NoError(e.t, err)
	case <-time.After(10 * time.Second):
		e.t.Fatal("Run did not return after cancel")
	}
}

// say injects a message from ana.
func (e *env) say(channelID, content string, mentions ...*discordgo.User) *discordgo.Message {
	return e.fake.InjectMessage(&discordgo.Message{ChannelID: channelID, Content: content, Author: ana, Mentions: mentions})
}

// botMention returns "<@bot>" and the bot user for Mentions.
func (e *env) botMention() (string, *discordgo.User) {
	return "<@" + e.fake.Bot.ID + ">", e.fake.Bot
}

// waitMention waits for the mention of message id and returns it.
func (e *env) waitMention(id string) parley.Mention {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return len(e.sink.byID(id)) > 0 }, wait, tick, "mention %s never arrived; logs:\n%s", id, e.logs.String())
	return e.sink.byID(id)[0]
}

// ApproveDraftHeld approves at once: the memory store keeps no grace period.
func (d draftsOnly) ApproveDraftHeld(ctx context.Context, id int64, actor, text string, _ time.Duration) (parley.Draft, error) {
	return d.ApproveDraft(ctx, id, actor, text)
}

func (draftsOnly) UndoApproval(_ context.Context, id int64, _ string) (parley.Draft, error) {
	return parley.Draft{}, parley.Errorf(parley.ECONFLICT, "draft %d: the memory store keeps no grace period", id)
}
