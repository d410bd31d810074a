package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// pathID reads the {id} path value.
func pathID(r *http.Request) (int64, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, parley.Errorf(parley.ENOTFOUND, "%q is not an id", raw)
	}
	return id, nil
}

// draftResult is what app.js gets back from a draft action.
type draftResult struct {
	OK        bool              `json:"ok"`
	ID        int64             `json:"id"`
	State     parley.DraftState `json:"state"`
	DecidedBy string            `json:"decided_by,omitempty"`
	Text      string            `json:"text"`
	Message   string            `json:"message"`
	// HTML is the draft's card, for actions that keep it in the inbox.
	HTML string `json:"html,omitempty"`
	// Undo, after an approval with a grace period, is where to post to
	// undo it, for UndoMS milliseconds from now.
	Undo   string `json:"undo,omitempty"`
	UndoMS int64  `json:"undo_ms,omitempty"`
}

// succeed answers a successful action: JSON for app.js, else a flash message
// and a redirect back to the page the form was on.
func (s *Server) succeed(w http.ResponseWriter, r *http.Request, res draftResult) {
	res.OK = true
	if wantsJSON(r) {
		s.writeJSON(w, http.StatusOK, res)
		return
	}
	s.flash(r.Context(), res.Message, true)
	http.Redirect(w, r, sameSitePath(r.Referer()), http.StatusSeeOther)
}

// formText reads a text field, trimmed at the ends.
func formText(r *http.Request, key string) string {
	return strings.TrimSpace(r.PostFormValue(key))
}

// approve approves a pending draft, with an edited text when the form has
// one (a blank one is refused). The decision service checks the text
// against the platform (422 with its message); a draft someone else
// already decided is a 409 saying who.
func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var text *string
	if t := formText(r, "text"); r.PostForm.Has("text") {
		text = &t
	}
	before, _ := s.st.Draft(ctx, id)
	s.usedSavedReply(r, id)
	d, err := s.opts.Decider.Approve(ctx, u.Name, id, text)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "Approved: it will be posted shortly."
	if d.Text != before.Text {
		msg = "Edited and approved: it will be posted shortly."
	}
	res := draftResult{ID: d.ID, State: d.State, DecidedBy: d.DecidedBy, Text: d.Text, Message: msg}
	if left := d.SendAfter.Sub(s.opts.Now()); left > 0 {
		res.Undo, res.UndoMS = "/drafts/"+strconv.FormatInt(d.ID, 10)+"/undo", left.Milliseconds()
		res.Message = strings.Replace(msg, "shortly.", "in "+strconv.Itoa(int(left.Round(time.Second).Seconds()))+" s unless you undo it.", 1)
	}
	s.succeed(w, r, res)
}

// undo returns a draft approved moments ago to pending, while its grace
// period lasts (the decision service refuses it after: 409).
func (s *Server) undo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.opts.Decider.Undo(ctx, u.Name, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.logger.Info("approval undone", "draft_id", d.ID, "user", u.Name)
	s.succeed(w, r, draftResult{ID: d.ID, State: d.State, Text: d.Text,
		Message: "Undone: nothing was posted; the draft waits for approval again."})
}

// edit saves a new text for a pending draft; it stays pending.
func (s *Server) edit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.opts.Decider.Edit(ctx, u.Name, id, formText(r, "text"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.usedSavedReply(r, d.ID)
	res := draftResult{ID: d.ID, State: d.State, Text: d.Text, Message: "Saved: the draft still waits for approval."}
	if it, err := s.st.InboxItem(ctx, id); err == nil {
		res.HTML, _ = s.fragment("card", s.card(r, it, UrgencyOf(it, s.opts.Now())))
	}
	s.succeed(w, r, res)
}

// reject rejects a pending (or failed) draft, with an optional reason.
func (s *Server) reject(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.opts.Decider.Reject(ctx, u.Name, id, formText(r, "reason"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.succeed(w, r, draftResult{ID: d.ID, State: d.State, DecidedBy: d.DecidedBy, Text: d.Text, Message: "Rejected: nothing will be sent."})
}

// assign gives a draft to a user ("me" for oneself, "" to release it).
// Agents may take drafts or release them; managers may assign anyone.
func (s *Server) assign(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to := formText(r, "user")
	if to == "me" {
		to = u.Name
	}
	if to != "" && !strings.EqualFold(to, u.Name) && !u.Role.AtLeast(parley.RoleManager) {
		s.fail(w, r, parley.Errorf(parley.EFORBIDDEN, "agents can take drafts for themselves only; ask a manager to assign %s", to))
		return
	}
	it, err := s.assignDraft(r, id, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "Released: anyone can take it."
	if it.AssignedTo != "" {
		msg = "Assigned to " + it.AssignedTo + "."
	}
	res := draftResult{ID: id, State: it.Draft.State, Text: it.Draft.Text, Message: msg}
	res.HTML, _ = s.fragment("card", s.card(r, it, UrgencyOf(it, s.opts.Now())))
	s.succeed(w, r, res)
}

// draftCard returns one pending draft's card (JSON {html}), for app.js.
func (s *Server) draftCard(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	it, err := s.st.InboxItem(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	html, err := s.fragment("card", s.card(r, it, UrgencyOf(it, s.opts.Now())))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"id": id, "state": it.Draft.State, "html": html})
}

// assignDraft gives a draft's conversation to user ("" releases it)
// through the decision service, so the conversation lists under their
// "mine"; a prompt, which has no conversation, is assigned alone.
func (s *Server) assignDraft(r *http.Request, id int64, to string) (parley.InboxItem, error) {
	ctx := r.Context()
	u := currentUser(ctx)
	it, err := s.st.InboxItem(ctx, id)
	if err != nil {
		return it, err
	}
	if it.Draft.ThreadID == 0 || it.Draft.Kind != parley.KindReply {
		return s.st.AssignDraft(ctx, id, to, u.Name)
	}
	if it.Draft.State != parley.DraftPending {
		return it, parley.Errorf(parley.ECONFLICT, "draft %d is %s already", id, it.Draft.State)
	}
	c, err := s.opts.Decider.Assign(ctx, u.Name, it.Draft.ThreadID, to)
	if err != nil {
		return it, err
	}
	it.AssignedTo = c.Assignee
	return it, nil
}
