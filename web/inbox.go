package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

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

// inboxView is the inbox page's data.
type inboxView struct {
	Cards    []cardView
	Filter   parley.InboxFilter
	Mine     bool
	Filtered bool
	Facets   parley.InboxFacets
	Labels   []parley.Label
	// Events is the live stream's URL (with the filters); Since is the
	// drafts version the page shows (Unix ms).
	Events string
	Since  int64
	// Undrafted are the conversations that need a reply and have no
	// draft (no rule answered them), longest waiting first, so no
	// customer message is out of sight; UndraftedMore says there are more.
	Undrafted     []undrafted
	UndraftedMore bool
}

// undrafted is a conversation needing a reply without a draft, with its
// newest customer message.
type undrafted struct {
	Conversation parley.Conversation
	Last         parley.Mention
}

// maxUndrafted is how many undrafted conversations the inbox lists.
const maxUndrafted = 100

// undraftedConversations lists the conversations needing a reply that no
// draft answers, with their newest messages.
func (s *Server) undraftedConversations(ctx context.Context, platform string) ([]undrafted, bool, error) {
	cs, err := s.st.Conversations(ctx, parley.ConversationFilter{View: parley.ViewNeedsReply, WithoutDraft: true,
		Platform: platform, Limit: maxUndrafted + 1, Now: s.opts.Now()})
	if err != nil {
		return nil, false, err
	}
	more := len(cs) > maxUndrafted
	cs = cs[:min(len(cs), maxUndrafted)]
	out := make([]undrafted, 0, len(cs))
	for _, c := range cs {
		u := undrafted{Conversation: c}
		if m, err := s.st.Mention(ctx, c.LastMentionID); err == nil {
			u.Last = m
		}
		out = append(out, u)
	}
	return out, more, nil
}

// inboxFilter reads the filters from the query string.
func inboxFilter(r *http.Request) (parley.InboxFilter, bool, url.Values) {
	q := r.URL.Query()
	f := parley.InboxFilter{Platform: q.Get("platform"), Tag: q.Get("tag"), Rule: q.Get("rule")}
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
	if v.Undrafted, v.UndraftedMore, err = s.undraftedConversations(ctx, f.Platform); err != nil {
		s.fail(w, r, err)
		return
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
