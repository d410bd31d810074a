package mastodon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMentionArrivesByStream(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Alice A.", Followers: 321})
	h := newHarness(t, srv, hopts{}).start()
	h.waitReady("mentions", 1)
	polls := srv.CountRequests(http.MethodGet, "/api/v1/notifications")

	st, n := srv.AddStatus(mastodontest.StatusOptions{
		Author:     alice,
		Text:       "@parley your widget broke &amp; I'm sad\n\nsee https://example.com/a/very/long/path/to/the/bug/report #Acme",
		Visibility: "unlisted",
		Language:   "fr",
	})
	require.NotNil(t, n)
	m := h.sink.waitID(t, st.ID)

	// Delivered by the stream: no poll happened after the mention.
	assert.Equal(t, polls, srv.CountRequests(http.MethodGet, "/api/v1/notifications"), "the mention must come from the stream, not a poll")
	assert.Equal(t, parley.PlatformMastodon, m.Platform)
	assert.Equal(t, "@parley your widget broke &amp; I'm sad\n\nsee https://example.com/a/very/long/path/to/the/bug/report #Acme", m.Text)
	assert.Equal(t, "unlisted", m.Visibility)
	assert.False(t, m.Direct)
	assert.Equal(t, "fr", m.Lang)
	assert.Equal(t, *st.URL, m.URL)
	assert.Equal(t, "mentions", m.Channel)
	assert.WithinDuration(t, st.CreatedAt, m.CreatedAt, time.Millisecond)
	assert.Equal(t, alice.ID, m.Author.ExternalID)
	assert.Equal(t, "alice@other.example", m.Author.Handle)
	assert.Equal(t, "Alice A.", m.Author.Name)
	assert.Equal(t, 321, m.Author.Followers)
	assert.False(t, m.Author.NoBot)
}

func TestLocalAuthorHandleIsQualifiedAndReplyThreadKept(t *testing.T) {
	srv := mastodontest.NewServer(t)
	bob := srv.AddAccount("bob", mastodontest.AccountOptions{})
	root, _ := srv.AddStatus(mastodontest.StatusOptions{Author: srv.Bot(), Text: "We shipped v2!"})
	h := newHarness(t, srv, hopts{}).start()
	h.waitReady("mentions", 1)

	st, _ := srv.AddStatus(mastodontest.StatusOptions{Author: bob, Text: "@parley congrats", InReplyToID: root.ID, Visibility: "direct"})
	m := h.sink.waitID(t, st.ID)
	assert.Equal(t, "bob@fake.example", m.Author.Handle, "local accounts get the instance domain")
	assert.Equal(t, root.ID, m.InReplyTo)
	assert.True(t, m.Direct)
	assert.Equal(t, "direct", m.Visibility)
}

func TestSameMentionByStreamAndPollDeliveredOnce(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	cursors := newMemCursors()
	h := newHarness(t, srv, hopts{cursors: cursors, opts: []Option{WithPollInterval(20 * time.Millisecond)}}).start()
	h.waitReady("mentions", 1)

	st, n := srv.AddMention(alice, "hello")
	h.sink.waitID(t, st.ID)
	// Let several polls see the same notification.
	done := h.tr.count("mentions poll_done")
	h.tr.wait(t, "mentions poll_done", done+3)
	assert.Equal(t, 1, h.sink.count(st.ID), "stream and poll must deliver the mention once")

	key := "mastodon:" + strings.TrimPrefix(srv.URL, "http://") + ":" + srv.Bot().ID + ":notifications"
	assert.Equal(t, n.ID, cursors.get(key), "the poll advances the cursor past the streamed mention")
	h.stop()

	// A restart with the same cursors delivers nothing again.
	h2 := newHarness(t, srv, hopts{cursors: cursors}).start()
	h2.waitReady("mentions", 1)
	h2.tr.wait(t, "mentions poll_done", 1)
	assert.Empty(t, h2.sink.all(), "the cursor prevents re-delivery after a restart")
}

