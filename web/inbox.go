package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
)

// cardView is one draft in the inbox.
type cardView struct {
	store.InboxItem
	U    Urgency
	Why  []string // what put it this high, for people
	CSRF string
	Me   string
	// CanAssignOthers is true for managers and admins.
	CanAssignOthers bool
}

func (s *Server) card(r *http.Request, it store.InboxItem, u Urgency) cardView {
	me := currentUser(r.Context())
	c := cardView{InboxItem: it, U: u, CSRF: s.csrfToken(r.Context())}
	if me != nil {
		c.Me, c.CanAssignOthers = me.Name, me.Role.AtLeast(store.RoleManager)
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

// inboxView is the inbox page's data.
type inboxView struct {
	Cards    []cardView
	Filter   store.InboxFilter
	Mine     bool
	Filtered bool
	Facets   store.InboxFacets
	Labels   []parley.Label
	// Events is the live stream's URL (with the filters); Since is the
	// drafts version the page shows (Unix ms).
	Events string
	Since  int64
}

// inboxFilter reads the filters from the query string.
func inboxFilter(r *http.Request) (store.InboxFilter, bool, url.Values) {
	q := r.URL.Query()
	f := store.InboxFilter{Platform: q.Get("platform"), Tag: q.Get("tag"), Rule: q.Get("rule")}
	if l, err := parley.ParseLabel(q.Get("sentiment")); err == nil {
		f.Sentiment = l
	}
	mine := q.Get("mine") == "1"
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

// inbox shows the pending drafts, most urgent first.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, mine, keep := inboxFilter(r)
	// The version first: a draft changed while the page is built is
	// delivered again by the stream rather than missed.
	since, err := s.st.DraftsVersion(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := s.st.InboxItems(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	facets, err := s.st.InboxFacets(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A filter value no pending draft has (any more) still shows as chosen.
	facets.Platforms = withValue(facets.Platforms, f.Platform)
	facets.Tags = withValue(facets.Tags, f.Tag)
	facets.Rules = withValue(facets.Rules, f.Rule)
	us := rankItems(items, s.opts.Now())
	v := inboxView{Filter: f, Mine: mine, Filtered: len(keep) > 0, Facets: facets, Labels: parley.Labels}
	if !since.IsZero() {
		v.Since = since.UnixMilli()
	}
	for i, it := range items {
		v.Cards = append(v.Cards, s.card(r, it, us[i]))
	}
	v.Events = "/events"
	if len(keep) > 0 {
		v.Events += "?" + keep.Encode()
	}
	s.render(w, r, http.StatusOK, "inbox", "Inbox", "inbox", v)
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
