package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// TestBrowserBulkApprove ticks conversations with x and Shift+click and
// approves their drafts at once; each is approved with its own audit entry
// and the summary says what happened. Enter opens a conversation in the
// pane.
func TestBrowserBulkApprove(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(
		mention("1", "eve", "first", parley.Negative, 10, 0),
		mention("2", "fay", "second", parley.Negative, 10, 1),
		mention("3", "gus", "third", parley.Negative, 10, 2),
		mention("4", "hal", "fourth", parley.Negative, 10, 3),
	)
	e.addUser("ana", parley.RoleManager, "a good long password")
	b := newBrowser(t, 60*time.Second)
	b.do(t,
		chromedp.Navigate(e.url+"/login"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "ana"),
		chromedp.SendKeys(chromedp.ID("password"), "a good long password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)),
	)
	row := func(i int) string { return "#" + e.conv(ids[i]) }

	// j moves down, Enter opens the conversation in the pane.
	b.do(t, chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#pane .conv-pane[data-conv-id="%d"]`, e.draft(ids[1]).ThreadID))))
	assert.Equal(t, e.conv(ids[1]), b.selected(t))

	// x ticks the selected one; a click and a Shift+click tick a range.
	b.do(t, chromedp.KeyEvent("x"))
	b.do(t, chromedp.Click(chromedp.CSS(row(2)+" .row-check")))
	b.eval(t, fmt.Sprintf(`document.querySelector('%s .row-check').dispatchEvent(new MouseEvent('click', {bubbles: true, shiftKey: true})), ''`, row(0)))
	assert.Equal(t, "3", b.eval(t, `String(document.querySelectorAll('.row-check:checked').length)`), "rows 0 to 2 ticked")
	assert.Equal(t, "3 ticked", b.eval(t, `document.getElementById('bulk-count').textContent`))

	b.do(t,
		chromedp.SetValue(chromedp.ID("bulk-action"), "approve"),
		chromedp.Click(chromedp.CSS(`#bulk button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(row(0))),
		chromedp.WaitNotPresent(chromedp.CSS(row(1))),
		chromedp.WaitNotPresent(chromedp.CSS(row(2))),
		chromedp.WaitVisible(chromedp.CSS(row(3))),
	)
	toast := b.eval(t, `[...document.querySelectorAll('.toast')].map(t => t.textContent).join(' | ')`)
	assert.Contains(t, toast, "Approved 3 conversations.")
	for _, i := range []int{0, 1, 2} {
		assert.Equal(t, parley.DraftApproved, e.draft(ids[i]).State)
	}
	assert.Equal(t, parley.DraftPending, e.draft(ids[3]).State)
	audit, err := e.st.Audit(ctx, 50)
	require.NoError(t, err)
	n := 0
	for _, a := range audit {
		if a.Action == "approve" && a.Actor == "ana" {
			n++
		}
	}
	assert.Equal(t, 3, n, "one audit entry each")
	assert.Equal(t, "0", b.eval(t, `String(document.querySelectorAll('.row-check:checked').length)`), "the ticks are cleared")

	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Empty(t, b.exceptions, "no JavaScript errors")
}
