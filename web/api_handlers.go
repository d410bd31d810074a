package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/parleybot/parley"
)

// apiRow is a conversation in a list, with its customer's newest message.
type apiRow struct {
	Conversation parley.Conversation `json:"conversation"`
	LastMessage  parley.Mention      `json:"last_message"`
}

// apiConversations lists the inbox with its filters and search: the same
// query (and cursor) the inbox page runs.
func (s *Server) apiConversations(w http.ResponseWriter, r *http.Request) error {
	iq, _, err := s.inboxQuery(r)
	if err != nil {
		return err
	}
	if iq.After, err = decodeCursor(r, "conversations"); err != nil {
		return err
	}
	if iq.Limit, err = apiLimitParam(r, 50, 500); err != nil {
		return err
	}
	page, err := s.st.InboxPage(r.Context(), iq)
	if err != nil {
		return err
	}
	rows := make([]apiRow, 0, len(page.Rows))
	for _, row := range page.Rows {
		rows = append(rows, apiRow{Conversation: row.Conversation, LastMessage: row.Last})
	}
	counts, capped := map[string]int{}, map[string]bool{}
	for v, n := range page.Counts {
		counts[string(v)] = n
		capped[string(v)] = page.More[v]
	}
	return apiJSON(w, r, http.StatusOK, map[string]any{
		"conversations": rows, "counts": counts, "counts_capped": capped, "partial": page.Partial,
		"next_cursor": nextCursor("conversations", page.Next)})
}

// apiConversation shows a conversation with its messages and our drafts
// and replies in it.
func (s *Server) apiConversation(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.st.Conversation(ctx, id)
	if err != nil {
		return err
	}
	ms, err := s.st.ThreadMentions(ctx, id)
	if err != nil {
		return err
	}
	ds, err := s.st.Drafts(ctx, parley.DraftFilter{ThreadID: id, Limit: 500})
	if err != nil {
		return err
	}
	return apiJSON(w, r, http.StatusOK, map[string]any{"conversation": c, "messages": nonNil(ms), "drafts": nonNil(ds)})
}

func (s *Server) apiReply(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Text        string `json:"text"`
		ToMentionID int64  `json:"to_mention_id"`
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	d, err := s.opts.Decider.Reply(r.Context(), currentUser(r.Context()).Name, id, body.ToMentionID, body.Text)
	if err != nil {
		return err
	}
	return apiJSON(w, r, http.StatusCreated, d)
}

func (s *Server) apiClose(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Reason string `json:"reason"`
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	c, err := s.opts.Decider.Close(r.Context(), currentUser(r.Context()).Name, id, body.Reason)
	if err != nil {
		return err
	}
	return apiJSON(w, r, http.StatusOK, c)
}

func (s *Server) apiAssign(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		User *string `json:"user"`
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.User == nil {
		return parley.Errorf(parley.EINVALID, `say whom to assign it to: {"user": "ana"}, or {"user": ""} to release it`)
	}
	c, err := s.opts.Decider.Assign(r.Context(), currentUser(r.Context()).Name, id, *body.User)
	if err != nil {
		return err
	}
	return apiJSON(w, r, http.StatusOK, c)
}

// apiDrafts lists drafts in one state (pending by default): pending ones
// most urgent first, others newest first.
func (s *Server) apiDrafts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	state := parley.DraftPending
	if raw := q.Get("state"); raw != "" {
		var err error
		if state, err = parley.ParseDraftState(raw); err != nil {
			return err
		}
	}
	f := parley.DraftFilter{States: []parley.DraftState{state}, Platform: q.Get("platform")}
	if err := offsetPage(r, "drafts", 50, 200, &f.Offset, &f.Limit); err != nil {
		return err
	}
	ds, err := s.st.Drafts(r.Context(), f)
	if err != nil {
		return err
	}
	ds, next := pageOf(ds, 0, f.Offset, f.Limit-1)
	return apiJSON(w, r, http.StatusOK, map[string]any{"drafts": ds, "next_cursor": nextCursor("drafts", next)})
}

