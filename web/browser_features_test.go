package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// TestBrowserCorrectionsAndDigest corrects a sentiment in place on the
// thread page and on an inbox card, and shows that a digest's own page
// gets its inline styles but runs no script.
func TestBrowserCorrectionsAndDigest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(mention("1", "jules", "this deck is sick", parley.Negative, 10, 0),
		mention("2", "fay", "meh, it is fine", parley.Positive, 10, 1))
	first, second := e.draft(ids[0]), e.draft(ids[1])
	saveDigest(t, e.st, parley.DigestRecord{Week: "2026-W46", Status: parley.DigestStored, Summary: "2 mentions",
		BuiltAt: time.Now(), Markdown: "# Week 46", HTML: strings.Replace(digestHTML, "<style>", "<style>h1{color:rgb(1, 2, 3)}", 1)})
	e.addUser("ana", parley.RoleManager, "a good long password")
	b := newBrowser(t, 50*time.Second)
	b.do(t,
		chromedp.Navigate(e.url+"/login"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "ana"),
		chromedp.SendKeys(chromedp.ID("password"), "a good long password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("queue")),
	)

	// Thread page: open the control, pick positive; the message updates in place.
	msg := fmt.Sprintf("#mention-%d", first.MentionID)
	b.do(t,
		chromedp.Navigate(fmt.Sprintf("%s/threads/%d", e.url, first.ThreadID)),
		chromedp.WaitVisible(chromedp.CSS(msg)),
		chromedp.Click(chromedp.CSS(msg+" details.correct summary")),
		chromedp.WaitVisible(chromedp.CSS(msg+` button[value="positive"]`)),
		chromedp.Click(chromedp.CSS(msg+` button[value="positive"]`)),
		chromedp.WaitVisible(chromedp.CSS(msg+".msg-positive .chip-corrected")),
	)
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Contains(t, loc, "/threads/", "no page load")
	m, err := e.st.Mention(ctx, first.MentionID)
	require.NoError(t, err)
	assert.Equal(t, parley.Positive, m.Sentiment.Label)

	// Inbox card (in the pane, its conversation opened): the card comes
	// back fresh with the new chip.
	card := fmt.Sprintf("#pane #draft-%d", ids[1])
	b.do(t,
		chromedp.Navigate(fmt.Sprintf("%s/?c=%d", e.url, second.ThreadID)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)),
	)
	// The stream sends the newest drafts once more right after connecting
	// (its overlap); let that settle before opening a card's control (an
	// open control is then kept, like an open editor).
	time.Sleep(300 * time.Millisecond)
	b.do(t,
		chromedp.Click(chromedp.CSS(card+" details.correct summary")),
	)
	b.do(t,
		chromedp.WaitVisible(chromedp.CSS(card+` button[value="neutral"]`)),
		chromedp.Click(chromedp.CSS(card+` button[value="neutral"]`)),
		chromedp.WaitVisible(chromedp.CSS(card+".card-neutral .chip-corrected")),
	)
	m, err = e.st.Mention(ctx, second.MentionID)
	require.NoError(t, err)
	assert.Equal(t, parley.Neutral, m.Sentiment.Label)
	assert.Equal(t, "1", b.eval(t, `String(document.querySelectorAll('#pane .card').length)`), "the card stays")
	assert.Equal(t, "2", b.eval(t, `String(document.querySelectorAll('#queue .row').length)`), "both conversations stay")

	// The digest page frames the digest; the digest alone has its styles
	// and no script ran.
	b.do(t,
		chromedp.Navigate(e.url+"/digests/2026-W46"),
		chromedp.WaitVisible(chromedp.CSS("iframe.digest-frame")),
	)
	// The frame loads, out of the page's process: sandboxed, it has an
	// opaque origin (a refused frame would show Chrome's error page).
	var frame *target.Info
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for frame == nil {
		targets, err := chromedp.Targets(b.ctx)
		require.NoError(t, err, "waiting for the digest frame")
		for _, ti := range targets {
			if ti.Type == "iframe" && ti.URL != "" && ti.URL != "about:blank" {
				frame = ti
			}
		}
		if frame == nil {
			select {
			case <-poll.C:
			case <-b.ctx.Done():
			}
		}
	}
	require.NotNil(t, frame, "the digest frame loads")
	assert.Equal(t, e.url+"/digests/2026-W46/view", frame.URL)
	b.do(t,
		chromedp.Navigate(e.url+"/digests/2026-W46/view"),
		chromedp.WaitVisible(chromedp.CSS("svg")),
	)
	assert.Equal(t, "rgb(1, 2, 3)", b.eval(t, `getComputedStyle(document.querySelector('h1')).color`), "inline styles apply")
	assert.Equal(t, "undefined", b.eval(t, `String(window.__digest)`), "the script did not run")
	assert.Equal(t, "_blank", b.eval(t, `document.querySelector('base').target`), "links open a tab")

	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Empty(t, b.dialogs)
	assert.Empty(t, b.exceptions, "no JavaScript errors")
}
