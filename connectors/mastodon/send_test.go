package mastodon

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mentionOf is the Mention the connector would have delivered for st.
func mentionOf(st mastodontest.Status, handle string) *parley.Mention {
	return &parley.Mention{
		Platform:   parley.PlatformMastodon,
		ExternalID: st.ID,
		Author:     parley.Person{Platform: parley.PlatformMastodon, ExternalID: st.Account.ID, Handle: handle},
		Visibility: st.Visibility,
	}
}

func newSender(t *testing.T, srv *mastodontest.Server) *Connector {
	t.Helper()
	h := newHarness(t, srv, hopts{})
	return h.c
}

func TestReplyPostedAsReplyWithVisibilityAndMention(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	c := newSender(t, srv)
	ctx := context.Background()

	for i, vis := range []string{"public", "unlisted", "private", "direct"} {
		st, _ := srv.AddStatus(mastodontest.StatusOptions{Author: alice, Text: "@parley help", Visibility: vis})
		d := parley.Draft{ID: int64(10 + i), Kind: parley.KindReply, Text: "Sorry to hear that, we're on it."}
		id, err := c.Send(ctx, parley.Outgoing{Draft: d, InReplyTo: mentionOf(st, "alice@other.example"), To: parley.Person{Handle: "alice@other.example"}})
		require.NoError(t, err, vis)
		posted, ok := srv.Status(id)
		require.True(t, ok, "Send returns the new status's id")
		require.NotNil(t, posted.InReplyToID)
		assert.Equal(t, st.ID, *posted.InReplyToID, vis)
		assert.Equal(t, vis, posted.Visibility, "same visibility as the answered post")
		require.Len(t, posted.Mentions, 1)
		assert.Equal(t, alice.ID, posted.Mentions[0].ID, "the author is mentioned")
		assert.Equal(t, "@alice Sorry to hear that, we're on it.", HTMLToText(posted.Content))
	}

	// The Idempotency-Key is the draft's.
	var keys []string
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Path == "/api/v1/statuses" {
			keys = append(keys, r.IdempotencyKey)
		}
	}
	assert.Equal(t, []string{"parley-draft-10", "parley-draft-11", "parley-draft-12", "parley-draft-13"}, keys)
}

func TestReplyAlreadyMentioningAuthorIsNotDoubled(t *testing.T) {
	srv := mastodontest.NewServer(t)
	bob := srv.AddAccount("bob", mastodontest.AccountOptions{})
	c := newSender(t, srv)
	st, _ := srv.AddMention(bob, "question")
	for i, text := range []string{"Thanks @bob, fixed.", "@bob@fake.example thanks!"} {
		id, err := c.Send(context.Background(), parley.Outgoing{
			Draft:     parley.Draft{ID: int64(20 + i), Text: text},
			InReplyTo: mentionOf(st, "bob@fake.example"),
		})
		require.NoError(t, err)
		posted, _ := srv.Status(id)
		assert.Equal(t, strings.Replace(text, "@bob@fake.example", "@bob", 1), HTMLToText(posted.Content))
		assert.Len(t, posted.Mentions, 1)
	}
}

func TestPromptGoesAsDirectMessage(t *testing.T) {
	srv := mastodontest.NewServer(t)
	carol := srv.AddAccount("carol", mastodontest.AccountOptions{Domain: "third.example"})
	c := newSender(t, srv)
	id, err := c.Send(context.Background(), parley.Outgoing{
		Draft: parley.Draft{ID: 31, Kind: parley.KindPrompt, Text: "Would you write a short review of the widget?"},
		To:    parley.Person{Platform: parley.PlatformMastodon, ExternalID: carol.ID, Handle: "carol@third.example"},
	})
	require.NoError(t, err)
	posted, ok := srv.Status(id)
	require.True(t, ok)
	assert.Equal(t, "direct", posted.Visibility)
	assert.Nil(t, posted.InReplyToID)
	require.Len(t, posted.Mentions, 1)
	assert.Equal(t, carol.ID, posted.Mentions[0].ID)
	assert.Equal(t, "@carol Would you write a short review of the widget?", HTMLToText(posted.Content))
}

