package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley"
)

// cardView is one draft in the inbox.
type cardView struct {
	parley.InboxItem
	U    Urgency
	Why  []string // what put it this high, for people
	CSRF string
	Me   string
	// CanAssignOthers is true for managers and admins.
	CanAssignOthers bool
}

func (s *Server) card(r *http.Request, it parley.InboxItem, u Urgency) cardView {
	me := currentUser(r.Context())
	c := cardView{InboxItem: it, U: u, CSRF: s.csrfToken(r.Context())}
	if me != nil {
		c.Me, c.CanAssignOthers = me.Name, me.Role.AtLeast(parley.RoleManager)
	}
	if u.Priority > 0 {
		c.Why = append(c.Why, "priority "+strconv.Itoa(u.Priority))
	}
	if u.Negative {
		c.Why = append(c.Why, "negative")
	}
	c.Why = append(c.Why, "waiting "+waiting(u.Waited))
	if u.Reach >= 1000 {
		c.Why = append(c.Why, humanCount(u.Reach)+" followers")
	}
	return c
}

// viewNames are the inbox's views as people read them.
var viewNames = map[parley.ConversationView]string{
	parley.ViewNeedsReply: "Needs reply", parley.ViewMine: "Mine", parley.ViewUnassigned: "Unassigned",
	parley.ViewAll: "All", parley.ViewClosed: "Closed",
}

// viewTab is one view's link with its count.
type viewTab struct {
	View    parley.ConversationView
	Name    string
	Count   int
	More    bool // Count is a lower bound ("1000+")
	URL     string
	Current bool
}

// rowView is one conversation in the inbox list.
type rowView struct {
	parley.InboxRow
	State    parley.ConversationState
	Waited   time.Duration
	Overdue  bool
	Why      []string
	URL      string // opens it in the detail pane (or alone without one)
	Me       string
	Selected bool
}

// inboxView is the inbox page's data.
type inboxView struct {
	Query parley.InboxQuery
	Tabs  []viewTab
	Count int // the current view's
	More  bool
	// Partial says a search matched more messages than one page reads
	// (SearchCap): the list holds the conversations of the newest.
	Partial   bool
	SearchCap int
	Rows      []rowView
	Next      string // the next page's URL, "" on the last
	First     string // the first page's URL when this is a later one
	Filtered  bool
	Facets    parley.InboxFacets
	Labels    []parley.Label
	Users     []string
	// Since, Until and Overdue echo the date and overdue filters.
	Since, Until string
	Overdue      bool
	Target       string // the response time target, for people
	// Pane is the open conversation: the one chosen (?c=ID, then Chosen
	// is true), else the first.
	Pane   *threadView
	Chosen bool
	// Events is the live stream's URL (with the filters); Since is the
	// drafts version the page shows (Unix ms), Version the inbox's.
	Events    string
	SinceMS   int64
	Version   string
	CSRF      string
	CanAssign bool // managers and admins assign to others
}

// inboxQuery reads the inbox's view, filters and page from the query
// string, and the values that keep them in links.
func (s *Server) inboxQuery(r *http.Request) (parley.InboxQuery, url.Values, error) {
	q := r.URL.Query()
	keep := url.Values{}
	v := q.Get("view")
	if q.Get("mine") == "1" && v == "" {
		v = string(parley.ViewMine)
	}
	view, err := parley.ParseConversationView(v)
	if err != nil || !slices.Contains(parley.InboxViews, view) {
		return parley.InboxQuery{}, nil, parley.Errorf(parley.EINVALID, "inbox view %q: want needs-reply, mine, unassigned, all or closed", v)
	}
	iq := parley.InboxQuery{View: view, Now: s.opts.Now(), After: q.Get("after")}
	if u := currentUser(r.Context()); u != nil {
		iq.User = u.Name
	}
	set := func(key string, dst *string) {
		if val := strings.TrimSpace(q.Get(key)); val != "" {
			*dst = val
			keep.Set(key, val)
		}
	}
	set("q", &iq.Text)
	set("platform", &iq.Platform)
	set("tag", &iq.Tag)
	set("rule", &iq.Rule)
	set("assignee", &iq.Assignee)
	if l, err := parley.ParseLabel(q.Get("sentiment")); err == nil && l != "" {
		iq.Sentiment = l
		keep.Set("sentiment", string(l))
	}
	for _, d := range []struct {
		key string
		dst *time.Time
		add int
	}{{"since", &iq.Since, 0}, {"until", &iq.Until, 1}} {
		raw := strings.TrimSpace(q.Get(d.key))
		if raw == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, raw, time.UTC)
		if err != nil {
			return iq, nil, parley.Errorf(parley.EINVALID, "%s %q: want a date like 2026-11-30", d.key, raw)
		}
		*d.dst = t.AddDate(0, 0, d.add) // until is inclusive: up to the end of that day
		keep.Set(d.key, raw)
	}
	if q.Get("overdue") == "1" {
		iq.Overdue = s.opts.ResponseTarget
		keep.Set("overdue", "1")
	}
	return iq, keep, nil
}