func TestRestartCatchesUpEveryMissedMention(t *testing.T) {
	srv := mastodontest.NewServer(t)
	people := []mastodontest.Account{
		srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"}),
		srv.AddAccount("bob", mastodontest.AccountOptions{}),
		srv.AddAccount("carol", mastodontest.AccountOptions{Domain: "third.example"}),
	}
	cursors := newMemCursors()
	key := "mastodon:" + strings.TrimPrefix(srv.URL, "http://") + ":" + srv.Bot().ID + ":notifications"
	h := newHarness(t, srv, hopts{cursors: cursors, opts: []Option{WithPollInterval(20 * time.Millisecond)}}).start()
	h.waitReady("mentions", 1)
	assert.Equal(t, "0", cursors.get(key), "a first poll that finds nothing starts from the beginning")
	first, n := srv.AddMention(people[0], "before the downtime")
	h.sink.waitID(t, first.ID)
	require.Eventually(t, func() bool { return cursors.get(key) == n.ID }, 5*time.Second, 5*time.Millisecond)
	h.stop()

	// Downtime: 95 mentions (more than two pages of 40) and other
	// notifications in between.
	var want []string
	for i := range 95 {
		st, _ := srv.AddMention(people[i%3], "missed "+string(rune('a'+i%26)))
		want = append(want, st.ID)
		if i%10 == 0 {
			srv.AddNotification("favourite", people[i%3], &st)
		}
	}
	before := srv.CountRequests(http.MethodGet, "/api/v1/notifications")

	h2 := newHarness(t, srv, hopts{cursors: cursors}).start()
	h2.sink.waitN(t, 95)
	h2.waitReady("mentions", 1)
	got := ids(h2.sink.all())
	assert.Equal(t, want, got, "every missed mention, once, oldest first, and not the one from before")

	var pages int
	for _, r := range srv.Requests()[:] {
		if r.Path == "/api/v1/notifications" && r.Query.Get("min_id") != "" {
			pages++
		}
	}
	assert.GreaterOrEqual(t, srv.CountRequests(http.MethodGet, "/api/v1/notifications")-before, 3, "paged through more than one page")
	assert.GreaterOrEqual(t, pages, 3)
	for _, r := range srv.Requests() {
		if r.Path == "/api/v1/notifications" {
			assert.Equal(t, []string{"mention"}, r.Query["types[]"])
		}
	}
}

func TestStreamDropsAndResumes(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	h := newHarness(t, srv, hopts{}).start()
	h.waitReady("mentions", 1)

	a, _ := srv.AddMention(alice, "A")
	h.sink.waitID(t, a.ID)

	srv.SetStreaming(false)
	srv.DropStreams()
	h.tr.wait(t, "mentions stream_disconnected", 1)
	b, _ := srv.AddMention(alice, "B")
	c, _ := srv.AddMention(alice, "C")
	// Let a few reconnects fail (503), then bring streaming back.
	require.Eventually(t, func() bool {
		n := 0
		for _, r := range srv.Requests() {
			if r.Path == "/api/v1/streaming" && r.Status == http.StatusServiceUnavailable {
				n++
			}
		}
		return n >= 2
	}, 5*time.Second, 5*time.Millisecond)
	assert.Zero(t, h.sink.count(b.ID), "B is not delivered before the stream is back (poll interval is 1h)")
	srv.SetStreaming(true)

	h.waitReady("mentions", 2)
	h.sink.waitID(t, b.ID)
	h.sink.waitID(t, c.ID)
	d, _ := srv.AddMention(alice, "D")
	h.sink.waitID(t, d.ID)

	assert.Equal(t, []string{a.ID, b.ID, c.ID, d.ID}, ids(h.sink.all()))
	assert.Equal(t, 2, srv.StreamHandshakes())
}

func TestRetryAfterHonoured(t *testing.T) {
	srv := mastodontest.NewServer(t)
	srv.SetStreaming(false)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	h := newHarness(t, srv, hopts{opts: []Option{WithPollInterval(30 * time.Millisecond)}}).start()
	h.tr.wait(t, "mentions poll_done", 1)

	srv.RateLimitNext(1, time.Second)
	st, _ := srv.AddMention(alice, "are you there?")
	m := h.sink.waitID(t, st.ID)
	require.NotEmpty(t, m.ExternalID)
	_, deliveredAt, _ := h.sink.get(st.ID)

	var limitedAt time.Time
	reqs := srv.Requests()
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			limitedAt = r.At
		}
	}
	require.False(t, limitedAt.IsZero(), "the fake answered 429")
	assert.GreaterOrEqual(t, deliveredAt.Sub(limitedAt), 950*time.Millisecond, "the mention came only after Retry-After")
	// No request at all (poll, stream handshake) while the server said wait.
	for _, r := range reqs {
		if r.At.After(limitedAt) && r.At.Before(limitedAt.Add(950*time.Millisecond)) {
			t.Errorf("request %s %s at +%s, inside the Retry-After window", r.Method, r.Path, r.At.Sub(limitedAt))
		}
	}
	mustContain(t, h.dumpLogs(), "rate limit hit (429)")
}

