package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/parleybot/parley"
)

// savedRepliesView is the saved replies page's data.
type savedRepliesView struct {
	Replies   []parley.SavedReply
	Query     string
	Platform  string
	Platforms []string
	// CanEdit is true for managers and admins, who keep the library.
	CanEdit bool
	// Edit is the reply being edited (?edit=ID), else a blank one to add.
	Edit parley.SavedReply
}

// savedReplies lists the library; managers add, edit and delete there.
func (s *Server) savedReplies(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	v := savedRepliesView{Query: strings.TrimSpace(q.Get("q")), Platform: q.Get("platform"),
		Platforms: []string{parley.PlatformMastodon, parley.PlatformDiscord},
		CanEdit:   currentUser(ctx).Role.AtLeast(parley.RoleManager)}
	var err error
	if v.Replies, err = s.st.SavedReplies(ctx, v.Query, v.Platform); err != nil {
		s.fail(w, r, err)
		return
	}
	if id, err := strconv.ParseInt(q.Get("edit"), 10, 64); err == nil && v.CanEdit {
		if v.Edit, err = s.st.SavedReply(ctx, id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "saved_replies", "Saved replies", "saved-replies", v)
}

// saveReply adds a saved reply (POST /saved-replies) or replaces one
// (POST /saved-replies/{id}). Its text must be a valid reply template: the
// error names the bad variable.
func (s *Server) saveReply(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sr := parley.SavedReply{Title: formText(r, "title"), Text: formText(r, "text"), Platform: formText(r, "platform")}
	if r.PathValue("id") != "" {
		id, err := pathID(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sr.ID = id
	}
	switch sr.Platform {
	case "", parley.PlatformMastodon, parley.PlatformDiscord:
	default:
		s.fail(w, r, parley.Errorf(parley.EINVALID, "platform %q: want mastodon, discord or any", sr.Platform))
		return
	}
	if s.opts.Templates != nil && sr.Text != "" {
		if err := s.opts.Templates.CheckTemplate(sr.Text); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	saved, err := s.st.SaveReply(ctx, currentUser(ctx).Name, sr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.savedDone(w, r, saved, "Saved “"+saved.Title+"”.")
}

// deleteSavedReply removes a saved reply; drafts written from it keep
// their text.
func (s *Server) deleteSavedReply(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.st.DeleteSavedReply(ctx, currentUser(ctx).Name, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.savedDone(w, r, parley.SavedReply{ID: id}, "Deleted.")
}

func (s *Server) savedDone(w http.ResponseWriter, r *http.Request, sr parley.SavedReply, msg string) {
	if wantsJSON(r) {
		s.writeJSON(w, http.StatusOK, map[string]any{"ok": true, "saved_reply": sr, "message": msg})
		return
	}
	s.flash(r.Context(), msg, true)
	http.Redirect(w, r, "/saved-replies", http.StatusSeeOther)
}

// pickedReply is one saved reply offered in the editor's picker, its text
// rendered for the person the draft answers.
type pickedReply struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Platform string `json:"platform,omitempty"`
	Text     string `json:"text"`
	Error    string `json:"error,omitempty"`
}

// pickSavedReply answers the editor's picker (JSON): the saved replies
// for the platform of the message answered (mention_id), matching q,
// each rendered for its author.
func (s *Server) pickSavedReply(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	mid, err := strconv.ParseInt(q.Get("mention_id"), 10, 64)
	if err != nil {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "which message does the reply answer? (mention_id is missing)"))
		return
	}
	m, err := s.st.Mention(ctx, mid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.st.Person(ctx, m.PersonID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.st.SavedReplies(ctx, q.Get("q"), m.Platform)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]pickedReply, 0, len(list))
	for _, sr := range list {
		pr := pickedReply{ID: sr.ID, Title: sr.Title, Platform: sr.Platform, Text: sr.Text}
		if s.opts.Templates != nil {
			if pr.Text, err = s.opts.Templates.RenderTemplate(sr.Text, m, p); err != nil {
				pr.Text, pr.Error = sr.Text, parley.ErrorMessage(err)
			}
		}
		out = append(out, pr)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"replies": out})
}

// usedSavedReply records that draftID was written from the saved reply
// the editor inserted (its form's saved_reply_id), so the digest can count
// it once the draft is approved. A failure only loses the count.
func (s *Server) usedSavedReply(r *http.Request, draftID int64) {
	id, err := strconv.ParseInt(r.PostFormValue("saved_reply_id"), 10, 64)
	if err != nil || id <= 0 || draftID <= 0 {
		return
	}
	if err := s.st.UseSavedReply(r.Context(), id, draftID); err != nil {
		s.logger.Warn("record saved reply use", "saved_reply_id", id, "draft_id", draftID, "err", err)
	}
}
