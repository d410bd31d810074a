package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleybot/parley"
)

// maxBulk is the most conversations one bulk action takes.
const maxBulk = 500

// bulkResult is what app.js gets back from a bulk action: each
// conversation's outcome and a summary for people.
type bulkResult struct {
	OK      bool         `json:"ok"`
	Action  string       `json:"action"`
	Done    []int64      `json:"done"`
	Failed  []bulkFailed `json:"failed,omitempty"`
	Message string       `json:"message"`
}

type bulkFailed struct {
	ID    int64  `json:"id"`
	Error string `json:"error"`
}

// bulkActions are the actions people take on many conversations at once,
// with their past tense.
var bulkActions = map[string]string{"approve": "Approved", "reject": "Rejected", "close": "Closed", "assign": "Assigned"}

// bulk approves or rejects the pending drafts of, closes or assigns the
// conversations ticked in the inbox (ids), each through the decision
// service (so each gets its audit entry), and says what succeeded and
// what failed and why.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	action := formText(r, "action")
	if _, ok := bulkActions[action]; !ok {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "bulk action %q: want approve, reject, close or assign", action))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "bulk form: %v", err))
		return
	}
	var ids []int64
	for _, raw := range r.PostForm["ids"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, parley.Errorf(parley.EINVALID, "bulk: %q is not a conversation id", raw))
			return
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "bulk %s: tick the conversations first (x or the checkboxes)", action))
		return
	}
	if len(ids) > maxBulk {
		s.fail(w, r, parley.Errorf(parley.EINVALID, "bulk %s: %d conversations at once is too many (at most %d)", action, len(ids), maxBulk))
		return
	}
	to := formText(r, "user")
	if to == "me" {
		to = u.Name
	}
	if action == "assign" && to != "" && !strings.EqualFold(to, u.Name) && !u.Role.AtLeast(parley.RoleManager) {
		s.fail(w, r, parley.Errorf(parley.EFORBIDDEN, "agents can take conversations for themselves only; ask a manager to assign %s", to))
		return
	}
	res := bulkResult{OK: true, Action: action, Done: []int64{}}
	for _, id := range ids {
		if err := s.bulkOne(ctx, u.Name, action, id, to); err != nil {
			msg := parley.ErrorMessage(err)
			if httpStatus(err) == http.StatusInternalServerError {
				s.logger.Error("bulk action failed", "action", action, "conversation", id, "err", err)
				msg = "something went wrong on our side; it is in the server log"
			}
			res.Failed = append(res.Failed, bulkFailed{ID: id, Error: msg})
			continue
		}
		res.Done = append(res.Done, id)
	}
	res.Message = bulkSummary(res)
	s.logger.Info("bulk action", "action", action, "user", u.Name, "done", len(res.Done), "failed", len(res.Failed))
	if wantsJSON(r) {
		s.writeJSON(w, http.StatusOK, res)
		return
	}
	s.flash(ctx, res.Message, len(res.Failed) == 0)
	http.Redirect(w, r, sameSitePath(r.Referer()), http.StatusSeeOther)
}

// bulkOne takes action on conversation id.
func (s *Server) bulkOne(ctx context.Context, actor, action string, id int64, to string) error {
	switch action {
	case "close":
		_, err := s.opts.Decider.Close(ctx, actor, id, "bulk close")
		return err
	case "assign":
		_, err := s.opts.Decider.Assign(ctx, actor, id, to)
		return err
	}
	c, err := s.st.Conversation(ctx, id)
	if err != nil {
		return err
	}
	if c.PendingDraftID == 0 {
		return parley.Errorf(parley.ECONFLICT, "no draft waits in it")
	}
	if action == "approve" {
		_, err = s.opts.Decider.Approve(ctx, actor, c.PendingDraftID, nil)
	} else {
		_, err = s.opts.Decider.Reject(ctx, actor, c.PendingDraftID, "bulk reject")
	}
	return err
}

// bulkSummary says what a bulk action did, for people.
func bulkSummary(res bulkResult) string {
	msg := fmt.Sprintf("%s %d %s.", bulkActions[res.Action], len(res.Done), plural(len(res.Done), "conversation", "conversations"))
	if len(res.Failed) == 0 {
		return msg
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d failed:", msg, len(res.Failed))
	for i, f := range res.Failed {
		if i == 5 {
			fmt.Fprintf(&b, " and %d more.", len(res.Failed)-5)
			break
		}
		fmt.Fprintf(&b, " #%d: %s;", f.ID, f.Error)
	}
	return strings.TrimSuffix(b.String(), ";") + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