func TestRateLimitRemainingZeroWaitsForReset(t *testing.T) {
	srv := mastodontest.NewServer(t)
	srv.SetStreaming(false)
	h := newHarness(t, srv, hopts{opts: []Option{WithPollInterval(20 * time.Millisecond)}}).start()
	h.tr.wait(t, "mentions poll_done", 1)

	srv.ExhaustRateLimit(800 * time.Millisecond)
	n := h.tr.count("mentions poll_done")
	h.tr.wait(t, "mentions poll_done", n+3)

	reqs := srv.Requests()
	var gap time.Duration
	for i := 1; i < len(reqs); i++ {
		gap = max(gap, reqs[i].At.Sub(reqs[i-1].At))
	}
	assert.GreaterOrEqual(t, gap, 700*time.Millisecond, "requests paused until X-RateLimit-Reset")
	mustContain(t, h.dumpLogs(), "rate limit used up")
}

func TestStreamingRefusedFallsBackToPollingWithoutSpinning(t *testing.T) {
	srv := mastodontest.NewServer(t, mastodontest.WithoutHashtagStreams())
	someone := srv.AddAccount("dave", mastodontest.AccountOptions{Domain: "other.example"})
	h := newHarness(t, srv, hopts{
		cfg:  Config{Hashtags: []string{"#Acme"}},
		opts: []Option{WithPollInterval(30 * time.Millisecond), WithBackoff(5*time.Millisecond, 200*time.Millisecond)},
	}).start()
	h.tr.wait(t, "tag:acme poll_done", 1)

	st, n := srv.AddStatus(mastodontest.StatusOptions{Author: someone, Text: "I love #acme widgets"})
	assert.Nil(t, n, "no mention of the bot")
	m := h.sink.waitID(t, st.ID)
	assert.Equal(t, "tag:acme", m.Channel)

	time.Sleep(500 * time.Millisecond)
	refused := 0
	for _, r := range srv.Requests() {
		if r.Path == "/api/v1/streaming" && r.Query.Get("stream") == "hashtag" {
			refused++
			assert.Equal(t, "acme", r.Query.Get("tag"))
		}
	}
	assert.LessOrEqual(t, refused, 6, "a refused stream is retried at the slow backoff, not in a loop")
	mustContain(t, h.dumpLogs(), "streaming unavailable for this feed")
}

func TestHashtagStreamKeywordSearchAndHome(t *testing.T) {
	srv := mastodontest.NewServer(t)
	someone := srv.AddAccount("dave", mastodontest.AccountOptions{Domain: "other.example"})
	friend := srv.AddAccount("erin", mastodontest.AccountOptions{})
	h := newHarness(t, srv, hopts{
		cfg:  Config{Hashtags: []string{"Acme"}, Keywords: []string{"Widget"}},
		opts: []Option{WithPollInterval(30 * time.Millisecond)},
	}).start()
	h.waitReady("tag:acme", 1)
	h.waitReady("mentions", 1)

	tagged, _ := srv.AddStatus(mastodontest.StatusOptions{Author: someone, Text: "new #Acme release"})
	m := h.sink.waitID(t, tagged.ID)
	assert.Equal(t, "tag:acme", m.Channel)

	found, _ := srv.AddStatus(mastodontest.StatusOptions{Author: someone, Text: "my widget arrived", NoStream: true})
	m = h.sink.waitID(t, found.ID)
	assert.Equal(t, "search:Widget", m.Channel)

	home, _ := srv.AddStatus(mastodontest.StatusOptions{Author: friend, Text: "Widget day!", Visibility: "unlisted", Home: true})
	m = h.sink.waitID(t, home.ID)
	assert.Equal(t, "home", m.Channel)

	other, _ := srv.AddStatus(mastodontest.StatusOptions{Author: friend, Text: "widgets are not our word", Visibility: "unlisted", Home: true})

	// Our own post (with the keyword and tag) comes back on the home
	// stream and in search; it is never delivered.
	out := parley.Outgoing{Draft: parley.Draft{ID: 3, Kind: parley.KindReply, Text: "glad your widget arrived #acme"}, InReplyTo: &m, To: m.Author}
	posted, err := h.c.Send(context.Background(), out)
	require.NoError(t, err)
	n := h.tr.count("search:Widget poll_done")
	h.tr.wait(t, "search:Widget poll_done", n+3)
	assert.Zero(t, h.sink.count(posted), "our own status is not a mention")
	assert.Zero(t, h.sink.count(other.ID), "keywords match whole words only")
	for _, got := range h.sink.all() {
		assert.Equal(t, 1, h.sink.count(got.ExternalID), "status %s delivered more than once", got.ExternalID)
	}
}

