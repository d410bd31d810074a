package web

import (
	"net/http"
	"strconv"

	"github.com/parleybot/parley"
)

// activityView is the audit log page's data.
type activityView struct {
	Entries []parley.AuditEntry
	Filter  parley.AuditFilter
	Actions []string
	Users   []string
	People  map[int64]parley.Person
	// Older is the link to the next page back, or "".
	Older string
}

const activityPage = 50

// activity shows the audit log, newest first, filtered by actor and
// action, a page at a time.
func (s *Server) activity(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f := parley.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Limit: activityPage + 1}
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	f.PersonID, _ = strconv.ParseInt(q.Get("person"), 10, 64)
	entries, err := s.st.AuditEntries(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	actions, err := s.st.AuditActions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.st.Users(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := activityView{Entries: entries, Filter: f, Actions: actions, People: map[int64]parley.Person{}}
	for _, e := range entries {
		if e.PersonID != 0 && v.People[e.PersonID].ID == 0 {
			if p, err := s.st.Person(ctx, e.PersonID); err == nil {
				v.People[e.PersonID] = p
			}
		}
	}
	for _, u := range users {
		v.Users = append(v.Users, u.Name)
	}
	if len(entries) > activityPage {
		v.Entries = entries[:activityPage]
		next := q
		next.Set("before", strconv.FormatInt(v.Entries[activityPage-1].ID, 10))
		v.Older = "/activity?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "activity", "Activity", "activity", v)
}