func TestRetriedPostWithSameIdempotencyKeyNotDoubled(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	c := newSender(t, srv)
	ctx := context.Background()
	st, _ := srv.AddMention(alice, "hello?")
	out := parley.Outgoing{Draft: parley.Draft{ID: 41, Text: "Hello!", Attempts: 1}, InReplyTo: mentionOf(st, "alice@other.example")}

	first, err := c.Send(ctx, out)
	require.NoError(t, err)
	second, err := c.Send(ctx, out) // a retry after a crash
	require.NoError(t, err)
	assert.Equal(t, first, second)
	assert.Equal(t, 1, srv.PostCount(), "the server replayed the first post")

	// After the server forgot the key (an hour on Mastodon), a retried
	// draft finds its reply in the thread instead of posting again.
	srv.ForgetIdempotencyKeys()
	out.Draft.Attempts = 3
	third, err := c.Send(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, first, third)
	assert.Equal(t, 1, srv.PostCount())

	// A different draft in the same thread is posted.
	other := out
	other.Draft = parley.Draft{ID: 42, Text: "Anything else?", Attempts: 2}
	fourth, err := c.Send(ctx, other)
	require.NoError(t, err)
	assert.NotEqual(t, first, fourth)
	assert.Equal(t, 2, srv.PostCount())
}

func TestSendErrorCodes(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	c := newSender(t, srv)
	ctx := context.Background()
	st, _ := srv.AddMention(alice, "hi")
	reply := func(id int64, text string, to string) parley.Outgoing {
		m := mentionOf(st, "alice@other.example")
		m.ExternalID = to
		return parley.Outgoing{Draft: parley.Draft{ID: id, Text: text}, InReplyTo: m}
	}

	_, err := c.Send(ctx, reply(1, strings.Repeat("x", 600), st.ID))
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "422: %v", err)
	assert.Contains(t, err.Error(), "character limit")

	_, err = c.Send(ctx, reply(2, "hi", "999"))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err), "404: %v", err)

	srv.FailNext(1, http.StatusServiceUnavailable)
	_, err = c.Send(ctx, reply(3, "hi", st.ID))
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err), "503: %v", err)

	srv.RateLimitNext(1, 30*time.Second)
	_, err = c.Send(ctx, reply(4, "hi", st.ID))
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err), "429: %v", err)
	// While the server asks us to wait, Send does not even try.
	n := srv.CountRequests(http.MethodPost, "/api/v1/statuses")
	_, err = c.Send(ctx, reply(5, "hi", st.ID))
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "rate limiting")
	assert.Equal(t, n, srv.CountRequests(http.MethodPost, "/api/v1/statuses"))

	_, err = c.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: 6, Text: "  "}, To: parley.Person{Handle: "a@b.c"}})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = c.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: 7, Text: "hi"}})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "a prompt needs a recipient")

	down := mastodontest.NewServer(t)
	cd := newSender(t, down)
	down.Close()
	_, err = cd.Send(ctx, reply(8, "hi", st.ID))
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err), "network: %v", err)
	assert.NotContains(t, err.Error(), mastodontest.Token)
	assert.Zero(t, srv.PostCount())
}

