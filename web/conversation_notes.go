package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/parleybot/parley"
)

// notesView is the "conversation-notes" partial's data.
type notesView struct {
	ConvID int64
	Notes  []parley.ConversationNote
	CSRF   string
}

// tagsView is the "conversation-tags" partial's data: the tags people put
// on the conversation (removable) and, apart, those its rules put on its
// posts.
type tagsView struct {
	ConvID   int64
	Tags     []string
	RuleTags []string
	CSRF     string
}

// notesAndTags reads a conversation's notes and tags for its page (and the
// inbox's detail pane); ms are its posts, whose rule tags are listed apart.
func (s *Server) notesAndTags(r *http.Request, id int64, ms []parley.Mention) (notesView, tagsView, error) {
	ctx := r.Context()
	csrf := s.csrfToken(ctx)
	nv, tv := notesView{ConvID: id, CSRF: csrf}, tagsView{ConvID: id, CSRF: csrf}
	var err error
	if nv.Notes, err = s.st.ConversationNotes(ctx, id); err != nil {
		return nv, tv, err
	}
	if tv.Tags, err = s.st.ConversationTags(ctx, id); err != nil {
		return nv, tv, err
	}
	for _, m := range ms {
		for _, t := range m.Tags {
			if !slices.Contains(tv.RuleTags, t) {
				tv.RuleTags = append(tv.RuleTags, t)
			}
		}
	}
	slices.Sort(tv.RuleTags)
	return nv, tv, nil
}

// noteDone answers a note or tag action: JSON for app.js, else back to
// the conversation.
func (s *Server) noteDone(w http.ResponseWriter, r *http.Request, id int64, res map[string]any, msg string) {
	if wantsJSON(r) {
		res["ok"], res["message"] = true, msg
		s.writeJSON(w, http.StatusOK, res)
		return
	}
	s.flash(r.Context(), msg, true)
	http.Redirect(w, r, "/threads/"+strconv.FormatInt(id, 10)+"#notes", http.StatusSeeOther)
}

// addConversationNote adds an internal note: staff see it here and in
// the inbox; it is never posted.
func (s *Server) addConversationNote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.st.AddConversationNote(ctx, id, currentUser(ctx).Name, formText(r, "text"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.noteDone(w, r, id, map[string]any{"note": n}, "Note added (staff only, never posted).")
}

// tagConversation adds a manual tag, or removes one (remove=1).
func (s *Server) tagConversation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	remove := r.PostFormValue("remove") != ""
	tags, err := s.st.TagConversation(ctx, id, currentUser(ctx).Name, formText(r, "tag"), remove)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "Tagged."
	if remove {
		msg = "Tag removed."
	}
	s.noteDone(w, r, id, map[string]any{"tags": tags}, msg)
}