func (s *Server) apiApprove(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Text *string `json:"text"`
	}
	return s.apiDecide(w, r, &body, func(actor string, id int64) (parley.Draft, error) {
		return s.opts.Decider.Approve(r.Context(), actor, id, body.Text)
	})
}

func (s *Server) apiEdit(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Text string `json:"text"`
	}
	return s.apiDecide(w, r, &body, func(actor string, id int64) (parley.Draft, error) {
		return s.opts.Decider.Edit(r.Context(), actor, id, body.Text)
	})
}

func (s *Server) apiReject(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Reason string `json:"reason"`
	}
	return s.apiDecide(w, r, &body, func(actor string, id int64) (parley.Draft, error) {
		return s.opts.Decider.Reject(r.Context(), actor, id, body.Reason)
	})
}

// apiDecide reads a draft action's body and runs it through the decision
// service, which checks and audits it as it does the inbox's.
func (s *Server) apiDecide(w http.ResponseWriter, r *http.Request, body any, decide func(actor string, id int64) (parley.Draft, error)) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := decodeBody(r, body); err != nil {
		return err
	}
	d, err := decide(currentUser(r.Context()).Name, id)
	if err != nil {
		return err
	}
	return apiJSON(w, r, http.StatusOK, d)
}

// errPageFull stops an export walk once a page is full.
var errPageFull = errors.New("page full")

