package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// digestRow is one past digest in the list.
type digestRow struct {
	parley.DigestRecord
	OK, Failed int
	// Errors lists the failed targets with their errors, for a tooltip.
	Errors []string
}

// Days is the week's span in its own time zone, "16 Nov – 22 Nov 2026".
func (row digestRow) Days() string {
	if row.Start.IsZero() || row.End.IsZero() {
		return ""
	}
	loc := time.UTC
	if l, err := time.LoadLocation(row.TimeZone); err == nil && row.TimeZone != "" {
		loc = l
	}
	first, last := row.Start.In(loc), row.End.In(loc).AddDate(0, 0, -1)
	if first.Year() != last.Year() {
		return first.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
	}
	return first.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
}

func newDigestRow(rec parley.DigestRecord) digestRow {
	row := digestRow{DigestRecord: rec}
	for _, d := range rec.Deliveries {
		if d.OK {
			row.OK++
			continue
		}
		row.Failed++
		row.Errors = append(row.Errors, d.Target+": "+d.Error)
	}
	return row
}

// digestsView is the digests page's data.
type digestsView struct {
	Digests []digestRow
}

// digests lists the weekly digests the store kept, newest week first.
func (s *Server) digests(w http.ResponseWriter, r *http.Request) {
	recs, err := s.st.Digests(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := digestsView{}
	for _, rec := range recs {
		v.Digests = append(v.Digests, newDigestRow(rec))
	}
	s.render(w, r, http.StatusOK, "digests", "Digests", "digests", v)
}

// digestView is one digest's page data.
type digestView struct {
	digestRow
	// HasHTML, HasMarkdown and HasText say which bodies there are.
	HasHTML, HasMarkdown, HasText bool
}

var weekPattern = regexp.MustCompile(`^[0-9]{4}-W[0-9]{2}$`)

// pathWeek reads the {week} path value ("2026-W46").
func pathWeek(r *http.Request) (string, error) {
	week := r.PathValue("week")
	if !weekPattern.MatchString(week) {
		return "", parley.Errorf(parley.ENOTFOUND, "%q is not an ISO week (like 2026-W46)", week)
	}
	return week, nil
}

// digest shows one week's digest: its deliveries, the HTML body in a
// sandboxed frame, and the bodies as downloads.
func (s *Server) digest(w http.ResponseWriter, r *http.Request) {
	week, err := pathWeek(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.st.Digest(r.Context(), week)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := digestView{digestRow: newDigestRow(rec),
		HasHTML: rec.HTML != "", HasMarkdown: rec.Markdown != "", HasText: rec.Text != ""}
	v.HTML, v.Markdown, v.Text = "", "", "" // the page does not carry the bodies
	s.render(w, r, http.StatusOK, "digest", "Digest "+week, "digests", v)
}

// digestContentSecurityPolicy is for a digest's own HTML (served alone or
// in the digest page's frame): its inline styles and inline SVG or data:
// images, nothing else; no script can run (sandbox without allow-scripts),
// and links open in a new tab (the page gets a <base target="_blank">).
const digestContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"

// digestFile serves one body of a digest: the HTML page to view
// (/digests/W/view), or a download (digest.html, digest.md, digest.txt).
func (s *Server) digestFile(w http.ResponseWriter, r *http.Request) {
	week, err := pathWeek(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	file := r.PathValue("file")
	var kind, ctype string
	switch file {
	case "view", "digest.html":
		kind, ctype = "HTML", "text/html; charset=utf-8"
	case "digest.md":
		kind, ctype = "Markdown", "text/markdown; charset=utf-8"
	case "digest.txt":
		kind, ctype = "text", "text/plain; charset=utf-8"
	default:
		s.notFound(w, r)
		return
	}
	rec, err := s.st.Digest(r.Context(), week)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := map[string]string{"HTML": rec.HTML, "Markdown": rec.Markdown, "text": rec.Text}[kind]
	if body == "" {
		s.fail(w, r, parley.Errorf(parley.ENOTFOUND, "the digest of %s has no %s version (it is %s)", week, kind, rec.Status))
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "private, no-store")
	if kind == "HTML" {
		h.Set("Content-Security-Policy", digestContentSecurityPolicy)
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
	if file == "view" {
		body = linksInNewTab(body)
		h.Set("Content-Disposition", "inline")
	} else {
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="parley-digest-%s%s"`, week, strings.TrimPrefix(file, "digest")))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body)) // a client that went away; nothing to tell it
	}
}

// linksInNewTab adds <base target="_blank"> at the start of the page's
// head (or of the page), so links in a framed digest open a tab of their
// own instead of loading into the frame.
func linksInNewTab(page string) string {
	const base = `<base target="_blank">`
	lower := strings.ToLower(page)
	for from := 0; ; {
		i := strings.Index(lower[from:], "<head")
		if i < 0 {
			return base + page
		}
		i += from
		from = i + len("<head")
		if from < len(lower) && (lower[from] == '>' || lower[from] == ' ' || lower[from] == '\t' || lower[from] == '\n' || lower[from] == '\r') {
			if j := strings.IndexByte(page[from:], '>'); j >= 0 {
				at := from + j + 1
				return page[:at] + base + page[at:]
			}
			return base + page
		}
	}
}
