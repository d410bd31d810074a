// Package storelogic is the Go logic the SQLite and the PostgreSQL stores
// share: what a decision on a draft or a conversation may do and how it
// is refused, the consent rules for advocate prompts, how a rule's draft is
// placed on its mention, and the export filters. Each store keeps its own
// SQL and hands this package the facts it read; the conformance suite
// (store/storetest) checks both stores behave the same.
package storelogic

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// Conflict explains why a draft cannot be decided again: who approved or
// rejected it, or that a newer draft superseded it.
func Conflict(d parley.Draft) error {
	switch d.State {
	case parley.DraftApproved, parley.DraftSending, parley.DraftSent:
		by := d.DecidedBy
		if by == "" {
			by = "someone"
		}
		return parley.Errorf(parley.ECONFLICT, "draft %d is already approved by %s (now %s)", d.ID, by, d.State)
	case parley.DraftRejected:
		return parley.Errorf(parley.ECONFLICT, "draft %d is already rejected by %s", d.ID, d.DecidedBy)
	case parley.DraftSuperseded:
		return parley.Errorf(parley.ECONFLICT, "draft %d was superseded by a newer draft in its conversation; nothing of it will be sent", d.ID)
	}
	return parley.Errorf(parley.ECONFLICT, "draft %d is %s", d.ID, d.State)
}

// CheckText refuses an empty draft text.
func CheckText(id int64, text string) error {
	if strings.TrimSpace(text) == "" {
		return parley.Errorf(parley.EINVALID, "draft %d: the text is empty", id)
	}
	return nil
}

// SameDraft returns the index in drafts of one the rule writes as d (same
// rule, same text), or -1: deciding a mention again keeps such a draft.
func SameDraft(drafts []parley.Draft, d parley.Draft) int {
	for i, n := range drafts {
		if n.Rule == d.Rule && n.Text == d.Text {
			return i
		}
	}
	return -1
}

// PlaceDraft fills in a rule's draft for mention m, decided at now: its
// kind (a reply unless set), its state (pending unless the rule approved
// it, then decided by "rule:NAME"), the mention, person, thread and
// platform it belongs to, and its times.
func PlaceDraft(d *parley.Draft, m *parley.Mention, now time.Time) {
	if d.Kind == "" {
		d.Kind = parley.KindReply
	}
	if d.State == "" {
		d.State = parley.DraftPending
	}
	d.Platform, d.MentionID, d.PersonID, d.ThreadID = m.Platform, m.ID, m.PersonID, m.ThreadID
	d.CreatedAt, d.UpdatedAt = now, now
	if d.State == parley.DraftApproved {
		d.DecidedBy, d.DecidedAt = "rule:"+d.Rule, now
	}
}

// ConversationChange checks a change of a conversation's state and
// returns the audit action and detail: close, reopen, or snooze until a
// time after now. Errors: EINVALID for another state or a snooze that
// does not end in the future.
func ConversationChange(id int64, state parley.ConversationState, until, now time.Time, reason string) (action, detail string, err error) {
	switch state {
	case parley.Closed:
		return "close", reason, nil
	case parley.NeedsReply:
		return "reopen", reason, nil
	case parley.Snoozed:
		if !until.After(now) {
			return "", "", parley.Errorf(parley.EINVALID, "snooze conversation %d: until when? (%s is not in the future)",
				id, until.Format(time.RFC3339))
		}
		return "snooze", strings.TrimSpace("until " + until.UTC().Format(time.RFC3339) + " " + reason), nil
	}
	return "", "", parley.Errorf(parley.EINVALID, "conversation state %q: want closed, needs_reply or snoozed", state)
}

// ExportWhere turns f into a WHERE clause on the given time and platform
// columns (time as stored, Unix milliseconds); placeholder writes the
// store's n-th parameter ("?" or "$n").
func ExportWhere(f parley.ExportFilter, timeCol, platformCol string, placeholder func(n int) string) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+placeholder(len(args)))
	}
	if !f.Since.IsZero() {
		add(timeCol+" >= ", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add(timeCol+" < ", f.Until.UnixMilli())
	}
	if f.Platform != "" {
		add(platformCol+" = ", f.Platform)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// Days writes a duration in days when it is whole days ("30 days"), else
// as Go does.
func Days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

// AlertsQuery is the SELECT of the alerts f selects, newest first, with
// its arguments; columns are the alerts columns to read.
func AlertsQuery(f parley.AlertFilter, columns string, placeholder func(n int) string) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+placeholder(len(args)))
	}
	if f.Kind != "" {
		add("kind = ", f.Kind)
	}
	if !f.Since.IsZero() {
		add("at >= ", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("at < ", f.Until.UnixMilli())
	}
	q := `SELECT ` + columns + ` FROM alerts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.AlertLimit())
	return q + ` ORDER BY at DESC, id DESC LIMIT ` + placeholder(len(args)), args
}

// PickPerson chooses the person a handle or platform id names among the
// candidates a store found for it (every person whose handle matches
// without regard to case, or whose external id matches). An exact match
// wins over a case-insensitive one; two or more equally good matches are a
// conflict naming each, because acting on a guess (erasing, exporting,
// linking the wrong person) cannot be undone.
func PickPerson(candidates []parley.Person, handleOrID string) (parley.Person, error) {
	h := strings.TrimPrefix(strings.TrimSpace(handleOrID), "@")
	var exact, folded []parley.Person
	for _, p := range candidates {
		switch {
		case p.Handle == h || p.ExternalID == h:
			exact = append(exact, p)
		case strings.EqualFold(p.Handle, h):
			folded = append(folded, p)
		}
	}
	best := exact
	if len(best) == 0 {
		best = folded
	}
	switch len(best) {
	case 0:
		return parley.Person{}, parley.Errorf(parley.ENOTFOUND, "no person with handle or id %q", handleOrID)
	case 1:
		return best[0], nil
	}
	names := make([]string, len(best))
	for i, p := range best {
		names[i] = fmt.Sprintf("%s @%s (id %s)", p.Platform, p.Handle, p.ExternalID)
	}
	return parley.Person{}, parley.Errorf(parley.ECONFLICT,
		"%q names %d people: %s; name the platform or use the platform id", handleOrID, len(best), strings.Join(names, ", "))
}
