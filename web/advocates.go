package web

import (
	"net/http"
	"strconv"

	"github.com/parleybot/parley"
)

// advocateRow is one person on the advocates page with their last prompt
// (DraftID 0 for none).
type advocateRow struct {
	parley.AdvocateEntry
	LastPrompt parley.Prompt
}

// advocatesView is the advocates page's data.
type advocatesView struct {
	Rows   []advocateRow
	State  string // the filter: "" for every state
	States []string
	// CanManage is true for managers and admins: confirm, opt out, opt in.
	CanManage bool
}

// advocatesLimit is how many people the page lists, best score first.
const advocatesLimit = 200

// advocates lists candidates, advocates and lapsed advocates with their
// score, state and last prompt.
func (s *Server) advocates(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := advocatesView{State: r.URL.Query().Get("state"),
		States:    []string{parley.AdvocateCandidate, parley.AdvocateActive, parley.AdvocateLapsed},
		CanManage: currentUser(ctx).Role.AtLeast(parley.RoleManager)}
	var states []string
	switch v.State {
	case "":
	case parley.AdvocateCandidate, parley.AdvocateActive, parley.AdvocateLapsed:
		states = []string{v.State}
	default:
		s.fail(w, r, parley.Errorf(parley.EINVALID, "state %q: want candidate, advocate or lapsed", v.State))
		return
	}
	entries, err := s.st.AdvocateEntries(ctx, states, advocatesLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, e := range entries {
		row := advocateRow{AdvocateEntry: e}
		ps, err := s.st.PersonPrompts(ctx, e.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(ps) > 0 {
			row.LastPrompt = ps[0]
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, http.StatusOK, "advocates", "Advocates", "advocates", v)
}

// advocateAction confirms a person as an advocate, or opts them out of
// (or back into) prompts through the consent functions the person page
// uses too (waiting prompts withdrawn, audited); back to the page.
func (s *Server) advocateAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var msg string
	switch action := r.PathValue("action"); action {
	case "confirm":
		c, err := s.st.ConfirmAdvocate(ctx, id, u.Name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		msg = "Confirmed as an advocate (was " + orNone(c.From) + ")."
	case "optout", "optin":
		p, err := s.st.SetOptOut(ctx, id, action == "optout", u.Name, formText(r, "reason"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		msg = p.DisplayName() + " is opted out of invitations (waiting ones are withdrawn); they still get replies to their own posts."
		if action == "optin" {
			msg = p.DisplayName() + " is opted in to invitations again."
		}
	default:
		s.fail(w, r, parley.Errorf(parley.ENOTFOUND, "no advocate action %q: want confirm, optout or optin", action))
		return
	}
	if wantsJSON(r) {
		s.writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": id, "message": msg})
		return
	}
	s.flash(ctx, msg, true)
	http.Redirect(w, r, "/advocates#person-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func orNone(state string) string {
	if state == "" {
		return "not scored"
	}
	return state
}
