package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/export"
)

// exportsView is the exports page's data.
type exportsView struct {
	Kinds, Formats, Platforms []string
}

// exports shows the download form (managers).
func (s *Server) exports(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "exports", "Exports", "exports", exportsView{Kinds: export.Kinds, Formats: export.Formats,
		Platforms: []string{parley.PlatformMastodon, parley.PlatformDiscord}})
}

// exportDownload streams one kind of rows as CSV or JSON lines, in the
// rows and columns `parley export` writes, and records the download in
// the activity log.
func (s *Server) exportDownload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind, format := q.Get("kind"), q.Get("format")
	if format == "" {
		format = "csv"
	}
	if err := export.Check(kind, format); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := exportFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	if format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
	}
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="parley-%s-%s.%s"`, kind, s.opts.Now().UTC().Format("20060102-1504"), format))
	h.Set("Cache-Control", "no-store")
	n, err := export.Write(r.Context(), s.st, kind, format, f, w)
	detail := fmt.Sprintf("%s as %s%s: %d rows", kind, format, describeFilter(f), n)
	if err != nil {
		// The status is sent: the download ends short, and the log says why.
		s.logger.Error("export download", "kind", kind, "rows", n, "err", err)
		detail += " (stopped: " + parley.ErrorMessage(err) + ")"
	}
	e := parley.AuditEntry{Actor: currentUser(r.Context()).Name, Action: "export", Detail: detail}
	if _, err := s.st.AddAudit(context.WithoutCancel(r.Context()), e); err != nil {
		s.logger.Error("audit", "err", err)
	}
}

// exportFilter reads since, until (dates or RFC 3339 times; until is
// exclusive, a date's whole day included) and platform.
func exportFilter(r *http.Request) (parley.ExportFilter, error) {
	var f parley.ExportFilter
	var err error
	if f.Since, err = apiTime(r, "since"); err != nil {
		return f, err
	}
	if f.Until, err = apiTime(r, "until"); err != nil {
		return f, err
	}
	if raw := strings.TrimSpace(r.URL.Query().Get("until")); len(raw) == len(time.DateOnly) {
		f.Until = f.Until.AddDate(0, 0, 1) // through the end of that day
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, parley.Errorf(parley.EINVALID, "since is not before until")
	}
	switch p := r.URL.Query().Get("platform"); p {
	case "", parley.PlatformMastodon, parley.PlatformDiscord:
		f.Platform = p
	default:
		return f, parley.Errorf(parley.EINVALID, "platform %q: want mastodon or discord", p)
	}
	return f, nil
}

func describeFilter(f parley.ExportFilter) string {
	var parts []string
	if !f.Since.IsZero() {
		parts = append(parts, "since "+f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "until "+f.Until.UTC().Format(time.RFC3339))
	}
	if f.Platform != "" {
		parts = append(parts, "on "+f.Platform)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
