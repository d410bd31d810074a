package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// views holds the parsed pages and the static files' versions.
type views struct {
	pages    map[string]*template.Template
	versions map[string]string // static file -> content hash, for cache busting
	files    fs.FS
	limit    func(platform string) int // Options.TextLimit
	now      func() time.Time
}

// undoable says whether d was approved moments ago and can still be
// undone (its grace period lasts).
func (v *views) undoable(d parley.Draft) bool {
	return d.State == parley.DraftApproved && d.Attempts == 0 && d.SendAfter.After(v.now())
}

// charLimit is a platform's post length limit for the editor's counter,
// 0 when unknown (the counter then only counts).
func (v *views) charLimit(platform string) int {
	if v.limit == nil {
		return 0
	}
	return v.limit(platform)
}

func newViews(limit func(platform string) int, now func() time.Time) (*views, error) {
	v := &views{pages: map[string]*template.Template{}, versions: map[string]string{}, limit: limit, now: now}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	v.files = sub
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		v.versions[p] = hex.EncodeToString(sum[:4])
		return nil
	})
	if err != nil {
		return nil, err
	}
	base, err := template.New("").Funcs(v.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/partials.html",
		"templates/conversation.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "layout" || name == "partials" || name == "conversation" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, p)
		if err != nil {
			return nil, err
		}
		v.pages[name] = t
	}
	return v, nil
}

// static returns the URL of a static file with its version.
func (v *views) static(name string) string {
	return "/static/" + name + "?v=" + v.versions[name]
}

