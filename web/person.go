package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// personView is the person page's data.
type personView struct {
	Person   parley.Person
	Messages []message // newest first
	Chart    chart
	// Advocate is what the last scoring said and who confirmed them.
	Advocate parley.AdvocateEntry
	// Prompts are the invitations we queued for them, newest first.
	Prompts []promptView
	// Changes are their advocate state changes, newest first.
	Changes []parley.AdvocateChange
	// Consent is their opt-out and opt-in history, newest first.
	Consent []parley.AuditEntry
	Notes   []parley.Note
	Linked  []parley.Person
	// Suggest lists people on other platforms who may be the same human.
	Suggest []parley.Person
	Drafts  []parley.Draft // ours: every state
	Total   int            // mentions shown
	Mix     mix
}

// mix is the share of each sentiment in a person's posts, in percent, for
// a stacked bar.
type mix struct{ Pos, Neu, Neg, NegX float64 }

func mixOf(p parley.Person) mix {
	if p.Mentions == 0 {
		return mix{}
	}
	pct := func(n int) float64 { return float64(n) * 100 / float64(p.Mentions) }
	m := mix{Pos: pct(p.Positive), Neu: pct(p.Neutral), Neg: pct(p.Negative)}
	m.NegX = m.Pos + m.Neu
	return m
}

// promptView is an invitation we queued and how it ended.
type promptView struct {
	parley.Prompt
	// Status is the outcome (converted, declined, expired, withdrawn) or,
	// while there is none, what the draft is doing (waiting, watching,
	// sent, rejected, failed).
	Status string
	// Answer is the post that decided the outcome, when there is one.
	Answer *parley.Mention
}