func TestCheckDraftUsesServerLimit(t *testing.T) {
	ctx := context.Background()
	t.Run("v2 default 500", func(t *testing.T) {
		srv := mastodontest.NewServer(t)
		c := newSender(t, srv)
		assert.NoError(t, c.CheckDraft(ctx, parley.Draft{ID: 1, Text: strings.Repeat("a", 500)}))
		err := c.CheckDraft(ctx, parley.Draft{ID: 2, Text: strings.Repeat("a", 501)})
		require.Error(t, err)
		assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
		assert.Contains(t, err.Error(), "draft 2 is 501 characters long; fake.example allows at most 500")
		// A long link counts 23.
		assert.NoError(t, c.CheckDraft(ctx, parley.Draft{ID: 3, Text: strings.Repeat("a", 470) + " https://example.com/" + strings.Repeat("p", 200)}))
		assert.Error(t, c.CheckDraft(ctx, parley.Draft{ID: 4, Text: strings.Repeat("a", 480) + " https://example.com/x"}))
		assert.Error(t, c.CheckDraft(ctx, parley.Draft{ID: 5, Text: " "}))
		// The limit is fetched once.
		assert.Equal(t, 1, srv.CountRequests(http.MethodGet, "/api/v2/instance"))
	})
	t.Run("v2 custom", func(t *testing.T) {
		srv := mastodontest.NewServer(t, mastodontest.WithMaxChars(5000))
		c := newSender(t, srv)
		assert.NoError(t, c.CheckDraft(ctx, parley.Draft{Text: strings.Repeat("ab ", 1500)}))
		err := c.CheckDraft(ctx, parley.Draft{ID: 9, Text: strings.Repeat("a", 5001)})
		assert.ErrorContains(t, err, "at most 5000")
	})
	t.Run("akkoma v1 max_toot_chars", func(t *testing.T) {
		srv := mastodontest.NewServer(t, mastodontest.WithoutV2Instance(), mastodontest.WithMaxChars(640))
		c := newSender(t, srv)
		assert.NoError(t, c.CheckDraft(ctx, parley.Draft{Text: strings.Repeat("a", 640)}))
		assert.ErrorContains(t, c.CheckDraft(ctx, parley.Draft{ID: 8, Text: strings.Repeat("a", 641)}), "fake.example allows at most 640")
	})
	t.Run("unreachable server lets the draft pass", func(t *testing.T) {
		srv := mastodontest.NewServer(t)
		c := newSender(t, srv)
		srv.Close()
		assert.NoError(t, c.CheckDraft(ctx, parley.Draft{Text: strings.Repeat("a", 900)}))
	})
}

func TestCountText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"hello", 5},
		{"héllo wörld", 11},
		{"👍🏽", 1},    // one grapheme cluster
		{"👨‍👩‍👧", 1}, // ZWJ family
		{"see https://example.com/a/really/long/path/that/goes/on", 4 + 23},
		{"(https://example.com/x).", 1 + 23 + 2},
		{"@alice@other.example hi", len("@alice hi")},
		{"mail bob@example.com", len("mail bob@example.com")},
		{"@bob hi", 7},
	} {
		assert.Equal(t, tc.want, CountText(tc.in), "%q", tc.in)
	}
}

func TestSeenSetEvictsOldest(t *testing.T) {
	s := seenSet{max: 3}
	for _, id := range []string{"1", "2", "3"} {
		assert.True(t, s.add(id))
	}
	assert.False(t, s.add("2"))
	assert.True(t, s.add("4")) // evicts "1"
	assert.True(t, s.add("1"))
	assert.False(t, s.add("4"))
	s.remove("4")
	assert.True(t, s.add("4"))
}

func TestPostDirectIsADirectMessageOnce(t *testing.T) {
	srv := mastodontest.NewServer(t)
	carol := srv.AddAccount("carol", mastodontest.AccountOptions{Domain: "third.example"})
	c := newSender(t, srv)
	ctx := context.Background()
	id, err := c.PostDirect(ctx, "@carol@third.example", "Weekly digest: 12 mentions", "parley-digest-2026-W46-carol-1")
	require.NoError(t, err)
	again, err := c.PostDirect(ctx, "carol@third.example", "Weekly digest: 12 mentions", "parley-digest-2026-W46-carol-1")
	require.NoError(t, err)
	assert.Equal(t, id, again)
	assert.Equal(t, 1, srv.PostCount())
	posted, ok := srv.Status(id)
	require.True(t, ok)
	assert.Equal(t, "direct", posted.Visibility)
	require.Len(t, posted.Mentions, 1)
	assert.Equal(t, carol.ID, posted.Mentions[0].ID)
	_, err = c.PostDirect(ctx, "", "x", "k")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}