func TestMalformedStreamFrameIsLoggedAndPolled(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	h := newHarness(t, srv, hopts{}).start()
	h.waitReady("mentions", 1)

	// The event is lost on the stream, and a broken frame arrives instead.
	st, _ := srv.AddStatus(mastodontest.StatusOptions{Author: alice, Text: "@parley lost on the wire", NoStream: true})
	srv.SendRaw(`{"event":"notification","stream":["user:notification"],"payload":"{\"id\": \"12\", \"type\": \"mention\", \"status\": 42"}`)
	srv.SendRaw(`{"event":"update","payl`)
	h.sink.waitID(t, st.ID)
	require.Eventually(t, func() bool { return h.tr.count("mentions malformed") == 2 }, 5*time.Second, 5*time.Millisecond)
	logs := h.dumpLogs()
	mustContain(t, logs, "malformed notification in stream; polling to fetch it")
	mustContain(t, logs, "unreadable stream frame")
	assert.Equal(t, 1, h.sink.count(st.ID))
	assert.Equal(t, 1, h.srv.ActiveStreams(), "a bad frame does not cost the connection")
}

func TestMalformedItemInPageSkippedRestDelivered(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	cursors := newMemCursors()
	a, _ := srv.AddStatus(mastodontest.StatusOptions{Author: alice, Text: "@parley one", NoStream: true})
	badID := srv.NextID()
	srv.AddRawNotification(badID, "mention", `{"id":"`+badID+`","type":"mention","created_at":"2024-01-01T00:00:00.000Z","account":"not an object","status":null}`)
	b, nb := srv.AddStatus(mastodontest.StatusOptions{Author: alice, Text: "@parley two", NoStream: true})
	// A cursor just before a: the poll pages from there.
	key := "mastodon:" + strings.TrimPrefix(srv.URL, "http://") + ":" + srv.Bot().ID + ":notifications"
	require.NoError(t, cursors.SetCursor(context.Background(), key, "1"))

	h := newHarness(t, srv, hopts{cursors: cursors}).start()
	h.sink.waitID(t, a.ID)
	h.sink.waitID(t, b.ID)
	h.tr.wait(t, "mentions poll_done", 1)
	mustContain(t, h.dumpLogs(), "skipping a malformed notification")
	mustContain(t, h.dumpLogs(), "id="+badID)
	assert.Equal(t, nb.ID, cursors.get(key))
	assert.Len(t, h.sink.all(), 2)
}

func TestHugeStatusDeliveredTruncatedAfterOversizedFrame(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	h := newHarness(t, srv, hopts{opts: []Option{WithMaxFrameSize(128 << 10)}}).start()
	h.waitReady("mentions", 1)

	huge := "@parley " + strings.Repeat("blah ", 40000) // 200 kB
	st, _ := srv.AddStatus(mastodontest.StatusOptions{Author: alice, Text: huge})
	m := h.sink.waitID(t, st.ID)
	assert.LessOrEqual(t, len(m.Text), MaxTextBytes)
	assert.True(t, strings.HasPrefix(m.Text, "@parley blah blah"))
	assert.True(t, strings.HasSuffix(m.Text, "…"))
	logs := h.dumpLogs()
	mustContain(t, logs, "stream frame too large")
	mustContain(t, logs, "status text too long; truncated")
	assert.Equal(t, 1, h.sink.count(st.ID))
	assert.GreaterOrEqual(t, srv.StreamHandshakes(), 2, "the stream reconnected after the oversized frame")
}

