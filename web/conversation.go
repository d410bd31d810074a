package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// conversationResult is what app.js gets back from a conversation action.
type conversationResult struct {
	OK           bool                     `json:"ok"`
	ID           int64                    `json:"id"`
	State        parley.ConversationState `json:"state"`
	Assignee     string                   `json:"assignee,omitempty"`
	SnoozedUntil time.Time                `json:"snoozed_until,omitzero"`
	Message      string                   `json:"message"`
}

// conversationDone answers a conversation action: JSON for app.js, else a
// flash message and a redirect to the thread, where the forms are.
func (s *Server) conversationDone(w http.ResponseWriter, r *http.Request, c parley.Conversation, msg string) {
	if wantsJSON(r) {
		s.writeJSON(w, http.StatusOK, conversationResult{OK: true, ID: c.ID, State: c.State,
			Assignee: c.Assignee, SnoozedUntil: c.SnoozedUntil, Message: msg})
		return
	}
	s.flash(r.Context(), msg, true)
	http.Redirect(w, r, "/threads/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
}

// closeConversation marks a conversation as needing no reply, with an
// optional reason for the audit log.
func (s *Server) closeConversation(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r.Context())
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.opts.Decider.Close(r.Context(), u.Name, id, formText(r, "reason"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.conversationDone(w, r, c, "Closed: a new message from the customer opens it again.")
}

// reopenConversation puts a conversation back among those needing a reply.
func (s *Server) reopenConversation(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r.Context())
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.opts.Decider.Reopen(r.Context(), u.Name, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.conversationDone(w, r, c, "Reopened: it needs a reply.")
}

// snoozeLayout is how a browser's datetime-local input sends its value.
const snoozeLayout = "2006-01-02T15:04"

// snoozeUntil reads when a snooze ends: "for" is 1h, 4h or tomorrow (9:00
// the next day), else "until" is a date and time. Times are UTC, as the
// pages show them, so what people type matches what they read.
func snoozeUntil(r *http.Request, now time.Time) (time.Time, error) {
	now = now.UTC()
	switch formText(r, "for") {
	case "1h":
		return now.Add(time.Hour), nil
	case "4h":
		return now.Add(4 * time.Hour), nil
	case "tomorrow":
		d := now.AddDate(0, 0, 1)
		return time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, time.UTC), nil
	case "", "until":
	default:
		return time.Time{}, parley.Errorf(parley.EINVALID, "snooze for %q: want 1h, 4h, tomorrow or a date and time", formText(r, "for"))
	}
	raw := formText(r, "until")
	if raw == "" {
		return time.Time{}, parley.Errorf(parley.EINVALID, "snooze until when? Pick 1 hour, 4 hours, tomorrow or a date and time")
	}
	t, err := time.ParseInLocation(snoozeLayout, raw, time.UTC)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, raw); err != nil {
			return time.Time{}, parley.Errorf(parley.EINVALID, "snooze until %q: want a date and time like 2026-12-24T09:00", raw)
		}
	}
	return t, nil
}

// snoozeConversation sets a conversation aside until a time; the decision
// service refuses a time that is not in the future.
func (s *Server) snoozeConversation(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r.Context())
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	until, err := snoozeUntil(r, s.opts.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.opts.Decider.Snooze(r.Context(), u.Name, id, until)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.conversationDone(w, r, c, "Snoozed until "+c.SnoozedUntil.UTC().Format("2 Jan 2006 15:04 UTC")+".")
}

// assignConversation gives a conversation to a user ("me" for oneself, ""
// to release it). Agents may take one, or release their own; only
// managers and admins give one to someone else or take it from them.
func (s *Server) assignConversation(w http.ResponseWriter, r *http.Request) {
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
	if !u.Role.AtLeast(parley.RoleManager) {
		if to != "" && !strings.EqualFold(to, u.Name) {
			s.fail(w, r, parley.Errorf(parley.EFORBIDDEN, "agents can take conversations for themselves only; ask a manager to assign %s", to))
			return
		}
		if to == "" {
			cur, err := s.st.Conversation(ctx, id)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if cur.Assignee != "" && !strings.EqualFold(cur.Assignee, u.Name) {
				s.fail(w, r, parley.Errorf(parley.EFORBIDDEN, "it is assigned to %s; ask a manager to release it", cur.Assignee))
				return
			}
		}
	}
	c, err := s.opts.Decider.Assign(ctx, u.Name, id, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "Released: anyone can take it."
	if c.Assignee != "" {
		msg = "Assigned to " + c.Assignee + "."
	}
	s.conversationDone(w, r, c, msg)
}