// person shows everything a person said and we said to them.
func (s *Server) person(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	adv, err := s.st.PersonAdvocate(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := adv.Person
	ms, err := s.st.PersonMentions(ctx, id, 500)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.st.Drafts(ctx, parley.DraftFilter{PersonID: id, Limit: 500})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notes, err := s.st.Notes(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	linked, err := s.st.LinkedPeople(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	prs, err := s.st.PersonPrompts(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes, err := s.st.PersonAdvocateChanges(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	consent, err := s.st.ConsentLog(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := personView{Person: p, Advocate: adv, Notes: notes, Linked: linked, Drafts: ds, Total: len(ms), Mix: mixOf(p)}
	v.Messages = withCSRF(conversation(ms, ds), s.csrfToken(ctx))
	slices.Reverse(v.Messages)
	v.Chart = sentimentChart(ms)
	v.Prompts = s.promptViews(r, prs, ms)
	slices.Reverse(changes)
	slices.Reverse(consent)
	v.Changes, v.Consent = changes, consent
	if u := currentUser(ctx); u != nil && u.Role.AtLeast(parley.RoleManager) {
		v.Suggest = s.linkSuggestions(r, p, linked)
	}
	s.render(w, r, http.StatusOK, "person", p.DisplayName(), "people", v)
}

// promptViews gives each prompt its status and the post that decided its
// outcome (found among ms, the person's posts, else read).
func (s *Server) promptViews(r *http.Request, prs []parley.Prompt, ms []parley.Mention) []promptView {
	now := s.opts.Now()
	out := make([]promptView, 0, len(prs))
	for _, p := range prs {
		pv := promptView{Prompt: p, Status: p.Status(now)}
		if id := p.OutcomeMentionID; id != 0 {
			if i := slices.IndexFunc(ms, func(m parley.Mention) bool { return m.ID == id }); i >= 0 {
				pv.Answer = &ms[i]
			} else if m, err := s.st.Mention(r.Context(), id); err == nil {
				pv.Answer = &m
			} else {
				s.logger.Warn("prompt outcome mention", "draft_id", p.DraftID, "mention_id", id, "err", err)
			}
		}
		out = append(out, pv)
	}
	return out
}

// linkSuggestions finds people on other platforms with the same handle
// (before any @server) or display name.
func (s *Server) linkSuggestions(r *http.Request, p parley.Person, linked []parley.Person) []parley.Person {
	seen := map[int64]bool{p.ID: true}
	for _, l := range linked {
		seen[l.ID] = true
	}
	var out []parley.Person
	local, _, _ := strings.Cut(strings.TrimPrefix(p.Handle, "@"), "@")
	for _, q := range []string{local, p.Name} {
		if len(q) < 3 {
			continue
		}
		found, err := s.st.SearchPeople(r.Context(), q, 10)
		if err != nil {
			s.logger.Warn("link suggestions", "err", err)
			return out
		}
		for _, c := range found {
			if !seen[c.ID] && c.Platform != p.Platform {
				seen[c.ID] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// chart is a small SVG of sentiment scores over time.
type chart struct {
	Width, Height int
	Points        []chartPoint
	Line          string // polyline points
	First, Last   time.Time
	ZeroY         int
}

type chartPoint struct {
	X, Y  int
	Label parley.Label
	Title string
}

// sentimentChart plots ms (newest first) oldest to newest.
func sentimentChart(ms []parley.Mention) chart {
	c := chart{Width: 640, Height: 120}
	c.ZeroY = c.Height / 2
	if len(ms) == 0 {
		return c
	}
	old := slices.Clone(ms)
	slices.Reverse(old)
	c.First, c.Last = old[0].CreatedAt, old[len(old)-1].CreatedAt
	span := c.Last.Sub(c.First)
	const pad = 10
	var line []string
	for i, m := range old {
		x := c.Width / 2
		switch {
		case span > 0:
			x = pad + int(float64(c.Width-2*pad)*float64(m.CreatedAt.Sub(c.First))/float64(span))
		case len(old) > 1:
			x = pad + (c.Width-2*pad)*i/(len(old)-1)
		}
		score := max(-1, min(1, m.Sentiment.Score))
		y := c.ZeroY - int(score*float64(c.Height/2-pad))
		c.Points = append(c.Points, chartPoint{X: x, Y: y, Label: m.Sentiment.Label,
			Title: fmt.Sprintf("%s: %s (%.2f)", m.CreatedAt.UTC().Format("2 Jan 2006"), m.Sentiment.Label, m.Sentiment.Score)})
		line = append(line, strconv.Itoa(x)+","+strconv.Itoa(y))
	}
	c.Line = strings.Join(line, " ")
	return c
}

// addNote writes a staff note about a person.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.st.AddNote(ctx, id, currentUser(ctx).Name, r.PostFormValue("text")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(ctx, "Note saved.", true)
	http.Redirect(w, r, fmt.Sprintf("/people/%d#notes", id), http.StatusSeeOther)
}

// link links a person to another (the same human elsewhere), named by id
// (other) or by handle (handle, with an optional platform).
func (s *Server) link(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var other parley.Person
	if raw := r.PostFormValue("other"); raw != "" {
		oid, perr := strconv.ParseInt(raw, 10, 64)
		if perr != nil {
			s.fail(w, r, parley.Errorf(parley.EINVALID, "%q is not a person id", raw))
			return
		}
		other, err = s.st.Person(ctx, oid)
	} else {
		handle := formText(r, "handle")
		if handle == "" {
			s.fail(w, r, parley.Errorf(parley.EINVALID, "whom to link? type their handle (e.g. jules@skate.social) or id"))
			return
		}
		other, err = s.st.FindPerson(ctx, r.PostFormValue("platform"), handle)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.st.LinkPeople(ctx, id, other.ID, currentUser(ctx).Name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(ctx, fmt.Sprintf("Linked to %s on %s.", other.DisplayName(), platformName(other.Platform)), true)
	http.Redirect(w, r, fmt.Sprintf("/people/%d#linked", id), http.StatusSeeOther)
}

// unlink takes a person (form field person, default the page's) out of
// their linked group.
func (s *Server) unlink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	target := id
	if raw := r.PostFormValue("person"); raw != "" {
		if target, err = strconv.ParseInt(raw, 10, 64); err != nil {
			s.fail(w, r, parley.Errorf(parley.EINVALID, "%q is not a person id", raw))
			return
		}
	}
	if err := s.st.UnlinkPerson(ctx, target, currentUser(ctx).Name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(ctx, "Unlinked.", true)
	http.Redirect(w, r, fmt.Sprintf("/people/%d#linked", id), http.StatusSeeOther)
}

// optOut records that a person does (optout=1) or does not (optout=0) want
// to hear from us.
func (s *Server) optOut(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := r.PostFormValue("optout") == "1"
	p, err := s.st.SetOptOut(ctx, id, out, currentUser(ctx).Name, formText(r, "reason"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := p.DisplayName() + " is marked as opted out."
	if !out {
		msg = p.DisplayName() + " is no longer marked as opted out."
	}
	s.flash(ctx, msg, true)
	http.Redirect(w, r, fmt.Sprintf("/people/%d", id), http.StatusSeeOther)
}

// peopleView is the people search page's data.
type peopleView struct {
	Query  string
	People []parley.Person
}

// people searches people by handle or name.
func (s *Server) people(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := peopleView{Query: q}
	if q != "" {
		ps, err := s.st.SearchPeople(r.Context(), q, 50)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.People = ps
	}
	s.render(w, r, http.StatusOK, "people", "People", "people", v)
}

// erasePerson erases a person on a manager's request, once they typed the
// person's handle to confirm.
func (s *Server) erasePerson(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	var p parley.Person
	if err == nil {
		p, err = s.st.Person(ctx, id)
	}
	if err == nil && !strings.EqualFold(strings.TrimPrefix(formText(r, "confirm"), "@"), strings.TrimPrefix(p.Handle, "@")) {
		err = parley.Errorf(parley.EINVALID, "type the person's handle (%s) to confirm the erasure", p.Handle)
	}
	var e parley.Erasure
	if err == nil {
		e, err = s.st.ErasePerson(ctx, id, currentUser(ctx).Name, r.PostFormValue("block") == "1")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(ctx, fmt.Sprintf("Erased: %d posts anonymised, %d drafts emptied.", e.Mentions, e.Drafts), true)
	http.Redirect(w, r, fmt.Sprintf("/people/%d", id), http.StatusSeeOther)
}
