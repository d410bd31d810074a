package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// chromium returns the browser binary, or skips the test when there is
// none (CI installs Debian's chromium package, so there they run).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser tests skipped: no chromium or chromium-browser binary on PATH (apt-get install chromium)")
	return ""
}

// browser starts headless chromium with a fresh profile and returns a tab.
// JavaScript dialogs (alert...) are counted and dismissed; uncaught
// exceptions in the page are collected.
//
// The tab lives until shortly before the test binary's deadline (go test
// -timeout), and for at least atLeast: every step waits for a condition,
// and a fixed budget for the whole test fails it on a busy machine (the
// full suite under -race on two cores) although nothing is wrong. A step
// that hangs still fails, with the step's error, before the binary's
// timeout panics.
type browser struct {
	ctx        context.Context
	mu         sync.Mutex
	dialogs    []string
	exceptions []string
}

func newBrowser(t *testing.T, atLeast time.Duration) *browser {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	end := time.Now().Add(atLeast)
	if d, ok := t.Deadline(); ok && d.Add(-30*time.Second).After(end) {
		end = d.Add(-30 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), end)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	b := &browser{ctx: bctx}
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("about:blank")), "start chromium")

	dialogs := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			// The dialog was recorded above; dismissing it only unblocks the page.
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	exceptions := chromedp.Events(bctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.exceptions = append(b.exceptions, (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
			b.mu.Unlock()
		}
	}()
	return b
}

func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(b.ctx, actions...))
}

func (b *browser) eval(t *testing.T, js string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	require.NoError(t, err, js)
	return s
}

// selected is the id of the selected conversation's row.
func (b *browser) selected(t *testing.T) string {
	return b.eval(t, `(document.querySelector('.row.is-selected') || {id: ''}).id`)
}

// conv is the id of the row of the conversation of draft id.
func (e *testEnv) conv(id int64) string { return fmt.Sprintf("conv-%d", e.draft(id).ThreadID) }

// selectCard moves the selection with j/k until row id is selected, and
// waits for the detail pane to show it.
func (b *browser) selectCard(t *testing.T, id string) {
	t.Helper()
	b.selectRow(t, id)
	b.do(t, chromedp.WaitVisible(chromedp.CSS(`#pane .conv-pane[data-conv-id="`+strings.TrimPrefix(id, "conv-")+`"]`)))
}

func (b *browser) selectRow(t *testing.T, id string) {
	t.Helper()
	for range 2 {
		for _, key := range []string{"k", "j"} {
			for range 12 {
				if b.selected(t) == id {
					return
				}
				b.do(t, chromedp.KeyEvent(key))
			}
		}
	}
	t.Fatalf("could not select %s with j/k; selected is %q", id, b.selected(t))
}

