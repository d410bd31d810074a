package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// overflowJS says whether the page scrolls sideways and, if it does,
// which elements stick out on the right.
const overflowJS = `(() => {
	const w = innerWidth, sw = document.scrollingElement.scrollWidth;
	if (sw <= w) return "ok";
	const out = [];
	for (const el of document.querySelectorAll("body *")) {
		const r = el.getBoundingClientRect();
		if (r.right > w + 1 && out.length < 5) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className + " right=" + Math.round(r.right));
	}
	return "scrollWidth " + sw + " > innerWidth " + w + ": " + out.join("; ");
})()`

// TestBrowserMobile visits every page at 390 px (a phone) with touch: no
// page scrolls sideways, the navigation is a menu, the inbox's filters
// are folded so the first conversation shows on the first screen, and
// keyboard hints are hidden.
func TestBrowserMobile(t *testing.T) {
	e := newEnv(t)
	ids := e.ingest(
		mention("1", "eve", strings.Repeat("averyveryverylongwordwithoutanyspaces", 4)+" my wheels broke", parley.Negative, 52000, 0),
		mention("2", "fay", "do you ship to Oslo? https://example.com/"+strings.Repeat("x", 120), parley.Neutral, 10, 1),
	)
	saveDigest(t, e.st, parley.DigestRecord{Week: "2026-W46", Status: parley.DigestStored, Summary: "2 mentions",
		BuiltAt: time.Now(), Markdown: "# Week 46", HTML: digestHTML})
	e.addUser("root", parley.RoleAdmin, "a good long password")
	b := newBrowser(t, 90*time.Second)
	b.do(t,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateTouch),
		chromedp.Navigate(e.url+"/login"),
		chromedp.WaitVisible(chromedp.ID("name")),
	)
	assert.Equal(t, "ok", b.eval(t, overflowJS), "/login")
	b.do(t,
		chromedp.SendKeys(chromedp.ID("name"), "root"),
		chromedp.SendKeys(chromedp.ID("password"), "a good long password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("queue")),
	)

	// The navigation is folded into a menu that opens.
	assert.Equal(t, "false", b.eval(t, `String(document.querySelector('.mainnav').checkVisibility())`), "the nav is folded")
	b.do(t, chromedp.Click(chromedp.CSS(`.nav-toggle-label`)), chromedp.WaitVisible(chromedp.CSS(`.mainnav a[href="/users"]`)))
	assert.Equal(t, "ok", b.eval(t, overflowJS), "the open menu")
	// Every page the menu links to, and the others.
	links := b.eval(t, `[...document.querySelectorAll('.topbar a[href^="/"]')].map(a => a.getAttribute('href')).join(' ')`)
	pages := strings.Fields(links)
	conv := e.draft(ids[0]).ThreadID
	for _, p := range []string{
		"/", "/?view=all", fmt.Sprintf("/?c=%d", conv), "/?view=all&q=wheels&platform=mastodon",
		fmt.Sprintf("/threads/%d", conv), fmt.Sprintf("/people/%d", e.draft(ids[0]).PersonID), "/people",
		"/activity", "/digests", "/digests/2026-W46", "/users", "/account", "/no-such-page",
	} {
		if !slices.Contains(pages, p) {
			pages = append(pages, p)
		}
	}
	require.Greater(t, len(pages), 10)
	for _, p := range pages {
		b.do(t, chromedp.Navigate(e.url+p), chromedp.WaitReady(chromedp.CSS("body")))
		assert.Equal(t, "ok", b.eval(t, overflowJS), "%s scrolls sideways at 390 px", p)
	}

	// The inbox: filters folded, a conversation on the first screen, no
	// keyboard hints on a touch screen.
	b.do(t, chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("#rows .row")))
	assert.Equal(t, "false", b.eval(t, `String(document.querySelector('details.filters').open)`))
	assert.Equal(t, "true", b.eval(t, `String(document.querySelector('#rows .row').getBoundingClientRect().bottom <= innerHeight)`),
		"the first conversation shows on the first screen")
	assert.Equal(t, "false", b.eval(t, `String(document.querySelector('.page-head .kbd-hint').checkVisibility())`), "no keyboard hints on touch")
	assert.Equal(t, "false", b.eval(t, `String(document.querySelector('#pane').checkVisibility())`), "one column: the pane opens when chosen")

	// The check sees an overflow when there is one.
	b.eval(t, `document.querySelector('main').append(Object.assign(document.createElement('div'), {style: 'width: 600px; height: 1px'})), ''`)
	assert.Contains(t, b.eval(t, overflowJS), "scrollWidth")

	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Empty(t, b.exceptions, "no JavaScript errors")
}
