package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/parleybot/parley"
)

// message is one post in a thread or a person's history: theirs (a
// mention) or ours (a draft).
type message struct {
	At      time.Time
	Ours    bool
	Mention parley.Mention
	Draft   parley.Draft
	// CSRF is the session's token, for the sentiment correction form.
	CSRF string
}

// withCSRF gives every message the session's token (for their forms).
func withCSRF(ms []message, token string) []message {
	for i := range ms {
		ms[i].CSRF = token
	}
	return ms
}

// threadView is the thread page's data.
type threadView struct {
	Thread   parley.Thread
	Messages []message
	// ReplyTo is the mention the reply box answers: the one "Reply to
	// this" chose (?to=ID), else the latest; Latest says it is the latest.
	ReplyTo parley.Mention
	Latest  bool
	People  map[int64]parley.Person
	// Conv is the thread as a unit of work (state, assignee), for the
	// header and its actions; HasConv is false for a thread without one.
	Conv    parley.Conversation
	HasConv bool
	// State is Conv's state now (a snooze that ran out needs a reply).
	State parley.ConversationState
	// Me is the user looking; Users are who a manager can assign it to.
	Me    string
	Users []string
	// Person is who wrote the message the reply answers (the inbox's
	// detail pane sums them up); Card is the pending draft, if any.
	Person parley.Person
	Card   *cardView
	CSRF   string
	// Pending is the conversation's pending reply draft in its editor, nil
	// for none.
	Pending *draftEditor
	// Notes and Tags are the conversation's internal notes and tags (when
	// HasConv).
	Notes notesView
	Tags  tagsView
}

// draftEditor is the "draft-editor" partial's data: a pending draft and
// the session's CSRF token.
type draftEditor struct {
	Draft parley.Draft
	CSRF  string
}

// draftTime is when a draft belongs in a conversation: when it was sent,
// else when it was written.
func draftTime(d parley.Draft) time.Time {
	if !d.SentAt.IsZero() {
		return d.SentAt
	}
	return d.CreatedAt
}

// conversation merges mentions and our drafts (rejected ones left out) in
// time order.
func conversation(ms []parley.Mention, ds []parley.Draft) []message {
	var out []message
	for _, m := range ms {
		out = append(out, message{At: m.CreatedAt, Mention: m})
	}
	for _, d := range ds {
		if d.State == parley.DraftRejected || d.State == parley.DraftSuperseded {
			continue
		}
		out = append(out, message{At: draftTime(d), Ours: true, Draft: d})
	}
	slices.SortStableFunc(out, func(a, b message) int { return a.At.Compare(b.At) })
	return out
}

// thread shows a conversation in order, our replies included, with the
// reply box.
func (s *Server) thread(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
	v, err := s.threadData(r, id, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "thread", "Conversation on "+platformName(v.Thread.Platform), "inbox", v)
}

// threadData is what the thread page and the inbox's detail pane show of
// thread id: its messages, conversation, person and pending draft; to
// names the message the reply box answers (0: the newest).
func (s *Server) threadData(r *http.Request, id, to int64) (threadView, error) {
	ctx := r.Context()
	t, err := s.st.Thread(ctx, id)
	if err != nil {
		return threadView{}, err
	}
	ms, err := s.st.ThreadMentions(ctx, id)
	if err != nil {
		return threadView{}, err
	}
	ds, err := s.st.Drafts(ctx, parley.DraftFilter{ThreadID: id, Limit: 500})
	if err != nil {
		return threadView{}, err
	}
	v := threadView{Thread: t, Messages: withCSRF(conversation(ms, ds), s.csrfToken(ctx)), CSRF: s.csrfToken(ctx)}
	for _, d := range ds {
		if d.State == parley.DraftPending && d.Kind == parley.KindReply {
			v.Pending = &draftEditor{Draft: d, CSRF: s.csrfToken(ctx)}
		}
	}
	if err := s.withConversation(r, &v); err != nil {
		return v, err
	}
	if len(ms) > 0 {
		v.ReplyTo = slices.MaxFunc(ms, func(a, b parley.Mention) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		v.Latest = true
		// "Reply to this" names the message the reply answers.
		if i := slices.IndexFunc(ms, func(m parley.Mention) bool { return m.ID == to }); i >= 0 {
			v.ReplyTo, v.Latest = ms[i], ms[i].ID == v.ReplyTo.ID
		}
		if p, err := s.st.Person(ctx, v.ReplyTo.PersonID); err == nil {
			v.Person = p
		}
	}
	if v.Conv.PendingDraftID != 0 {
		it, err := s.st.InboxItem(ctx, v.Conv.PendingDraftID)
		if err != nil {
			return v, err
		}
		it.AssignedTo = v.Conv.Assignee
		c := s.card(r, it, UrgencyOf(it, s.opts.Now()))
		v.Card = &c
	}
	return v, nil
}

// reply queues a reply written in the thread's reply box: a pending
// draft, approved like any other.
func (s *Server) reply(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mid, err := strconv.ParseInt(r.PostFormValue("mention_id"), 10, 64)
	if err != nil {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "which post does the reply answer? (mention_id is missing)"))
		return
	}
	d, err := s.opts.Decider.Reply(ctx, u.Name, id, mid, formText(r, "text"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.usedSavedReply(r, d.ID)
	s.logger.Info("reply queued", "draft_id", d.ID, "user", u.Name, "thread_id", id)
	s.succeed(w, r, draftResult{ID: d.ID, State: d.State, Text: d.Text,
		Message: "Reply queued: it waits in the inbox for approval."})
}

// withConversation adds the conversation's state and assignee to v, and
// for managers the users they can assign it to. A thread the store has no
// conversation for yet shows no conversation actions.
func (s *Server) withConversation(r *http.Request, v *threadView) error {
	ctx := r.Context()
	u := currentUser(ctx)
	v.Me = u.Name
	c, err := s.st.Conversation(ctx, v.Thread.ID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	v.Conv, v.HasConv, v.State = c, true, c.Effective(s.opts.Now())
	var ms []parley.Mention
	for _, m := range v.Messages {
		if !m.Ours {
			ms = append(ms, m.Mention)
		}
	}
	if v.Notes, v.Tags, err = s.notesAndTags(r, c.ID, ms); err != nil {
		return err
	}
	if !u.Role.AtLeast(parley.RoleManager) {
		return nil
	}
	users, err := s.st.Users(ctx)
	if err != nil {
		return err
	}
	for _, x := range users {
		v.Users = append(v.Users, x.Name)
	}
	return nil
}