func TestNoBotAuthorsAreMarked(t *testing.T) {
	srv := mastodontest.NewServer(t)
	shy := srv.AddAccount("shy", mastodontest.AccountOptions{Domain: "other.example",
		Note: `<p>Human. Please no automation <a href="https://other.example/tags/nobot" class="mention hashtag" rel="tag">#<span>NoBot</span></a></p>`})
	field := srv.AddAccount("field", mastodontest.AccountOptions{Fields: []mastodontest.Field{{Name: "bots", Value: "#nobot"}}})
	named := srv.AddAccount("named", mastodontest.AccountOptions{DisplayName: "Named #NOBOT"})
	fine := srv.AddAccount("fine", mastodontest.AccountOptions{Note: "<p>I run #nobots.example and love bots</p>"})
	h := newHarness(t, srv, hopts{}).start()
	h.waitReady("mentions", 1)
	want := map[string]bool{}
	for _, a := range []mastodontest.Account{shy, field, named, fine} {
		st, _ := srv.AddMention(a, "hi")
		want[st.ID] = a.Username != "fine"
	}
	for id, nobot := range want {
		m := h.sink.waitID(t, id)
		assert.Equal(t, nobot, m.Author.NoBot, "author %s", m.Author.Handle)
	}
}

func TestRunRefusesBadToken(t *testing.T) {
	srv := mastodontest.NewServer(t)
	c, err := New(Config{Server: srv.URL}, "wrong-token", newMemCursors(), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Run(ctx, &recSink{})
	require.Error(t, err)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "refused the access token")
	assert.NotContains(t, err.Error(), "wrong-token")
}

func TestRunRetriesUnreachableServerUntilCancelled(t *testing.T) {
	srv := mastodontest.NewServer(t)
	srv.FailNext(3, http.StatusBadGateway)
	h := newHarness(t, srv, hopts{}).start()
	h.waitReady("mentions", 1)
	assert.GreaterOrEqual(t, srv.CountRequests(http.MethodGet, "/api/v1/accounts/verify_credentials"), 3)
	mustContain(t, h.dumpLogs(), "not reachable; retrying")
}

func TestSinkFailureEndsRun(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{})
	srv.AddMention(alice, "waiting")
	sink := &recSink{err: parley.Errorf(parley.EINTERNAL, "pipeline closed")}
	c, err := New(Config{Server: srv.URL}, mastodontest.Token, newMemCursors(), nil, WithBackoff(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Run(ctx, sink)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pipeline closed")
	require.NoError(t, ctx.Err(), "Run returned by itself")
}

func TestRunRefusesServerWithoutMastodonAPI(t *testing.T) {
	notMastodon := httptest.NewServer(http.NotFoundHandler())
	defer notMastodon.Close()
	c, err := New(Config{Server: notMastodon.URL}, "tok", newMemCursors(), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Run(ctx, &recSink{})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	assert.ErrorContains(t, err, "does not answer the Mastodon API")
}

// TestStreamTokenInHeaderNotURL: the streaming handshake carries the
// token in the Authorization header, never in the URL (which proxies and
// server logs record).
func TestStreamTokenInHeaderNotURL(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	h := newHarness(t, srv, hopts{}).start()
	h.waitReady("mentions", 1)
	a, _ := srv.AddMention(alice, "A")
	h.sink.waitID(t, a.ID)

	n := 0
	for _, r := range srv.Requests() {
		if r.Path == "/api/v1/streaming" {
			n++
			assert.Empty(t, r.Query.Get("access_token"), "the token is not in the stream URL: %v", r.Query)
			assert.Equal(t, http.StatusSwitchingProtocols, r.Status)
		}
	}
	assert.Equal(t, 1, n, "one handshake, accepted with the header")
}

// TestStreamTokenInURLWhenServerAsks: a server that reads the streaming
// token only from the URL (GoToSocial, Akkoma) refuses the header-only
// handshake; the connector then sends the token in the URL and streams.
func TestStreamTokenInURLWhenServerAsks(t *testing.T) {
	srv := mastodontest.NewServer(t, mastodontest.WithStreamingTokenInQuery())
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	h := newHarness(t, srv, hopts{}).start()
	h.waitReady("mentions", 1)
	a, _ := srv.AddMention(alice, "A")
	h.sink.waitID(t, a.ID)

	var statuses []int
	for _, r := range srv.Requests() {
		if r.Path == "/api/v1/streaming" {
			statuses = append(statuses, r.Status)
			if r.Status == http.StatusSwitchingProtocols {
				assert.NotEmpty(t, r.Query.Get("access_token"))
			}
		}
	}
	assert.Equal(t, []int{http.StatusUnauthorized, http.StatusSwitchingProtocols}, statuses)
}
