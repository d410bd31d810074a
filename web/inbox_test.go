package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

var (
	rowID    = regexp.MustCompile(`id="conv-(\d+)"`)
	nextLink = regexp.MustCompile(`<a class="btn btn-sm" href="([^"]+)" rel="next">`)
	tabCount = regexp.MustCompile(`data-view-count="([a-z-]+)">(\d+)<`)
)

// rowsOf returns the conversation ids a page lists, in order.
func rowsOf(page string) []int64 {
	var out []int64
	for _, m := range rowID.FindAllStringSubmatch(page, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, id)
	}
	return out
}

// countsOf returns the count each view's tab shows.
func countsOf(page string) map[string]int {
	out := map[string]int{}
	for _, m := range tabCount.FindAllStringSubmatch(page, -1) {
		out[m[1]], _ = strconv.Atoi(m[2])
	}
	return out
}

// walk follows the Next links from path and returns every id listed.
func (c *client) walk(t *testing.T, path string) (ids []int64, pages int) {
	t.Helper()
	for path != "" {
		res, page := c.get(path)
		require.Equal(t, http.StatusOK, res.StatusCode, page)
		ids = append(ids, rowsOf(page)...)
		pages++
		path = ""
		if m := nextLink.FindStringSubmatch(page); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		require.Less(t, pages, 20, "the pages end")
	}
	return ids, pages
}

func TestInboxPagination(t *testing.T) {
	e := newEnv(t)
	var ms []*parley.Mention
	for i := range 130 {
		label := []parley.Label{parley.Negative, parley.Neutral, parley.Positive}[i%3]
		ms = append(ms, mention(strconv.Itoa(i), fmt.Sprintf("p%03d", i), "post "+strconv.Itoa(i), label, 10+i*100, i%60))
	}
	e.ingest(ms...)
	c := e.loggedIn("ana", parley.RoleManager)

	for _, view := range []string{"/", "/?view=all"} {
		ids, pages := c.walk(t, view)
		assert.Equal(t, 3, pages, view)
		require.Len(t, ids, 130, "%s: every conversation once", view)
		seen := map[int64]bool{}
		for _, id := range ids {
			assert.False(t, seen[id], "%s: conversation %d listed twice", view, id)
			seen[id] = true
		}
		for _, m := range ms {
			assert.True(t, seen[m.ThreadID], "%s: conversation %d is missing", view, m.ThreadID)
		}
	}

	// Most urgent first: the negative (priority 5) ones, longest waiting
	// first, then the rest by waiting time.
	ids, _ := c.walk(t, "/")
	byThread := map[int64]*parley.Mention{}
	for _, m := range ms {
		byThread[m.ThreadID] = m
	}
	for i := 1; i < len(ids); i++ {
		a, b := byThread[ids[i-1]], byThread[ids[i]]
		an, bn := a.Sentiment.Label == parley.Negative, b.Sentiment.Label == parley.Negative
		if an != bn {
			assert.True(t, an, "negative before the rest at %d", i)
			continue
		}
		assert.False(t, b.CreatedAt.Before(a.CreatedAt), "longest waiting first at %d", i)
	}

	// A conversation answered between two pages neither repeats nor
	// hides another.
	_, first := c.get("/")
	m := nextLink.FindStringSubmatch(first)
	require.NotNil(t, m)
	firstIDs := rowsOf(first)
	closed := firstIDs[0]
	_, err := e.st.SetConversationState(context.Background(), closed, "bo", parley.Closed, time.Time{}, "")
	require.NoError(t, err)
	rest, _ := c.walk(t, strings.ReplaceAll(m[1], "&amp;", "&"))
	assert.Len(t, append(firstIDs, rest...), 130)
	assert.NotContains(t, rest, closed)

	res, _ := c.get("/?after=1.2")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "a cursor of another view")
}