func (v *views) staticHandler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(v.files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

func (v *views) funcs() template.FuncMap {
	return template.FuncMap{
		"static":       v.static,
		"charLimit":    v.charLimit,
		"undoable":     v.undoable,
		"ago":          ago,
		"iso":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"when":         func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
		"day":          func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"count":        humanCount,
		"waiting":      waiting,
		"score":        func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
		"pct":          func(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" },
		"platformName": platformName,
		"initials":     initials,
		"sentimentChip": func(l parley.Label) string {
			if !l.Valid() {
				return "chip"
			}
			return "chip chip-" + string(l)
		},
		"stateChip": func(s parley.DraftState) string { return "chip chip-state-" + string(s) },
		"atLeast": func(u *parley.User, role string) bool {
			return u != nil && u.Role.AtLeast(parley.Role(role))
		},
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		"add":      func(a, b int) int { return a + b },
		"clipText": func(s string, n int) string { return textutil.Truncate(textutil.OneLine(s), n) },
		"firstLetter": func(s string) string {
			for _, r := range s {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"join": strings.Join,
		// correction is the data of the sentiment correction control
		// (partial "correct-sentiment"); draftID is set on inbox cards.
		"correction": func(m parley.Mention, csrf string, draftID int64) correctionForm {
			return correctionForm{Mention: m, CSRF: csrf, DraftID: draftID, Corrected: isCorrected(m), Labels: parley.Labels}
		},
	}
}

// correctionForm is the data of the sentiment chip with its correction
// control.
type correctionForm struct {
	Mention   parley.Mention
	CSRF      string
	DraftID   int64
	Corrected bool
	Labels    []parley.Label
}

func platformName(p string) string {
	switch p {
	case parley.PlatformMastodon:
		return "Mastodon"
	case parley.PlatformDiscord:
		return "Discord"
	}
	if p == "" {
		return ""
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

func initials(p parley.Person) string {
	name := strings.TrimSpace(p.DisplayName())
	var out []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if r != '@' {
				out = append(out, r)
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return strings.ToUpper(string(out))
}

// ago says how long ago t was, for people.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return agoAt(t, time.Now())
}

func agoAt(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	case d < 30*24*time.Hour:
		n := int(d.Hours() / 24)
		if n == 1 {
			return "yesterday"
		}
		return fmt.Sprintf("%d days ago", n)
	}
	return t.UTC().Format("2 Jan 2006")
}

// waiting says how long something has waited, briefly.
func waiting(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// humanCount writes 842, 12.5k, 3.1M.
func humanCount(n int) string {
	f := float64(n)
	switch {
	case n < 1000:
		return strconv.Itoa(n)
	case n < 1_000_000:
		return trimZero(strconv.FormatFloat(math.Round(f/100)/10, 'f', 1, 64)) + "k"
	}
	return trimZero(strconv.FormatFloat(math.Round(f/100_000)/10, 'f', 1, 64)) + "M"
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// page is what every page template gets.
type page struct {
	Title   string
	Nav     string // the active nav item
	User    *parley.User
	CSRF    string
	Flash   string
	FlashOK bool
	// Pending is how many conversations need a reply, for the nav badge,
	// up to badgeMost; PendingMore says there are badgeMost or more
	// ("1000+").
	Pending     int
	PendingMore bool
	Data        any
}

// badgeMost is the most conversations the nav badge counts.
const badgeMost = 1000

// render writes a full page. A template error is logged and becomes a 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	t, ok := s.views.pages[name]
	if !ok {
		s.serverError(w, r, fmt.Errorf("no page template %q", name))
		return
	}
	ctx := r.Context()
	p := page{Title: title, Nav: nav, User: currentUser(ctx), CSRF: s.pageCSRF(w, r), Data: data}
	if msg := s.sessions.PopString(ctx, keyFlash); msg != "" {
		p.Flash, p.FlashOK = msg, s.sessions.PopBool(ctx, keyFlashOK)
	}
	if p.User != nil {
		if n, err := s.st.NeedsReplyCount(ctx, badgeMost); err == nil {
			p.Pending, p.PendingMore = n, n >= badgeMost
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.serverError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a client that went away; nothing to tell it
}

// fragment renders one named template (a card) to a string.
func (s *Server) fragment(name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := s.views.pages["inbox"].ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.logger.Warn("write json answer", "err", err)
	}
}

// httpStatus maps an error code to an HTTP status.
func httpStatus(err error) int {
	switch parley.ErrorCode(err) {
	case parley.EINVALID:
		return http.StatusUnprocessableEntity
	case parley.ENOTFOUND:
		return http.StatusNotFound
	case parley.ECONFLICT:
		return http.StatusConflict
	case parley.EFORBIDDEN:
		return http.StatusForbidden
	case parley.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorView is the error page's data.
type errorView struct {
	Status   int
	Heading  string
	Message  string
	Next     string // what to do next
	Link     string
	LinkText string
}

// fail answers a request that could not be done: JSON for app.js, else an
// error page that says what to do next. Internal errors are logged and
// shown without detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := httpStatus(err)
	msg := parley.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "something went wrong on our side; it is in the server log"
	}
	if wantsJSON(r) {
		s.writeJSON(w, status, map[string]any{"error": msg, "code": parley.ErrorCode(err)})
		return
	}
	v := errorView{Status: status, Message: msg, Link: "/", LinkText: "Back to the inbox"}
	switch status {
	case http.StatusNotFound:
		v.Heading = "Not found"
		v.Next = "It may have been removed, or the link is wrong."
	case http.StatusForbidden:
		v.Heading = "Not allowed"
		v.Next = "If you think you should be able to do this, ask an admin."
	case http.StatusConflict:
		v.Heading = "Someone was quicker"
		v.Next = "Nothing was changed and nothing was sent twice."
	case http.StatusUnprocessableEntity:
		v.Heading = "That did not work"
		v.Next = "Go back, fix it and try again."
		if ref := r.Referer(); ref != "" {
			v.Link, v.LinkText = sameSitePath(ref), "Go back"
		}
	case http.StatusServiceUnavailable:
		v.Heading = "Busy or unavailable"
		v.Next = "Wait a moment and try again."
	default:
		v.Heading = "Something went wrong"
		v.Next = "Try again; if it keeps happening, look at the server log."
	}
	if currentUser(r.Context()) == nil {
		v.Link, v.LinkText = "/login", "Log in"
	}
	s.render(w, r, status, "error", v.Heading, "", v)
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.fail(w, r, err)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, parley.Errorf(parley.ENOTFOUND, "there is no page at %s", r.URL.Path))
}

// sameSitePath returns the local path and query of a Referer (an
// absolute URL) or a path, or "/" for anything that is not a path on this
// site (see localPath).
func sameSitePath(raw string) string {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		raw = u.EscapedPath()
		if u.RawQuery != "" {
			raw += "?" + u.RawQuery
		}
	}
	return localPath(raw)
}

// localPath returns raw when it is a path on this site (with its query),
// else "/". It refuses what a browser could follow to another site:
// schemes, hosts, "//", and anything holding a backslash or a control
// character (browsers drop tabs and newlines from URLs and read "\" as
// "/", so "/\t/evil" and "/\\evil" lead to //evil), raw or escaped.
func localPath(raw string) string {
	if raw == "" || strings.ContainsFunc(raw, unsafeInPath) {
		return "/"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.ContainsFunc(u.Path, unsafeInPath) ||
		!strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
		return "/"
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

func unsafeInPath(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f || unicode.IsSpace(r) }
