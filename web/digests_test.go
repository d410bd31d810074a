package web_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
)

// digestHTML is a page like the digest renderer's: inline style, inline
// SVG, links; and a script that must never run.
const digestHTML = `<!doctype html><html><head><meta charset="utf-8"><title>Week 46</title>` +
	`<style>body{font-family:sans-serif}</style></head><body><h1>Week 46</h1>` +
	`<svg width="10" height="10"><rect width="10" height="10" fill="red"/></svg>` +
	`<a href="https://skate.social/@jules/1">@jules</a><script>window.__digest=1</script></body></html>`

// saveDigest stores a week's digest as parley digest --send does.
func saveDigest(t *testing.T, st *store.Store, rec parley.DigestRecord) {
	t.Helper()
	ctx := context.Background()
	monday, err := time.Parse("2006-01-02", map[string]string{"2026-W46": "2026-11-09", "2026-W47": "2026-11-16", "2026-W45": "2026-11-02"}[rec.Week])
	require.NoError(t, err)
	loc, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	start := time.Date(monday.Year(), monday.Month(), monday.Day(), 0, 0, 0, 0, loc)
	_, err = st.ClaimDigest(ctx, parley.DigestRecord{Week: rec.Week, TimeZone: "Europe/Berlin", Start: start, End: start.AddDate(0, 0, 7)},
		"test", time.Now().Add(time.Hour), false)
	require.NoError(t, err)
	require.NoError(t, st.SaveDigest(ctx, rec, "test"))
}

func TestDigestPages(t *testing.T) {
	e := newEnv(t)
	manager := e.loggedIn("ma", parley.RoleManager)
	agent := e.loggedIn("ag", parley.RoleAgent)

	// No digest yet: the page says how they are made.
	res, body := manager.get("/digests")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `id="no-digests"`)
	assert.Contains(t, body, "parley digest --week LAST --send")
	assert.Contains(t, body, "parley run")
	assert.Contains(t, body, `<a href="/digests" aria-current="page">Digests</a>`, "in the nav, current")

	// Digests are for managers: agents neither see the link nor the page.
	res, body = agent.get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, body, `href="/digests"`)
	res, _ = agent.get("/digests")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = agent.get("/digests/2026-W46/view")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	built := time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)
	saveDigest(t, e.st, parley.DigestRecord{Week: "2026-W46", Status: parley.DigestPartial, BuiltAt: built,
		Summary: "214 mentions (+12%) · 18% negative · 71% replied", Markdown: "# Week 46\n", HTML: digestHTML,
		Deliveries: []parley.DigestDelivery{
			{Target: "file ./digests", Type: "file", OK: true, Attempts: 1, At: built, Detail: "./digests/2026-W46.html"},
			{Target: "email to ana@example.com", Type: "email", Attempts: 3, At: built, Error: "smtp: 535 authentication failed"},
		}})
	saveDigest(t, e.st, parley.DigestRecord{Week: "2026-W47", Status: parley.DigestStored, BuiltAt: built.AddDate(0, 0, 7),
		Summary: "3 mentions", Text: "Week 47\n", HTML: "<header>W47</header><p>week 47</p>"})

	res, body = manager.get("/digests")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, body, `id="no-digests"`)
	w47, w46 := strings.Index(body, `href="/digests/2026-W47"`), strings.Index(body, `href="/digests/2026-W46"`)
	assert.True(t, w47 > 0 && w46 > w47, "newest week first: %d %d", w47, w46)
	assert.Contains(t, body, "9 Nov – 15 Nov 2026", "the week in its own time zone")
	assert.Contains(t, html.UnescapeString(body), "214 mentions (+12%) · 18% negative · 71% replied")
	assert.Contains(t, body, `chip-digest-partial">partial`)
	assert.Contains(t, body, `chip-digest-stored">stored`)
	assert.Contains(t, body, `<span class="delivered-ok">1 ok</span>`)
	assert.Contains(t, body, `title="email to ana@example.com: smtp: 535 authentication failed">1 failed</span>`)
	assert.Contains(t, body, "no targets", "W47 went nowhere")

	// One digest: deliveries, the frame, the downloads it has.
	res, body = manager.get("/digests/2026-W46")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `<iframe class="digest-frame" src="/digests/2026-W46/view"`)
	assert.Regexp(t, `<iframe [^>]*sandbox="allow-popups allow-popups-to-escape-sandbox"`, body, "no allow-scripts, no allow-same-origin")
	assert.Contains(t, body, `href="/digests/2026-W46/digest.md" download`)
	assert.NotContains(t, body, `digest.txt`, "W46 has no text body")
	assert.Contains(t, body, "smtp: 535 authentication failed")
	assert.Contains(t, body, "./digests/2026-W46.html")
	assert.NotContains(t, body, "window.__digest", "the body is not in the page itself")
	csp := res.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "style-src 'self';", "the inbox's own pages keep their strict policy")
	assert.NotContains(t, csp, "unsafe-inline")

	// The digest's HTML, alone, under its own policy: inline styles and
	// data: images, no script, framable by the inbox only.
	res, body = manager.get("/digests/2026-W46/view")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	csp = res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'unsafe-inline'", "img-src data:", "frame-ancestors 'self'", "sandbox allow-popups"} {
		assert.Contains(t, csp, want)
	}
	assert.NotContains(t, csp, "script-src")
	assert.NotContains(t, csp, "allow-scripts")
	assert.Equal(t, "SAMEORIGIN", res.Header.Get("X-Frame-Options"))
	assert.Contains(t, res.Header.Get("Cache-Control"), "no-store")
	assert.Equal(t, strings.Replace(digestHTML, "<head>", `<head><base target="_blank">`, 1), body, "served as built, links open a tab")

	// Downloads.
	res, body = manager.get("/digests/2026-W46/digest.md")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "# Week 46\n", body)
	assert.Equal(t, `attachment; filename="parley-digest-2026-W46.md"`, res.Header.Get("Content-Disposition"))
	assert.Equal(t, "text/markdown; charset=utf-8", res.Header.Get("Content-Type"))
	res, body = manager.get("/digests/2026-W46/digest.html")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, digestHTML, body)
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'")
	res, body = manager.get("/digests/2026-W47/digest.txt")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Week 47\n", body)
	assert.Equal(t, `attachment; filename="parley-digest-2026-W47.txt"`, res.Header.Get("Content-Disposition"))
	_, body = manager.get("/digests/2026-W47/view")
	assert.Equal(t, `<base target="_blank"><header>W47</header><p>week 47</p>`, body, "a fragment without a head")
	_, body = manager.get("/digests/2026-W47")
	assert.Contains(t, body, `href="/digests/2026-W47/digest.txt" download`)
	assert.NotContains(t, body, `digest.md`)

	// What is not there says so.
	for _, p := range []string{"/digests/2026-W01", "/digests/nonsense", "/digests/2026-W46/other",
		"/digests/2026-W47/digest.md", "/digests/2026-W01/view", "/digests/..%2f..%2fetc/view"} {
		res, _ = manager.get(p)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, p)
	}
	_, body = manager.get("/digests/2026-W47/digest.md")
	assert.Contains(t, body, "has no Markdown version")

	// Logged out: to the login page, nothing served.
	res, body = e.client().get("/digests/2026-W46/view")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.NotContains(t, body, "Week 46")
}
