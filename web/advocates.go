package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
)

// advocateStore is what the advocates page needs: the people the scoring
// follows, their prompts, and the consent functions `parley advocates`
// uses too (each audited).
type advocateStore interface {
	Advocates(ctx context.Context, states []string, limit int) ([]parley.Person, error)
	PersonPrompts(ctx context.Context, personID int64) ([]parley.Prompt, error)
	ConfirmAdvocate(ctx context.Context, personID int64, actor string) (parley.AdvocateChange, error)
	OptOut(ctx context.Context, req parley.OptOutRequest) (parley.OptOutResult, error)
	OptIn(ctx context.Context, personID int64, actor, reason string) (parley.OptOutResult, error)
}

func (s *Server) advocateStore() advocateStore { return s.st }

// advocateRow is one person on the advocates page with their last prompt
// (DraftID 0 for none).
type advocateRow struct {
	Person     parley.Person
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
		CanManage: currentUser(ctx).Role.AtLeast(store.RoleManager)}
	var states []string
	switch v.State {
	case "":
	case parley.AdvocateCandidate, parley.AdvocateActive, parley.AdvocateLapsed:
		states = []string{v.State}
	default:
		s.fail(w, r, parley.Errorf(parley.EINVALID, "state %q: want candidate, advocate or lapsed", v.State))
		return
	}
	people, err := s.advocateStore().Advocates(ctx, states, advocatesLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, p := range people {
		row := advocateRow{Person: p}
		ps, err := s.advocateStore().PersonPrompts(ctx, p.ID)
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
// (or back into) prompts, through the consent functions; back to the page.
func (s *Server) advocateAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reason := formText(r, "reason")
	var msg string
	switch action := r.PathValue("action"); action {
	case "confirm":
		c, err := s.advocateStore().ConfirmAdvocate(ctx, id, u.Name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		msg = "Confirmed as an advocate (was " + orNone(c.From) + ")."
	case "optout":
		res, err := s.advocateStore().OptOut(ctx, parley.OptOutRequest{PersonID: id, Actor: u.Name, Reason: reason})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		msg = "Opted out of invitations; they still get replies to their own posts."
		if n := len(res.Withdrawn); n > 0 {
			msg += " Withdrew " + strconv.Itoa(n) + " waiting invitation(s)."
		}
	case "optin":
		if _, err := s.advocateStore().OptIn(ctx, id, u.Name, reason); err != nil {
			s.fail(w, r, err)
			return
		}
		msg = "Opted in to invitations again."
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
