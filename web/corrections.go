package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/parleybot/parley"
)

// correctionResult is what app.js gets back from a sentiment correction.
// From an inbox card (draft_id set) it carries the draft's state and
// fresh card, like a draft action; elsewhere the message's fresh HTML.
type correctionResult struct {
	OK        bool              `json:"ok"`
	MentionID int64             `json:"mention_id"`
	Label     parley.Label      `json:"label"`
	Corrected bool              `json:"corrected"`
	DraftID   int64             `json:"id,omitempty"`
	State     parley.DraftState `json:"state,omitempty"`
	Message   string            `json:"message"`
	HTML      string            `json:"html,omitempty"`
}

// correctSentiment sets a post's sentiment on a person's word (form field
// label: negative, neutral or positive) through the decision service,
// which decides the post again with the rules. The correction is written
// into the mention, so it wins everywhere, and the audit log says who made
// it.
// With draft_id (from an inbox card) the answer carries the fresh card.
func (s *Server) correctSentiment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	label, err := parley.ParseLabel(r.PostFormValue("label"))
	if err != nil {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "which sentiment? choose negative, neutral or positive (got %q)", r.PostFormValue("label")))
		return
	}
	var draftID int64
	if raw := r.PostFormValue("draft_id"); raw != "" {
		if draftID, err = strconv.ParseInt(raw, 10, 64); err != nil {
			s.fail(w, r, parley.Errorf(parley.EINVALID, "%q is not a draft id", raw))
			return
		}
	}
	rd, err := s.opts.Decider.CorrectSentiment(ctx, u.Name, id, label)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m := rd.Mention
	res := correctionResult{OK: true, MentionID: m.ID, Label: m.Sentiment.Label, Corrected: isCorrected(m),
		Message: fmt.Sprintf("Marked as %s.%s Corrections are kept to retrain the classifier.", m.Sentiment.Label, redecidedText(rd))}
	if len(rd.Queued) > 0 {
		for _, d := range rd.Replaced {
			if d.ID == draftID {
				// The card shows the draft that replaced it.
				draftID = rd.Queued[0].ID
			}
		}
	}
	if !wantsJSON(r) {
		s.flash(ctx, res.Message, true)
		http.Redirect(w, r, sameSitePath(r.Referer()), http.StatusSeeOther)
		return
	}
	if draftID != 0 {
		// ierr, not err: err must carry the render error to the check below.
		it, ierr := s.st.InboxItem(ctx, draftID)
		if ierr != nil {
			s.fail(w, r, ierr)
			return
		}
		res.DraftID, res.State = draftID, it.Draft.State
		if it.Draft.State == parley.DraftPending && it.Mention.ID == m.ID {
			res.HTML, err = s.fragment("card", s.card(r, it, UrgencyOf(it, s.opts.Now())))
		}
	} else {
		res.HTML, err = s.fragment("message", message{At: m.CreatedAt, Mention: m, CSRF: s.csrfToken(ctx)})
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("render corrected message: %w", err))
		return
	}
	s.writeJSON(w, http.StatusOK, res)
}

// redecidedText says in a sentence what deciding the post again did to
// its drafts ("" when nothing changed).
func redecidedText(rd parley.Redecision) string {
	switch {
	case len(rd.Replaced) > 0 && len(rd.Queued) > 0:
		return fmt.Sprintf(" The %s draft was replaced by a %s draft.", rd.Replaced[0].Rule, rd.Queued[0].Rule)
	case len(rd.Replaced) > 0:
		return fmt.Sprintf(" The %s draft was withdrawn: no rule drafts a reply now.", rd.Replaced[0].Rule)
	case len(rd.Queued) > 0:
		return fmt.Sprintf(" A %s draft is queued.", rd.Queued[0].Rule)
	}
	return ""
}

// modelCorrected is the Sentiment.Model the store writes with a
// correction (parley.PeopleStore.CorrectSentimentAndRedecide).
const modelCorrected = "corrected"

// isCorrected reports whether a person set the mention's sentiment.
func isCorrected(m parley.Mention) bool { return m.Sentiment.Model == modelCorrected }