func TestInboxCountsAndViews(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(
		mention("1", "eve", "my wheels broke", parley.Negative, 10, 0),
		mention("2", "fay", "do you ship to Oslo?", parley.Neutral, 10, 1),
		mention("3", "gus", "love it", parley.Positive, 10, 2),
		mention("4", "hal", "where is my order", parley.Neutral, 10, 3),
	)
	agent := e.loggedIn("ag", parley.RoleAgent)
	manager := e.loggedIn("ma", parley.RoleManager)
	conv := func(i int) int64 { return e.draft(ids[i]).ThreadID }

	// The agent takes one, a manager gives another to the agent, one is
	// closed and one answered (approved: its reply is on its way).
	res, body := agent.postJSON(path("/threads/%d/assign", conv(0)), url.Values{"user": {"me"}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	res, body = manager.postJSON(path("/threads/%d/assign", conv(1)), url.Values{"user": {"ag"}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	res, _ = agent.postJSON(path("/threads/%d/assign", conv(3)), url.Values{"user": {"ma"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "agents take for themselves only")
	_, err := e.st.SetConversationState(ctx, conv(2), "ma", parley.Closed, time.Time{}, "")
	require.NoError(t, err)
	_, err = e.st.ApproveDraft(ctx, ids[3], "ma", "")
	require.NoError(t, err)

	_, page := agent.get("/")
	assert.Equal(t, map[string]int{"needs-reply": 2, "mine": 2, "unassigned": 0, "all": 4, "closed": 1}, countsOf(page))
	assert.Equal(t, []int64{conv(0), conv(1)}, rowsOf(page))
	assert.Contains(t, page, `<span class="chip chip-assigned">you</span>`, "the row names the assignee")

	_, page = manager.get("/?view=mine")
	assert.Empty(t, rowsOf(page))
	assert.Equal(t, 0, countsOf(page)["mine"])
	_, page = agent.get("/?view=mine")
	assert.Equal(t, []int64{conv(0), conv(1)}, rowsOf(page))
	_, page = agent.get("/?view=closed")
	assert.Equal(t, []int64{conv(2)}, rowsOf(page))
	_, page = agent.get("/?view=all")
	assert.Equal(t, []int64{conv(3), conv(2), conv(1), conv(0)}, rowsOf(page), "newest first")

	// Released, it is unassigned again.
	res, _ = agent.postJSON(path("/threads/%d/assign", conv(0)), url.Values{"user": {""}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	_, page = agent.get("/?view=unassigned")
	assert.Equal(t, []int64{conv(0)}, rowsOf(page))
	assert.Equal(t, 1, countsOf(page)["mine"])

	res, _ = agent.get("/?view=bogus")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
}

func TestInboxSearchAndFilters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	old := mention("1", "eve", "my #wheels broke after a week", parley.Negative, 10, 0)
	old.CreatedAt = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	disc := mention("2", "fay", "do you ship wheels to Oslo?", parley.Neutral, 10, 170)
	disc.Platform = parley.PlatformDiscord
	fresh := mention("3", "gus", "love the new deck", parley.Positive, 10, 175)
	ids := e.ingest(old, disc, fresh)
	c := e.loggedIn("ana", parley.RoleManager)
	_, err := e.st.AssignConversation(ctx, fresh.ThreadID, "ana", "ana")
	require.NoError(t, err)

	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"q=wheels", []int64{old.ThreadID, disc.ThreadID}},
		{"q=wheels+oslo", []int64{disc.ThreadID}},
		{"q=%40gus", []int64{fresh.ThreadID}},
		{"q=%23wheels", []int64{old.ThreadID}},
		{"q=nothing-like-this", nil},
		{"platform=discord", []int64{disc.ThreadID}},
		{"sentiment=positive", []int64{fresh.ThreadID}},
		{"tag=negative-tag", []int64{old.ThreadID}},
		{"rule=rule-neutral", []int64{disc.ThreadID}},
		{"assignee=ana", []int64{fresh.ThreadID}},
		{"assignee=-", []int64{old.ThreadID, disc.ThreadID}},
		{"since=2026-11-01&until=2026-11-02", []int64{old.ThreadID}},
		{"until=2026-11-01", nil},
		{"overdue=1", []int64{old.ThreadID}}, // waiting over the 1h target
		{"q=wheels&platform=mastodon", []int64{old.ThreadID}},
	} {
		_, page := c.get("/?view=all&" + tc.query)
		got := rowsOf(page)
		assert.ElementsMatch(t, tc.want, got, tc.query)
		assert.Equal(t, len(tc.want), countsOf(page)["all"], "%s: the count follows the filters", tc.query)
	}
	res, _ := c.get("/?since=yesterday")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	// /search is the inbox's filters over every conversation.
	res, _ = c.get("/search?q=deck")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc := res.Header.Get("Location")
	assert.Contains(t, loc, "view=all")
	_, page := c.get(loc)
	assert.Equal(t, []int64{fresh.ThreadID}, rowsOf(page))
	assert.Contains(t, page, `value="deck"`, "the search box keeps the words")
	_ = ids
}

// TestInboxSearchBeyondItsCap: a search matching more messages than one
// page reads says so and shows its counts as "at least" (1000+); a
// filtered count past its cap too; an unfiltered count stays exact.
func TestInboxSearchBeyondItsCap(t *testing.T) {
	e := newEnv(t)
	var ms []*parley.Mention
	for i := range parley.InboxSearchCap + 1 {
		ms = append(ms, mention(fmt.Sprint(i+1), fmt.Sprint("fan", i), "wheels again", parley.Neutral, 10, i))
	}
	e.ingest(ms...)
	c := e.loggedIn("ana", parley.RoleManager)
	_, page := c.get("/?view=all&q=wheels")
	assert.Contains(t, page, `data-view-count="all">1000+</span>`)
	assert.Contains(t, page, `aria-label="1000 or more conversations">1000+</span>`)
	assert.Contains(t, page, "More than 1000 messages match: these are the conversations of the newest 1000.")
	_, page = c.get("/?view=all&platform=mastodon")
	assert.Contains(t, page, `data-view-count="all">1000+</span>`)
	assert.NotContains(t, page, "More than 1000 messages match")
	_, page = c.get("/?view=all")
	assert.Contains(t, page, `data-view-count="all">1001</span>`)
}

// TestInboxFacetsFollowChanges: the filters' choices (kept between pages
// while nothing changes) take in a new draft's rule at once, and a chosen
// value no draft has shows on its page only.
func TestInboxFacetsFollowChanges(t *testing.T) {
	e := newEnv(t)
	e.ingest(mention("1", "eve", "my wheels broke", parley.Negative, 10, 0))
	c := e.loggedIn("ana", parley.RoleManager)
	_, page := c.get("/")
	assert.Contains(t, page, `<option value="rule-negative">`)
	assert.NotContains(t, page, `<option value="rule-positive"`)
	_, page = c.get("/?platform=bluesky")
	assert.Contains(t, page, `<option value="bluesky" selected>`)
	_, page = c.get("/")
	assert.NotContains(t, page, `value="bluesky"`, "the chosen value stays on its page")
	e.ingest(mention("2", "fay", "love it", parley.Positive, 10, 1))
	_, page = c.get("/")
	assert.Contains(t, page, `<option value="rule-positive">`, "a new draft's rule")
}

func TestBulkActions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(
		mention("1", "eve", "a", parley.Negative, 10, 0),
		mention("2", "fay", "b", parley.Neutral, 10, 1),
		mention("3", "gus", "c", parley.Positive, 10, 2),
	)
	quiet := mention("4", "hal", "d", parley.Neutral, 10, 3)
	_, err := e.st.IngestBatch(ctx, []*parley.Mention{quiet}, nil) // no draft
	require.NoError(t, err)
	conv := func(i int) string { return strconv.FormatInt(e.draft(ids[i]).ThreadID, 10) }
	agent := e.loggedIn("ag", parley.RoleAgent)
	manager := e.loggedIn("ma", parley.RoleManager)

	// Approve two and one without a draft: two done, one failed, said why.
	res, body := manager.postJSON("/bulk", url.Values{"action": {"approve"},
		"ids": {conv(0), conv(1), strconv.FormatInt(quiet.ThreadID, 10)}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var out struct {
		Done    []int64
		Failed  []struct{ ID int64 }
		Message string
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	assert.Len(t, out.Done, 2)
	require.Len(t, out.Failed, 1)
	assert.Equal(t, quiet.ThreadID, out.Failed[0].ID)
	assert.Contains(t, out.Message, "Approved 2 conversations. 1 failed:")
	assert.Contains(t, out.Message, "no draft waits in it")
	for _, i := range []int{0, 1} {
		d := e.draft(ids[i])
		assert.Equal(t, parley.DraftApproved, d.State)
		assert.Equal(t, "ma", d.DecidedBy)
	}
	audit, err := e.st.Audit(ctx, 100)
	require.NoError(t, err)
	approvals := map[int64]int{}
	for _, a := range audit {
		if a.Action == "approve" && a.Actor == "ma" {
			approvals[a.DraftID]++
		}
	}
	assert.Equal(t, map[int64]int{ids[0]: 1, ids[1]: 1}, approvals, "one audit entry per item")

	// Agents assign to themselves only; a manager assigns to anyone.
	res, _ = agent.postJSON("/bulk", url.Values{"action": {"assign"}, "user": {"ma"}, "ids": {conv(2)}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, body = manager.postJSON("/bulk", url.Values{"action": {"assign"}, "user": {"ag"},
		"ids": {conv(2), strconv.FormatInt(quiet.ThreadID, 10)}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	_, page := agent.get("/?view=mine")
	assert.Len(t, rowsOf(page), 2)

	// Reject and close; without JavaScript the summary is a flash.
	res, _ = agent.post("/bulk", url.Values{"action": {"reject"}, "ids": {conv(2)}}, "Referer", e.url+"/?view=mine")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/?view=mine", res.Header.Get("Location"))
	_, page = agent.get("/?view=mine")
	assert.Contains(t, page, "Rejected 1 conversation.")
	assert.Equal(t, parley.DraftRejected, e.draft(ids[2]).State)
	res, _ = agent.postJSON("/bulk", url.Values{"action": {"close"}, "ids": {conv(2), strconv.FormatInt(quiet.ThreadID, 10)}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	_, page = agent.get("/?view=closed")
	assert.Len(t, rowsOf(page), 2)
	audit, err = e.st.Audit(ctx, 100)
	require.NoError(t, err)
	closes := 0
	for _, a := range audit {
		if a.Action == "close" && a.Actor == "ag" {
			closes++
		}
	}
	assert.Equal(t, 2, closes)

	res, _ = agent.postJSON("/bulk", url.Values{"action": {"explode"}, "ids": {conv(0)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res, _ = agent.postJSON("/bulk", url.Values{"action": {"close"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "nothing ticked")
}
