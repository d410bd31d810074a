package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

type actionResult struct {
	OK        bool              `json:"ok"`
	ID        int64             `json:"id"`
	State     parley.DraftState `json:"state"`
	DecidedBy string            `json:"decided_by"`
	Text      string            `json:"text"`
	Message   string            `json:"message"`
	HTML      string            `json:"html"`
	Error     string            `json:"error"`
	Code      string            `json:"code"`
}

func decode(t *testing.T, body string) actionResult {
	t.Helper()
	var r actionResult
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return r
}

func TestApproveEditReject(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(
		mention("1", "eve", "my deck cracked", parley.Negative, 10, 0),
		mention("2", "fay", "when do you ship to Oslo?", parley.Neutral, 10, 1),
		mention("3", "gus", "love the wheels", parley.Positive, 10, 2),
	)
	c := e.loggedIn("ana", parley.RoleAgent)

	res, body := c.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	r := decode(t, body)
	assert.True(t, r.OK)
	assert.Equal(t, parley.DraftApproved, r.State)
	assert.Equal(t, "ana", r.DecidedBy)
	d := e.draft(ids[0])
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.Equal(t, "ana", d.DecidedBy)

	// Edit without approving: the text changes, the draft waits.
	res, body = c.postJSON(path("/drafts/%d/edit", ids[1]), url.Values{"text": {"  We ship to Norway in 3-5 days.  "}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	r = decode(t, body)
	assert.Equal(t, parley.DraftPending, r.State)
	assert.Contains(t, r.HTML, "We ship to Norway in 3-5 days.", "the fresh card comes back")
	d = e.draft(ids[1])
	assert.Equal(t, "We ship to Norway in 3-5 days.", d.Text)
	assert.Equal(t, "Thanks Fay!", d.OriginalText)

	// Edit then approve in one go.
	res, body = c.postJSON(path("/drafts/%d/approve", ids[1]), url.Values{"text": {"We ship to Norway in 2 days!"}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Contains(t, decode(t, body).Message, "Edited and approved")
	d = e.draft(ids[1])
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.Equal(t, "We ship to Norway in 2 days!", d.Text)

	res, body = c.postJSON(path("/drafts/%d/edit", ids[2]), url.Values{"text": {"   "}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, decode(t, body).Error, "empty")

	res, body = c.postJSON(path("/drafts/%d/reject", ids[2]), url.Values{"reason": {"off-brand"}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, parley.DraftRejected, decode(t, body).State)
	assert.Equal(t, parley.DraftRejected, e.draft(ids[2]).State)

	res, _ = c.postJSON("/drafts/999/approve", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	// Who did what is in the audit log, with the user's name.
	entries, err := e.st.AuditEntries(ctx, parley.AuditFilter{Actor: "ana"})
	require.NoError(t, err)
	var got []string
	for _, en := range entries {
		got = append(got, en.Action)
	}
	assert.Equal(t, []string{"reject", "approve", "edit", "approve", "login"}, got)

	e.mu.Lock()
	assert.Len(t, e.decided, 3, "OnDecided after each approval and rejection")
	e.mu.Unlock()

	// Without JavaScript: the form posts and redirects back with a message.
	ids = e.ingest(mention("4", "hal", "ok", parley.Neutral, 10, 3))
	res, _ = c.post(path("/drafts/%d/approve", ids[0]), nil, "Referer", e.url+"/?platform=mastodon")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/?platform=mastodon", res.Header.Get("Location"))
	_, page := c.get("/")
	assert.Contains(t, page, "Approved: it will be posted shortly.")
}

// countingSender counts posts per draft.
type countingSender struct {
	mu    sync.Mutex
	posts map[int64]int
}

func (s *countingSender) Platform() string { return parley.PlatformMastodon }

func (s *countingSender) Send(_ context.Context, out parley.Outgoing) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts[out.Draft.ID]++
	return "posted-" + out.Draft.IdempotencyKey(), nil
}

func TestTwoManagersOneDraft(t *testing.T) {
	e := newEnv(t)
	ids := e.ingest(mention("1", "eve", "refund please", parley.Negative, 10, 0),
		mention("2", "fay", "refund please too", parley.Negative, 10, 0))
	ana := e.loggedIn("ana", parley.RoleManager)
	bo := e.loggedIn("bo", parley.RoleManager)

	res, _ := ana.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res, body := bo.postJSON(path("/drafts/%d/approve", ids[0]), url.Values{"text": {"my better text"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	r := decode(t, body)
	assert.Contains(t, r.Error, "already approved by ana")
	assert.Equal(t, "conflict", r.Code)
	res, body = bo.postJSON(path("/drafts/%d/reject", ids[0]), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, decode(t, body).Error, "already approved by ana")
	assert.Equal(t, "Thanks Eve!", e.draft(ids[0]).Text, "the loser's edit is not applied")

	// Without JavaScript the conflict is a page that says so.
	res, page := bo.post(path("/drafts/%d/approve", ids[0]), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, page, "already approved by ana")
	assert.Contains(t, page, "nothing was sent twice")

	// Both at once on the second draft: exactly one wins.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, c := range []*client{ana, bo} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _ := c.postJSON(path("/drafts/%d/approve", ids[1]), nil)
			codes[i] = res.StatusCode
		}()
	}
	wg.Wait()
	assert.ElementsMatch(t, []int{http.StatusOK, http.StatusConflict}, codes)

	// The outbox posts each approved draft once.
	sender := &countingSender{posts: map[int64]int{}}
	ob := bot.NewOutbox(e.st, []parley.Sender{sender}, bot.OutboxOptions{Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); assert.NoError(t, ob.Run(ctx)) }()
	require.Eventually(t, func() bool {
		return e.draft(ids[0]).State == parley.DraftSent && e.draft(ids[1]).State == parley.DraftSent
	}, 5*time.Second, 10*time.Millisecond)
	// A late approval attempt changes nothing and sends nothing.
	res, _ = bo.postJSON(path("/drafts/%d/approve", ids[1]), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done
	sender.mu.Lock()
	assert.Equal(t, map[int64]int{ids[0]: 1, ids[1]: 1}, sender.posts)
	sender.mu.Unlock()
}

func TestCheckDraftRefuses(t *testing.T) {
	e := newEnv(t)
	e.check = func(_ context.Context, d parley.Draft) error {
		if n := len([]rune(d.Text)); n > 20 {
			return parley.Errorf(parley.EINVALID, "the reply is %d characters; this Mastodon server takes 20", n)
		}
		return nil
	}
	ids := e.ingest(mention("1", "eve", "hi", parley.Neutral, 10, 0))
	c := e.loggedIn("ana", parley.RoleManager)
	res, body := c.postJSON(path("/drafts/%d/approve", ids[0]), url.Values{"text": {strings.Repeat("x", 30)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, decode(t, body).Error, "this Mastodon server takes 20")
	d := e.draft(ids[0])
	assert.Equal(t, parley.DraftPending, d.State)
	assert.Equal(t, "Thanks Eve!", d.Text)
	res, _ = c.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, "the short text passes")
}

func TestAssign(t *testing.T) {
	e := newEnv(t)
	ids := e.ingest(mention("1", "eve", "hi", parley.Neutral, 10, 0), mention("2", "fay", "yo", parley.Neutral, 10, 1))
	agent := e.loggedIn("ag", parley.RoleAgent)
	manager := e.loggedIn("ma", parley.RoleManager)

	res, body := agent.postJSON(path("/drafts/%d/assign", ids[0]), url.Values{"user": {"me"}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Contains(t, decode(t, body).HTML, "assigned to you")
	res, _ = agent.postJSON(path("/drafts/%d/assign", ids[1]), url.Values{"user": {"ma"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "agents take drafts for themselves only")
	res, _ = manager.postJSON(path("/drafts/%d/assign", ids[1]), url.Values{"user": {"ag"}})
	assert.Equal(t, http.StatusOK, res.StatusCode)

	_, page := agent.get("/?mine=1")
	assert.Contains(t, page, path(`id="conv-%d"`, e.draft(ids[0]).ThreadID))
	assert.Contains(t, page, path(`id="conv-%d"`, e.draft(ids[1]).ThreadID))
	_, page = manager.get("/?view=mine")
	assert.NotContains(t, page, `class="row `)
	assert.Contains(t, page, "Nothing needs a reply from you")
}

func TestInboxOrderAndFilters(t *testing.T) {
	e := newEnv(t)
	loud := mention("2", "loud", "this is the worst service", parley.Negative, 52000, 100)
	old := mention("1", "old", "a question from long ago?", parley.Neutral, 10, 0)
	fresh := mention("3", "fresh", "nice", parley.Positive, 10, 170)
	disc := mention("4", "disc", "hey", parley.Neutral, 10, 171)
	disc.Platform = parley.PlatformDiscord
	ids := e.ingest(loud, old, fresh, disc)
	c := e.loggedIn("ana", parley.RoleAgent)

	_, page := c.get("/")
	order := func(page string) []int64 {
		var out []int64
		for _, id := range ids {
			if i := strings.Index(page, path(`id="conv-%d"`, e.draft(id).ThreadID)); i >= 0 {
				out = append(out, int64(i))
			} else {
				out = append(out, -1)
			}
		}
		return out
	}
	pos := order(page)
	assert.Less(t, pos[0], pos[1], "a priority-5 negative post from 52k followers comes first")
	assert.Less(t, pos[1], pos[2], "then the one waiting three hours")
	assert.Contains(t, page, "52k followers")
	assert.Contains(t, page, "priority 5")

	_, page = c.get("/?platform=discord")
	pos = order(page)
	assert.Equal(t, int64(-1), pos[0])
	assert.Greater(t, pos[3], int64(0))
	_, page = c.get("/?sentiment=negative")
	pos = order(page)
	assert.Greater(t, pos[0], int64(0))
	assert.Equal(t, int64(-1), pos[1])
	_, page = c.get("/?tag=positive-tag")
	pos = order(page)
	assert.Greater(t, pos[2], int64(0))
	assert.Equal(t, int64(-1), pos[0])
	_, page = c.get("/?rule=rule-neutral")
	pos = order(page)
	assert.Greater(t, pos[1], int64(0))
	assert.Equal(t, int64(-1), pos[2])
	assert.Contains(t, page, `<option value="rule-neutral" selected>`)
	_, page = c.get("/?platform=bluesky")
	assert.Contains(t, page, `<option value="bluesky" selected>`, "the filter in force shows even when nothing matches")
	assert.Contains(t, page, "No conversations match these filters")

	// Inbox zero says what happens next.
	for _, id := range ids {
		_, err := e.st.SetConversationState(context.Background(), e.draft(id).ThreadID, "x", parley.Closed, time.Time{}, "")
		require.NoError(t, err)
	}
	_, page = c.get("/")
	assert.Contains(t, page, "Inbox zero")
	assert.Contains(t, page, "appear here by themselves")
}

func TestUrgency(t *testing.T) {
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	// Waiting counts from the customer's post, not from the draft: a post
	// caught up after downtime is not fresh.
	item := func(label parley.Label, followers int, waited time.Duration, prio int) parley.InboxItem {
		return parley.InboxItem{
			Draft:   parley.Draft{Priority: prio, CreatedAt: now},
			Mention: parley.Mention{ID: 1, Sentiment: parley.Sentiment{Label: label}, CreatedAt: now.Add(-waited)},
			Person:  parley.Person{Followers: followers},
		}
	}
	base := web.UrgencyOf(item(parley.Neutral, 10, 0, 0), now)
	assert.Zero(t, base.Score)
	neg := web.UrgencyOf(item(parley.Negative, 10, 0, 0), now)
	assert.Equal(t, 2.0, neg.Score)
	assert.True(t, neg.Negative)
	loud := web.UrgencyOf(item(parley.Neutral, 100_000, 0, 0), now)
	assert.InDelta(t, 3, loud.Score, 0.001)
	capped := web.UrgencyOf(item(parley.Neutral, 10_000_000, 0, 0), now)
	assert.InDelta(t, 3, capped.Score, 0.001, "reach is capped")
	day := web.UrgencyOf(item(parley.Neutral, 10, 30*time.Hour, 0), now)
	assert.InDelta(t, 4, day.Score, 0.001, "waiting is capped at 4")
	assert.Greater(t, day.Rank, neg.Rank, "a day-old draft outranks a fresh complaint")
	prio := web.UrgencyOf(item(parley.Neutral, 10, 0, 1), now)
	assert.Greater(t, prio.Rank, web.UrgencyOf(item(parley.Negative, 1_000_000, 48*time.Hour, 0), now).Rank,
		"priority comes first")
}

func TestEscaping(t *testing.T) {
	e := newEnv(t)
	evil := mention("1", "eve", `<script>alert("pwned")</script><img src=x onerror=alert(1)> & "quotes"`, parley.Negative, 10, 0)
	evil.Author.Name = `<b onmouseover=alert(2)>Eve</b>`
	evil.URL = `javascript:alert(3)`
	evil.Channel = `</p><script>alert(4)</script>`
	ids := e.ingest(evil)
	c := e.loggedIn("ana", parley.RoleManager)
	_, err := e.st.AddNote(context.Background(), 1, "ana", `<script>alert(5)</script>`)
	require.NoError(t, err)
	_, err = e.st.EditDraft(context.Background(), ids[0], "ana", `<script>alert(6)</script>`)
	require.NoError(t, err)

	for _, p := range []string{"/", "/threads/1", "/people/1", "/people?q=eve", "/activity"} {
		res, page := c.get(p)
		require.Equal(t, http.StatusOK, res.StatusCode, p)
		assert.NotContains(t, page, "<script>alert", p)
		assert.NotContains(t, page, "<img src=x", p)
		assert.NotContains(t, page, "<b onmouseover", p)
		assert.NotContains(t, page, `href="javascript:`, p)
		assert.Equal(t, 1, strings.Count(page, "<script"), "%s: only app.js", p)
		csp := res.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self'", p)
		assert.NotContains(t, csp, "unsafe-inline", p)
		assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	}
	_, page := c.get("/")
	assert.Contains(t, page, `&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;`)
	assert.Contains(t, page, `&lt;script&gt;alert(6)&lt;/script&gt;`, "the draft text too")
	assert.Contains(t, page, `#ZgotmplZ`, "a javascript: URL is neutralised")
}

func TestThreadAndReply(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := mention("100", "eve", "my bearings rattle", parley.Negative, 10, 0)
	ids := e.ingest(first)
	// Our reply is sent...
	_, err := e.st.ApproveDraft(ctx, ids[0], "bo", "")
	require.NoError(t, err)
	claimed, err := e.st.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, e.st.MarkSent(ctx, ids[0], "our-post-1", t0.Add(5*time.Minute)))
	// ...and she answers it.
	second := mention("101", "eve", "thanks, that fixed it", parley.Positive, 10, 10)
	second.InReplyTo = "our-post-1"
	e.ingest(second)
	require.Equal(t, first.ThreadID, second.ThreadID)

	c := e.loggedIn("ana", parley.RoleAgent)
	res, page := c.get(path("/threads/%d", first.ThreadID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	a := strings.Index(page, "my bearings rattle")
	b := strings.Index(page, "Thanks Eve!")
	cc := strings.Index(page, "thanks, that fixed it")
	assert.True(t, a > 0 && a < b && b < cc, "in time order, ours included: %d %d %d", a, b, cc)
	assert.Contains(t, page, "approved by bo")
	assert.Contains(t, page, `class="chip chip-positive"`)
	assert.Contains(t, page, `class="chip chip-negative"`)
	assert.Contains(t, page, path(`name="mention_id" value="%d"`, second.ID), "the reply box answers the latest post")

	res, _ = c.post(path("/threads/%d/reply", first.ThreadID), url.Values{"mention_id": {path("%d", second.ID)}, "text": {"Glad to hear it, Eve!"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, page = c.get("/")
	assert.Contains(t, page, "Glad to hear it, Eve!", "the reply waits in the inbox")
	assert.Contains(t, page, "Reply queued")

	res, _ = c.post(path("/threads/%d/reply", first.ThreadID+1), url.Values{"mention_id": {path("%d", second.ID)}, "text": {"x"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "the post must be in the thread")
	res, _ = c.post(path("/threads/%d/reply", first.ThreadID), url.Values{"mention_id": {path("%d", second.ID)}, "text": {" "}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res, _ = c.get("/threads/999")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestPersonPage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.ingest(mention("1", "jules", "the new wheels are sick", parley.Positive, 842, 0),
		mention("2", "jules", "but the bearings squeak", parley.Negative, 842, 60))
	dm := mention("3", "jules", "yo from discord", parley.Neutral, 0, 90)
	dm.Platform = parley.PlatformDiscord
	dm.Author.Handle = "jules"
	e.ingest(dm)
	jules, err := e.st.FindPerson(ctx, parley.PlatformMastodon, "jules@skate.social")
	require.NoError(t, err)
	other, err := e.st.FindPerson(ctx, parley.PlatformDiscord, "jules")
	require.NoError(t, err)

	agent := e.loggedIn("ag", parley.RoleAgent)
	manager := e.loggedIn("ma", parley.RoleManager)
	page := path("/people/%d", jules.ID)

	res, body := manager.get(page)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "the new wheels are sick")
	assert.Contains(t, body, "but the bearings squeak")
	assert.Contains(t, body, "Thanks Jules!", "what we said")
	assert.Contains(t, body, `<svg class="chart"`)
	assert.Equal(t, 2, strings.Count(body, `<circle class="chart-pt`))
	assert.Contains(t, body, "Maybe the same person", "a Discord jules is suggested")
	assert.Contains(t, body, path(`name="other" value="%d"`, other.ID))

	res, _ = agent.post(page+"/notes", url.Values{"text": {"Sent a free bearing set."}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "agents write notes")
	res, _ = agent.post(page+"/links", url.Values{"other": {path("%d", other.ID)}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "agents do not link people")

	res, _ = manager.post(page+"/links", url.Values{"handle": {"jules"}, "platform": {"discord"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = manager.get(page)
	assert.Contains(t, body, "Sent a free bearing set.")
	assert.Contains(t, body, "Linked to Jules on Discord")
	linked, err := e.st.LinkedPeople(ctx, jules.ID)
	require.NoError(t, err)
	require.Len(t, linked, 1)
	assert.Equal(t, other.ID, linked[0].ID)
	_, body = manager.get(path("/people/%d", other.ID))
	assert.Contains(t, body, path(`href="/people/%d"`, jules.ID), "the link shows on both sides")

	res, _ = manager.post(page+"/links", url.Values{"handle": {"nobody-at-all"}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = manager.post(page+"/unlink", url.Values{"person": {path("%d", other.ID)}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	linked, err = e.st.LinkedPeople(ctx, jules.ID)
	require.NoError(t, err)
	assert.Empty(t, linked)

	res, _ = manager.post(page+"/optout", url.Values{"optout": {"1"}, "reason": {"asked by DM"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = manager.get(page)
	assert.Contains(t, body, "opted out</strong>")
	p, err := e.st.Person(ctx, jules.ID)
	require.NoError(t, err)
	assert.True(t, p.OptedOut)

	_, body = manager.get("/activity")
	for _, action := range []string{"note", "link", "unlink", "optout", "login"} {
		assert.Contains(t, body, `chip-action-`+action+`"`, action)
	}
	assert.Contains(t, body, "asked by DM")
	_, body = manager.get("/activity?action=optout")
	assert.NotContains(t, body, `chip-action-note"`)

	res, _ = manager.get("/people/404")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	_, body = manager.get("/people?q=jul")
	assert.Contains(t, body, path(`href="/people/%d"`, jules.ID))
}

func TestActivityPages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for range 60 {
		_, err := e.st.AddAudit(ctx, parley.AuditEntry{Actor: "bot", Action: "login"})
		require.NoError(t, err)
	}
	c := e.loggedIn("ma", parley.RoleManager)
	_, body := c.get("/activity")
	assert.Contains(t, body, "Older entries")
	i := strings.Index(body, `/activity?before=`)
	require.Greater(t, i, 0)
	next := body[i : strings.Index(body[i:], `"`)+i]
	_, body = c.get(strings.ReplaceAll(next, "&amp;", "&"))
	assert.NotContains(t, body, "Older entries")
	assert.Equal(t, 11, strings.Count(body, `chip-action-login"`), "the last 11 of 61")
}

func TestEvents(t *testing.T) {
	e := newEnv(t)
	ids := e.ingest(mention("1", "eve", "first", parley.Neutral, 10, 0))
	c := e.loggedIn("ana", parley.RoleManager)
	_, page := c.get("/")
	since := regexp1(t, `data-since="(\d+)"`, page)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/events?since="+since, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))

	events := make(chan map[string]any, 16)
	go func() {
		defer close(events)
		buf := make([]byte, 0, 64<<10)
		chunk := make([]byte, 4096)
		for {
			n, err := res.Body.Read(chunk)
			buf = append(buf, chunk[:n]...)
			for {
				i := strings.Index(string(buf), "\n\n")
				if i < 0 {
					break
				}
				block := string(buf[:i])
				buf = buf[i+2:]
				for _, line := range strings.Split(block, "\n") {
					if data, ok := strings.CutPrefix(line, "data: "); ok {
						var ev map[string]any
						if json.Unmarshal([]byte(data), &ev) == nil {
							events <- ev
						}
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	next := func(want func(map[string]any) bool) map[string]any {
		t.Helper()
		for {
			select {
			case ev, ok := <-events:
				require.True(t, ok, "stream ended")
				if want(ev) {
					return ev
				}
			case <-ctx.Done():
				t.Fatal("no event in time")
			}
		}
	}

	// A draft written by "another process" (straight to the store) arrives.
	newIDs := e.ingest(mention("2", "fay", `live <script>x</script>`, parley.Negative, 10, 1))
	ev := next(func(ev map[string]any) bool { return ev["id"] == float64(newIDs[0]) })
	assert.Equal(t, "pending", ev["state"])
	html, _ := ev["html"].(string)
	assert.Contains(t, html, path(`id="draft-%d"`, newIDs[0]))
	assert.Contains(t, html, "live &lt;script&gt;x&lt;/script&gt;")
	assert.Greater(t, ev["rank"], 400.0, "priority 5")

	// Someone approves the first one: the page is told to drop it.
	other := e.loggedIn("bo", parley.RoleManager)
	res2, _ := other.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res2.StatusCode)
	ev = next(func(ev map[string]any) bool { return ev["id"] == float64(ids[0]) })
	assert.Equal(t, true, ev["remove"])
	assert.Equal(t, "approved", ev["state"])
	assert.Equal(t, "bo", ev["decided_by"])
}

func TestEventsRespectFilters(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn("ana", parley.RoleManager)
	_, page := c.get("/?sentiment=positive")
	since := regexp1(t, `data-since="(\d+)"`, page)
	events := regexp1(t, `data-events="([^"]+)"`, page)
	events = strings.ReplaceAll(events, "&amp;", "&")
	assert.Equal(t, "/events?sentiment=positive", events)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+events+"&since="+since, nil)
	res, err := c.c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	ids := e.ingest(mention("1", "neg", "bad", parley.Negative, 10, 0), mention("2", "pos", "good", parley.Positive, 10, 0))
	var got strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(got.String(), path(`"id":%d`, ids[1])) {
		n, err := res.Body.Read(buf)
		got.Write(buf[:n])
		require.NoError(t, err, "stream so far: %s", got.String())
	}
	s := got.String()
	assert.Contains(t, s, path(`draft-%d`, ids[1]))
	assert.NotContains(t, s, path(`draft-%d`, ids[0]), "no card for a draft the filter hides")
}

func TestMetricsAndHealth(t *testing.T) {
	e := newEnv(t)
	m := e.botMetrics
	ids := e.ingest(mention("1", "eve", "a", parley.Neutral, 10, 0), mention("2", "fay", "b", parley.Neutral, 10, 0))

	res, err := http.Get(e.url + "/healthz")
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&h))
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "ok", h["status"])

	m.ObserveIngest(parley.IngestResult{Stored: 2, Duplicates: 1, Drafts: 2})
	m.ObserveSend(parley.Draft{Platform: "mastodon"}, nil)
	m.ObserveSend(parley.Draft{Platform: "discord"}, parley.Errorf(parley.EUNAVAILABLE, "503"))
	m.ObserveConnectorError("discord")
	var nilMetrics *bot.Metrics
	nilMetrics.ObserveIngest(parley.IngestResult{Stored: 1}) // a nil *Metrics is a no-op

	c := e.loggedIn("ana", parley.RoleManager)
	res2, _ := c.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res2.StatusCode)

	got := e.metrics()
	assert.Equal(t, "2", got[`parley_mentions_ingested_total{result="stored"}`])
	assert.Equal(t, "1", got[`parley_mentions_ingested_total{result="duplicate"}`])
	assert.Equal(t, "2", got[`parley_drafts_queued_total`])
	assert.Equal(t, "1", got[`parley_drafts{state="pending"}`], "read from the store at scrape")
	assert.Equal(t, "1", got[`parley_drafts{state="approved"}`])
	assert.Equal(t, "2", got[`parley_mentions_stored`])
	assert.Equal(t, "1", got[`parley_approval_latency_seconds_count`])
	assert.Equal(t, "1", got[`parley_sends_total{platform="mastodon",result="sent"}`])
	assert.Equal(t, "1", got[`parley_sends_total{platform="discord",result="error"}`])
	assert.Equal(t, "2", got[`parley_connector_errors_total{platform="discord"}`])
	assert.NotEmpty(t, got[`go_goroutines`])
}

func TestServeSeparateMetricsAndShutdown(t *testing.T) {
	st := storetest.Open(t)
	srv, err := web.New(web.Config{Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:1"}, web.Options{Store: st, PollInterval: 20 * time.Millisecond,
		Decider: bot.NewDecisions(st, bot.DecisionsOptions{})})
	require.NoError(t, err)
	ln := listenLocal(t)
	mln := listenLocal(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln, mln) }()

	base, mbase := "http://"+ln.Addr().String(), "http://"+mln.Addr().String()
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond)
	res, err := http.Get(mbase + "/metrics")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "metrics on their own address")
	res, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "and not on the inbox's")

	// A live stream open at shutdown does not hold it up.
	h, err := web.HashPassword("a long enough password")
	require.NoError(t, err)
	_, err = st.CreateUser(context.Background(), "ana", parley.RoleAgent, h)
	require.NoError(t, err)
	e := &testEnv{t: t, st: st, url: base}
	c := e.client()
	c.login("ana", "a long enough password")
	req, _ := http.NewRequest(http.MethodGet, base+"/events", nil)
	stream, err := c.c.Do(req)
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, http.StatusOK, stream.StatusCode)

	var closed atomic.Bool
	go func() {
		buf := make([]byte, 512)
		for {
			if _, err := stream.Body.Read(buf); err != nil {
				closed.Store(true)
				return
			}
		}
	}()
	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Eventually(t, closed.Load, 2*time.Second, 10*time.Millisecond, "the stream was ended")
}

func TestConfigValidate(t *testing.T) {
	assert.Empty(t, web.Config{}.Validate())
	assert.Empty(t, web.Config{Addr: "0.0.0.0:8080", MetricsAddr: "127.0.0.1:9090", BaseURL: "https://parley.example.com"}.Validate())
	errs := web.Config{Addr: "8080", MetricsAddr: "8080", BaseURL: "parley.example.com"}.Validate()
	require.Len(t, errs, 4)
	assert.Contains(t, errs[0].Error(), `web.addr "8080": want host:port`)
	assert.Contains(t, errs[2].Error(), "the same as web.addr")
	assert.Contains(t, errs[3].Error(), "web.base_url")
	assert.Contains(t, web.Config{BaseURL: "https://x.example/parley"}.Validate()[0].Error(), "path")
	c := web.Config{}.WithDefaults()
	assert.Equal(t, web.DefaultAddr, c.Addr)
	assert.Equal(t, "http://127.0.0.1:8080", c.BaseURL)
	_, err := web.New(web.Config{Addr: "nope"}, web.Options{Store: &store.Store{}, Decider: bot.NewDecisions(&store.Store{}, bot.DecisionsOptions{})})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "web config")
	_, err = web.New(web.Config{}, web.Options{Store: &store.Store{}})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = web.New(web.Config{}, web.Options{})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}

// TestNavBadgeCountsConversationsNeedingReply: every page's Inbox badge
// counts the conversations needing a reply (one for a conversation
// whatever its drafts: none, or one), not a closed one, up to 1000
// ("1000+").
func TestNavBadgeCountsConversationsNeedingReply(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.loggedIn("ana", parley.RoleManager)
	_, body := c.get("/activity")
	assert.Contains(t, body, `aria-label="0 needing a reply" hidden>0</span>`)
	first := mention("1", "bo", "hi", parley.Neutral, 1, 0)
	e.ingest(first, mention("2", "cy", "hey", parley.Neutral, 1, 1))
	_, err := e.st.IngestBatch(ctx, []*parley.Mention{mention("3", "di", "no draft for me", parley.Neutral, 1, 2)}, nil)
	require.NoError(t, err)
	_, body = c.get("/activity")
	assert.Contains(t, body, `aria-label="3 needing a reply">3</span>`, "a conversation without a draft needs a reply too")
	_, err = e.st.SetConversationState(ctx, first.ThreadID, "ana", parley.Closed, time.Time{}, "")
	require.NoError(t, err)
	_, body = c.get("/activity")
	assert.Contains(t, body, `aria-label="2 needing a reply">2</span>`, "a closed one does not")
	var ms []*parley.Mention
	for i := range 1000 {
		ms = append(ms, mention(fmt.Sprint(100+i), fmt.Sprint("p", i), "hello", parley.Neutral, 1, i))
	}
	e.ingest(ms...)
	_, body = c.get("/activity")
	assert.Contains(t, body, `aria-label="1000 or more needing a reply">1000+</span>`)
}

// TestReplyToThis: "Reply to this" on a message makes the reply box answer
// it (not whoever posted last), and the queued reply answers it.
func TestReplyToThis(t *testing.T) {
	e := newEnv(t)
	marcus := mention("200", "marcus", "my deck split", parley.Negative, 10, 0)
	jules := mention("201", "jules", "same thing happened to me", parley.Negative, 10, 5)
	jules.InReplyTo = "200"
	e.ingest(marcus, jules)
	require.Equal(t, marcus.ThreadID, jules.ThreadID)

	c := e.loggedIn("ana", parley.RoleAgent)
	_, page := c.get(path("/threads/%d", marcus.ThreadID))
	assert.Contains(t, page, path(`name="mention_id" value="%d"`, jules.ID), "by default the newest message")
	assert.Contains(t, page, path(`/threads/%d?to=%d#reply-title`, marcus.ThreadID, marcus.ID), "each message has Reply to this")

	_, page = c.get(path("/threads/%d?to=%d", marcus.ThreadID, marcus.ID))
	assert.Contains(t, page, path(`name="mention_id" value="%d"`, marcus.ID))
	assert.Contains(t, page, "my deck split")
	res, _ := c.post(path("/threads/%d/reply", marcus.ThreadID), url.Values{"mention_id": {path("%d", marcus.ID)}, "text": {"Marcus, DM us"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	pending, err := e.st.Drafts(context.Background(), parley.DraftFilter{ThreadID: marcus.ThreadID, States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	require.Len(t, pending, 1, "one pending reply per conversation")
	assert.Equal(t, marcus.ID, pending[0].MentionID)
	assert.Equal(t, marcus.PersonID, pending[0].PersonID, "only the chosen message's author is addressed")
}

// TestCardSaysNewMessageSinceEdit: a draft a person edited is kept when
// the customer writes again, and its card says so.
func TestCardSaysNewMessageSinceEdit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	first := mention("300", "eve", "wheels broke", parley.Negative, 10, 0)
	ids := e.ingest(first)
	_, err := e.st.EditDraft(ctx, ids[0], "ana", "Eve, so sorry, DM us")
	require.NoError(t, err)
	again := mention("301", "eve", "hello??", parley.Negative, 10, 30)
	again.InReplyTo = "300"
	e.ingest(again)
	d := e.draft(ids[0])
	assert.Equal(t, parley.DraftPending, d.State, "the edit is kept")
	c := e.loggedIn("bo", parley.RoleAgent)
	_, page := c.get("/")
	assert.Contains(t, page, "new message since your edit")
	assert.Contains(t, page, "Eve, so sorry, DM us")
}

// TestInboxShowsUndraftedConversations: a customer message no rule
// answered is not invisible: its conversation is listed in the inbox with
// a way to answer that very message.
func TestInboxShowsUndraftedConversations(t *testing.T) {
	e := newEnv(t)
	ids := e.ingest(mention("400", "eve", "hi", parley.Neutral, 10, 0))
	require.Len(t, ids, 1)
	quiet := mention("401", "zed", "does anyone know the deck sizes?", parley.Neutral, 10, 1)
	_, err := e.st.IngestBatch(context.Background(), []*parley.Mention{quiet}, nil) // no rule drafts
	require.NoError(t, err)
	c := e.loggedIn("bo", parley.RoleAgent)
	_, page := c.get("/")
	row := func(page string, id int64) string {
		i := strings.Index(page, path(`id="conv-%d"`, id))
		require.Greater(t, i, 0, "conversation %d is listed", id)
		return page[i : i+strings.Index(page[i:], "</li>")]
	}
	quietRow := row(page, quiet.ThreadID)
	assert.Contains(t, quietRow, "no draft")
	assert.Contains(t, quietRow, "does anyone know the deck sizes?")
	assert.NotContains(t, row(page, e.draft(ids[0]).ThreadID), "no draft", "a conversation with a draft says a draft waits")
	_, page = c.get(path("/?c=%d", quiet.ThreadID))
	assert.Contains(t, page, path(`/threads/%d?to=%d#reply-title`, quiet.ThreadID, quiet.ID))
}