// inboxURL is the inbox's URL for view with the filters in keep and
// extra parameters (key, value pairs).
func inboxURL(view parley.ConversationView, keep url.Values, extra ...string) string {
	v := url.Values{}
	for k, vs := range keep {
		v[k] = vs
	}
	if view != parley.ViewNeedsReply {
		v.Set("view", string(view))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			v.Set(extra[i], extra[i+1])
		}
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// inbox shows the conversations of a view, a page at a time, and the one
// chosen (?c=ID) in the detail pane. ?fragment=list renders only the list
// (app.js refreshes it live).
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	iq, keep, err := s.inboxQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The versions first: a change while the page is built is delivered
	// again by the stream rather than missed.
	since, err := s.st.DraftsVersion(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	version, err := s.st.InboxVersion(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.st.InboxPage(ctx, iq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u := currentUser(ctx)
	v := inboxView{Query: iq, Filtered: len(keep) > 0, Labels: parley.Labels, Version: version,
		CSRF: s.csrfToken(ctx), CanAssign: u.Role.AtLeast(parley.RoleManager), Target: waiting(s.opts.ResponseTarget),
		Since: keep.Get("since"), Until: keep.Get("until"), Overdue: iq.Overdue > 0}
	if !since.IsZero() {
		v.SinceMS = since.UnixMilli()
	}
	chosen, _ := strconv.ParseInt(r.URL.Query().Get("c"), 10, 64)
	for _, view := range parley.InboxViews {
		v.Tabs = append(v.Tabs, viewTab{View: view, Name: viewNames[view], Count: page.Counts[view],
			More: page.More[view], URL: inboxURL(view, keep), Current: view == iq.View})
	}
	v.Count, v.More, v.Partial, v.SearchCap = page.Counts[iq.View], page.More[iq.View], page.Partial, parley.InboxSearchCap
	now := s.opts.Now()
	for _, row := range page.Rows {
		v.Rows = append(v.Rows, s.row(row, keep, iq, chosen, u.Name, now))
	}
	if page.Next != "" {
		v.Next = inboxURL(iq.View, keep, "after", page.Next)
	}
	if iq.After != "" {
		v.First = inboxURL(iq.View, keep)
	}
	ev := url.Values{}
	for k, vs := range keep {
		ev[k] = vs
	}
	if iq.View != parley.ViewNeedsReply {
		ev.Set("view", string(iq.View))
	}
	v.Events = "/events"
	if len(ev) > 0 {
		v.Events += "?" + ev.Encode()
	}
	if r.URL.Query().Get("fragment") == "list" {
		html, err := s.fragment("inbox-list", v)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeFragment(w, html)
		return
	}
	if err := s.inboxExtras(r, &v, iq, chosen); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "inbox", "Inbox", "inbox", v)
}

// inboxExtras adds what only the full page needs: the filters' choices,
// the users to assign to, and the open conversation.
func (s *Server) inboxExtras(r *http.Request, v *inboxView, iq parley.InboxQuery, chosen int64) error {
	ctx := r.Context()
	facets, err := s.facets.get(ctx, s.st, v.Version)
	if err != nil {
		return err
	}
	// A filter value no pending draft has (any more) still shows as chosen.
	facets.Platforms = withValue(facets.Platforms, iq.Platform)
	facets.Tags = withValue(facets.Tags, iq.Tag)
	facets.Rules = withValue(facets.Rules, iq.Rule)
	v.Facets = facets
	users, err := s.st.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		v.Users = append(v.Users, u.Name)
	}
	// Without a choice the most urgent is open, so the pane is never
	// empty on a wide screen (narrow ones show it only when chosen).
	if chosen == 0 && len(v.Rows) > 0 {
		chosen = v.Rows[0].Conversation.ID
		v.Rows[0].Selected = true
	} else {
		v.Chosen = chosen > 0
	}
	if chosen > 0 {
		tv, err := s.threadData(r, chosen, 0)
		if err != nil {
			return err
		}
		v.Pane = &tv
	}
	return nil
}

// facetCache keeps the inbox's facets with the inbox version they were
// read at: reading them looks at every pending draft's message, and they
// change only with what changes the version (a message, a draft, an
// audited change).
type facetCache struct {
	mu      sync.Mutex
	version string
	facets  parley.InboxFacets
}

// get returns the facets at version, reading them again when it moved.
func (c *facetCache) get(ctx context.Context, st parley.InboxStore, version string) (parley.InboxFacets, error) {
	c.mu.Lock()
	if version != "" && c.version == version {
		f := c.facets
		c.mu.Unlock()
		// Copies: the caller adds the chosen values to them.
		return parley.InboxFacets{Platforms: slices.Clone(f.Platforms), Tags: slices.Clone(f.Tags), Rules: slices.Clone(f.Rules)}, nil
	}
	c.mu.Unlock()
	f, err := st.InboxFacets(ctx)
	if err != nil {
		return f, err
	}
	c.mu.Lock()
	c.version, c.facets = version, parley.InboxFacets{Platforms: slices.Clone(f.Platforms), Tags: slices.Clone(f.Tags),
		Rules: slices.Clone(f.Rules)}
	c.mu.Unlock()
	return f, nil
}

// row is one conversation of the list, with why it is this high.
func (s *Server) row(row parley.InboxRow, keep url.Values, iq parley.InboxQuery, chosen int64, me string, now time.Time) rowView {
	c := row.Conversation
	rv := rowView{InboxRow: row, State: c.Effective(now), Waited: c.Waited(now), Me: me, Selected: c.ID == chosen}
	rv.Overdue = s.opts.ResponseTarget > 0 && rv.Waited > s.opts.ResponseTarget
	rv.URL = inboxURL(iq.View, keep, "after", iq.After, "c", strconv.FormatInt(c.ID, 10))
	if p := row.Last.Priority; p > 0 {
		rv.Why = append(rv.Why, "priority "+strconv.Itoa(p))
	}
	if row.Last.Sentiment.Label == parley.Negative {
		rv.Why = append(rv.Why, "negative")
	}
	if f := row.Last.Author.Followers; f >= 1000 {
		rv.Why = append(rv.Why, humanCount(f)+" followers")
	}
	return rv
}

// pane returns the detail pane of one conversation (HTML), for app.js.
func (s *Server) pane(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tv, err := s.threadData(r, id, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	html, err := s.fragment("conv-pane", tv)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeFragment(w, html)
}

// writeFragment answers with a piece of a page for app.js to put in.
func writeFragment(w http.ResponseWriter, html string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// G705: html is html/template's output, escaped there. A client that
	// went away gets nothing more; app.js reloads on a broken fragment.
	_, _ = w.Write([]byte(html)) //nolint:gosec // G705: see above
}

// search is the inbox's filters over every conversation.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("view") == "" {
		q.Set("view", string(parley.ViewAll))
	}
	http.Redirect(w, r, "/?"+q.Encode(), http.StatusSeeOther)
}

// inboxFilter reads the draft filters of the live stream's card events
// from the query string.
func inboxFilter(r *http.Request) (parley.InboxFilter, bool, url.Values) {
	q := r.URL.Query()
	f := parley.InboxFilter{Platform: q.Get("platform"), Tag: q.Get("tag"), Rule: q.Get("rule")}
	if l, err := parley.ParseLabel(q.Get("sentiment")); err == nil {
		f.Sentiment = l
	}
	mine := q.Get("mine") == "1" || q.Get("view") == string(parley.ViewMine)
	if mine {
		if u := currentUser(r.Context()); u != nil {
			f.AssignedTo = u.Name
		}
	}
	keep := url.Values{}
	for k, v := range map[string]string{"platform": f.Platform, "tag": f.Tag, "rule": f.Rule, "sentiment": string(f.Sentiment)} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	if mine {
		keep.Set("mine", "1")
	}
	return f, mine, keep
}

// withValue returns list with v added (sorted) when v is set and missing.
func withValue(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	list = append(list, v)
	slices.Sort(list)
	return list
}