// apiMentions lists stored mentions in the order they were stored
// (id), filtered by their post time and platform.
func (s *Server) apiMentions(w http.ResponseWriter, r *http.Request) error {
	f := parley.ExportFilter{Platform: r.URL.Query().Get("platform")}
	var err error
	if f.Since, err = apiTime(r, "since"); err != nil {
		return err
	}
	if f.Until, err = apiTime(r, "until"); err != nil {
		return err
	}
	limit, err := apiLimitParam(r, 100, 500)
	if err != nil {
		return err
	}
	after, err := decodeCursor(r, "mentions")
	if err != nil {
		return err
	}
	if after != "" {
		if f.AfterID, err = strconv.ParseInt(after, 10, 64); err != nil {
			return parley.Errorf(parley.EINVALID, "bad mentions cursor")
		}
	}
	ms := []parley.Mention{}
	err = s.st.ExportMentions(r.Context(), f, func(m parley.Mention) error {
		if len(ms) == limit+1 {
			return errPageFull
		}
		ms = append(ms, m)
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return err
	}
	next := ""
	if len(ms) > limit {
		ms = ms[:limit]
		next = strconv.FormatInt(ms[limit-1].ID, 10)
	}
	return apiJSON(w, r, http.StatusOK, map[string]any{"mentions": ms, "next_cursor": nextCursor("mentions", next)})
}

// apiSearchMentions is the inbox's full-text search over every stored
// mention, newest first.
func (s *Server) apiSearchMentions(w http.ResponseWriter, r *http.Request) error {
	q := parley.MentionQuery{Text: r.URL.Query().Get("q")}
	var err error
	if q.Since, err = apiTime(r, "since"); err != nil {
		return err
	}
	if q.Until, err = apiTime(r, "until"); err != nil {
		return err
	}
	var offset int
	if err := offsetPage(r, "search", 50, 200, &offset, &q.Limit); err != nil {
		return err
	}
	q.Limit += offset
	ms, err := s.st.SearchMentions(r.Context(), q)
	if err != nil {
		return err
	}
	ms, next := pageOf(ms, offset, offset, q.Limit-offset-1)
	return apiJSON(w, r, http.StatusOK, map[string]any{"mentions": ms, "next_cursor": nextCursor("search", next)})
}

// apiPerson shows a person with their history, advocate state and notes.
func (s *Server) apiPerson(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	adv, err := s.st.PersonAdvocate(ctx, id)
	if err != nil {
		return err
	}
	ms, err := s.st.PersonMentions(ctx, id, 100)
	if err != nil {
		return err
	}
	changes, err := s.st.PersonAdvocateChanges(ctx, id)
	if err != nil {
		return err
	}
	notes, err := s.st.Notes(ctx, id)
	if err != nil {
		return err
	}
	linked, err := s.st.LinkedPeople(ctx, id)
	if err != nil {
		return err
	}
	return apiJSON(w, r, http.StatusOK, map[string]any{
		"person": adv.Person, "mentions": nonNil(ms), "linked": nonNil(linked), "notes": nonNil(notes),
		"advocate": map[string]any{"state": adv.AdvocateState, "score": adv.AdvocateScore, "note": adv.Note,
			"confirmed_by": adv.ConfirmedBy, "confirmed_at": nullTime(adv.ConfirmedAt), "scored_at": nullTime(adv.ScoredAt),
			"changes": nonNil(changes)},
	})
}

// apiAdvocates lists people with an advocate state, best score first.
func (s *Server) apiAdvocates(w http.ResponseWriter, r *http.Request) error {
	var states []string
	switch st := r.URL.Query().Get("state"); st {
	case "":
	case parley.AdvocateCandidate, parley.AdvocateActive, parley.AdvocateLapsed:
		states = []string{st}
	default:
		return parley.Errorf(parley.EINVALID, "state %q: want candidate, advocate or lapsed", st)
	}
	var offset, limit int
	if err := offsetPage(r, "advocates", 50, 200, &offset, &limit); err != nil {
		return err
	}
	es, err := s.st.AdvocateEntries(r.Context(), states, offset+limit)
	if err != nil {
		return err
	}
	es, next := pageOf(es, offset, offset, limit-1)
	return apiJSON(w, r, http.StatusOK, map[string]any{"advocates": es, "next_cursor": nextCursor("advocates", next)})
}

// apiDigests lists the weekly digests, newest first, without bodies.
func (s *Server) apiDigests(w http.ResponseWriter, r *http.Request) error {
	var offset, limit int
	if err := offsetPage(r, "digests", 20, 100, &offset, &limit); err != nil {
		return err
	}
	ds, err := s.st.Digests(r.Context())
	if err != nil {
		return err
	}
	ds, next := pageOf(ds, offset, offset, limit-1)
	return apiJSON(w, r, http.StatusOK, map[string]any{"digests": ds, "next_cursor": nextCursor("digests", next)})
}

func (s *Server) apiDigest(w http.ResponseWriter, r *http.Request) error {
	week, err := pathWeek(r)
	if err != nil {
		return err
	}
	d, err := s.st.Digest(r.Context(), week)
	if err != nil {
		return err
	}
	return apiJSON(w, r, http.StatusOK, d)
}

func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.st.Stats(r.Context())
	if err != nil {
		return err
	}
	return apiJSON(w, r, http.StatusOK, st)
}

// offsetPage reads the cursor and limit of a list paged by position; the
// limit set is one more than asked, to tell whether a next page exists.
func offsetPage(r *http.Request, kind string, def, most int, offset, limit *int) error {
	n, err := apiLimitParam(r, def, most)
	if err != nil {
		return err
	}
	raw, err := decodeCursor(r, kind)
	if err != nil {
		return err
	}
	if raw != "" {
		if *offset, err = strconv.Atoi(raw); err != nil || *offset < 0 {
			return parley.Errorf(parley.EINVALID, "bad %s cursor", kind)
		}
	}
	*limit = n + 1
	return nil
}

// pageOf drops the skip items earlier pages showed (when the store could
// not skip them itself), keeps limit, and returns the cursor value of the
// next page ("" for none) for a page that started at offset.
func pageOf[T any](items []T, skip, offset, limit int) ([]T, string) {
	items = items[min(skip, len(items)):]
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = strconv.Itoa(offset + limit)
	}
	return nonNil(items), next
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// nullTime is a time for JSON, null when zero.
func nullTime(t interface{ IsZero() bool }) any {
	if t.IsZero() {
		return nil
	}
	return t
}
