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
	"github.com/parleybot/parley/web"
)

// loginBrowser logs ana in and opens path.
func loginBrowser(t *testing.T, b *browser, e *testEnv, path string, wait chromedp.Action[chromedp.Void]) {
	t.Helper()
	b.do(t,
		chromedp.Navigate(e.url+"/login?next="+path),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "ana"),
		chromedp.SendKeys(chromedp.ID("password"), "a good long password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		wait,
	)
}

func TestBrowserUndoWithinTheGracePeriod(t *testing.T) {
	// A grace period long enough that Undo is on time however slow the
	// machine; the store's clock is the real one.
	e, _ := graceEnv(t, 10*time.Minute)
	ids := e.ingest(mention("1", "eve", "my deck cracked", parley.Negative, 10, 0))
	d := e.draft(ids[0])
	e.addUser("ana", parley.RoleAgent, "a good long password")
	b := newBrowser(t, 60*time.Second)
	editor := fmt.Sprintf("#editor-%d", d.ID)
	loginBrowser(t, b, e, fmt.Sprintf("/threads/%d", d.ThreadID), chromedp.WaitVisible(chromedp.CSS(editor)))

	b.do(t,
		chromedp.Click(chromedp.CSS(editor+" button.btn-primary")),
		chromedp.WaitVisible(chromedp.CSS(".toast-undo button[data-undo]")),
	)
	assert.Equal(t, parley.DraftApproved, e.draft(d.ID).State)
	b.do(t,
		chromedp.Click(chromedp.CSS(".toast-undo button[data-undo]")),
		// The page reloads with the draft back in its editor.
		chromedp.WaitVisible(chromedp.CSS(editor+" textarea")),
	)
	require.Eventually(t, func() bool { return e.draft(d.ID).State == parley.DraftPending }, 5*time.Second, 20*time.Millisecond)
	audit, err := e.st.Audit(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, "undo", audit[0].Action)
	claimed, err := e.st.ClaimDrafts(context.Background(), 10, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, claimed, "nothing left to post")
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Empty(t, b.exceptions, "no JavaScript errors")
}

func TestBrowserSavedReplyInsertedIntoADraft(t *testing.T) {
	ctx := context.Background()
	e, _ := graceEnv(t, 0, withTemplates(t, "Tidewater"), func(_ *web.Config, o *web.Options) {
		o.TextLimit = func(string) int { return 500 }
	})
	ids := e.ingest(mention("1", "fay", "do you ship to Oslo?", parley.Neutral, 10, 0))
	d := e.draft(ids[0])
	sr, err := e.st.SaveReply(ctx, "maya", parley.SavedReply{Title: "Shipping abroad",
		Text: "Hi {{first .Person}}! {{.Brand}} ships to Norway in 3-5 days."})
	require.NoError(t, err)
	_, err = e.st.SaveReply(ctx, "maya", parley.SavedReply{Title: "Returns", Text: "30 days."})
	require.NoError(t, err)
	e.addUser("ana", parley.RoleAgent, "a good long password")
	b := newBrowser(t, 60*time.Second)
	editor := fmt.Sprintf("#editor-%d", d.ID)
	loginBrowser(t, b, e, fmt.Sprintf("/threads/%d", d.ThreadID), chromedp.WaitVisible(chromedp.CSS(editor)))

	// Empty the text, then Ctrl+K in it opens the picker; typing filters;
	// the reply picked is inserted rendered for Fay.
	b.eval(t, `(function(){var ta=document.querySelector('`+editor+` textarea'); ta.value=''; ta.focus(); return ''})()`)
	b.do(t,
		chromedp.KeyEvent("k", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitVisible(chromedp.CSS("dialog.picker .picker-q")),
		chromedp.WaitVisible(chromedp.CSS("dialog.picker .picker-item")),
		chromedp.SendKeys(chromedp.CSS("dialog.picker .picker-q"), "norway"),
	)
	require.Eventually(t, func() bool {
		return b.eval(t, `String(document.querySelectorAll('dialog.picker .picker-item').length)`) == "1"
	}, 5*time.Second, 50*time.Millisecond, "the search keeps one")
	b.do(t, chromedp.Click(chromedp.CSS("dialog.picker .picker-item")))
	assert.Equal(t, "Hi Fay! Tidewater ships to Norway in 3-5 days.", b.eval(t, `document.querySelector('`+editor+` textarea').value`))
	assert.Equal(t, "46 / 500", b.eval(t, `document.querySelector('`+editor+` .charcount').textContent`))

	// Approving counts the use.
	b.do(t, chromedp.Click(chromedp.CSS(editor+" button.btn-primary")), chromedp.WaitVisible(chromedp.CSS(editor+" .editor-done")))
	got := e.draft(d.ID)
	assert.Equal(t, parley.DraftApproved, got.State)
	assert.Equal(t, "Hi Fay! Tidewater ships to Norway in 3-5 days.", got.Text)
	used, err := e.st.SavedReply(ctx, sr.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, used.Uses)
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Empty(t, b.exceptions, "no JavaScript errors")
}