func TestBrowserInbox(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, 50*time.Second)
	ctx := context.Background()
	ids := e.ingest(
		mention("1", "eve", `<script>window.__pwned = 1; alert("pwned")</script><img src=x onerror="window.__pwned=2">`, parley.Negative, 10, 0),
		mention("2", "fay", "do you ship to Oslo?", parley.Neutral, 10, 1),
		mention("3", "gus", "the new wheels are sick", parley.Positive, 10, 2),
	)
	e.addUser("ana", parley.RoleManager, "a good long password")

	// Not logged in: the inbox sends us to the login page.
	b.do(t, chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.ID("name")))
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, e.url+"/login?next="+url.QueryEscape("/"), loc)

	// Log in.
	b.do(t,
		chromedp.SendKeys(chromedp.ID("name"), "ana"),
		chromedp.SendKeys(chromedp.ID("password"), "a good long password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("queue")),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)),
	)
	loaded := time.Now()

	// A post with a script in it shows as text and runs nothing (the
	// most urgent conversation is open in the pane).
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(fmt.Sprintf(`#pane #draft-%d .post p`, ids[0]))))
	require.NoError(t, err)
	assert.Equal(t, `<script>window.__pwned = 1; alert("pwned")</script><img src=x onerror="window.__pwned=2">`, text)
	assert.Equal(t, "undefined", b.eval(t, `String(window.__pwned)`))

	// The most urgent (the negative, priority 5) is selected first.
	assert.Equal(t, e.conv(ids[0]), b.selected(t))

	// A draft written by another process arrives live.
	newIDs := e.ingest(mention("4", "hal", "my order never arrived", parley.Negative, 20000, 3))
	live := e.conv(newIDs[0])
	b.do(t, chromedp.WaitVisible(chromedp.ID(live)))
	count, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.ID("queue-count")))
	require.NoError(t, err)
	assert.Equal(t, "4", count)
	assert.Equal(t, e.conv(ids[0]), b.selected(t), "the selection stays across the live update")

	// Approve it with the keyboard: answered, it leaves the list.
	b.selectCard(t, live)
	b.do(t, chromedp.KeyEvent("a"), chromedp.WaitNotPresent(chromedp.ID(live)))
	d := e.draft(newIDs[0])
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.Equal(t, "ana", d.DecidedBy)
	t.Logf("page loaded to a live draft approved by keyboard: %s", time.Since(loaded).Round(time.Millisecond))

	// Edit, then approve with Ctrl+Enter.
	second := e.conv(ids[1])
	b.selectCard(t, second)
	b.do(t, chromedp.KeyEvent("e"))
	b.do(t, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#text-%d", ids[1]))))
	focused := b.eval(t, `document.activeElement.id`)
	assert.Equal(t, fmt.Sprintf("text-%d", ids[1]), focused, "e focuses the text")
	typed := b.eval(t, `document.activeElement.value`)
	assert.Equal(t, "Thanks Fay!", typed, "the e is not typed into the text")
	b.eval(t, `document.activeElement.select(), ''`) // select all, as ctrl+a would
	b.do(t,
		chromedp.KeyEvent("We ship to Norway in 3-5 days."),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitNotPresent(chromedp.ID(second)),
	)
	d = e.draft(ids[1])
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.Equal(t, "We ship to Norway in 3-5 days.", d.Text)

	// Reject with r: the conversation still needs a reply, with no draft;
	// c closes it.
	third := e.conv(ids[2])
	b.selectCard(t, third)
	b.do(t, chromedp.KeyEvent("r"), chromedp.WaitVisible(chromedp.CSS("#"+third+`[data-draft-id="0"]`)))
	assert.Equal(t, parley.DraftRejected, e.draft(ids[2]).State)
	b.do(t, chromedp.KeyEvent("c"), chromedp.WaitNotPresent(chromedp.ID(third)))
	c, err := e.st.Conversation(ctx, e.draft(ids[2]).ThreadID)
	require.NoError(t, err)
	assert.Equal(t, parley.Closed, c.State)

	// Someone else approves the last one: it leaves this page by itself.
	_, err = e.st.ApproveDraft(ctx, ids[0], "bo", "")
	require.NoError(t, err)
	b.do(t, chromedp.WaitNotPresent(chromedp.ID(e.conv(ids[0]))), chromedp.WaitVisible(chromedp.ID("empty")))
	empty, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.ID("empty")))
	require.NoError(t, err)
	assert.Contains(t, empty, "Inbox zero")

	// ? opens the help.
	b.do(t, chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.ID("help")))

	// The person and thread pages render the script as text too.
	b.do(t, chromedp.Navigate(e.url+"/threads/1"), chromedp.WaitVisible(chromedp.CSS(".messages")))
	b.do(t, chromedp.Navigate(e.url+"/people/1"), chromedp.WaitVisible(chromedp.CSS(".chart")))
	assert.Equal(t, "undefined", b.eval(t, `String(window.__pwned)`))

	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Empty(t, b.dialogs, "no script from a post ran")
	assert.Empty(t, b.exceptions, "no JavaScript errors")

	if os.Getenv("PARLEY_UPDATE_SCREENSHOTS") == "" {
		return
	}
	t.Log("PARLEY_UPDATE_SCREENSHOTS is set: see TestBrowserScreenshots")
}

func TestBrowserNoJavaScriptNeededToLogIn(t *testing.T) {
	// The login form is a plain form: it works with JavaScript off too,
	// and a wrong password says so.
	e := newEnv(t)
	e.addUser("ana", parley.RoleAgent, "a good long password")
	b := newBrowser(t, 30*time.Second)
	b.do(t,
		chromedp.Navigate(e.url+"/people"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "ana"),
		chromedp.SendKeys(chromedp.ID("password"), "wrong password!"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("login-error")),
	)
	msg, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.ID("login-error")))
	require.NoError(t, err)
	assert.True(t, strings.Contains(msg, "do not match"), msg)
	b.do(t,
		chromedp.SendKeys(chromedp.ID("password"), "a good long password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("q")),
	)
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, e.url+"/people", loc, "back where we were going")
}
