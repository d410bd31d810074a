package bot

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// DecisionStore is what the decision service needs from the store.
type DecisionStore interface {
	parley.DraftStore
	parley.UndoStore
	parley.ConversationStore
	Mention(ctx context.Context, id int64) (parley.Mention, error)
}

// DecisionsOptions tune Decisions. The zero value is usable.
type DecisionsOptions struct {
	Logger *slog.Logger
	// Check asks whether the draft's platform will take a text (the
	// connector's parley.DraftChecker, see SenderCheck); nil takes any.
	Check func(ctx context.Context, d parley.Draft) error
	// OnDecided is called after each decision that changed a draft, with
	// the action ("approve", "edit", "reject", "reply") and the draft as
	// it is now: record metrics, wake the outbox.
	OnDecided func(action string, d parley.Draft)
	// Grace is how long an approved draft waits before the outbox may post
	// it, during which Undo returns it to pending; 0 posts at once.
	Grace time.Duration
	// Decide is the rules as the pipeline runs them (rules.Set.Decide):
	// CorrectSentiment decides a corrected mention again with it. Nil
	// corrects the label only.
	Decide parley.DecideFunc
}

// SentimentCorrector is the store's side of CorrectSentiment (store.Store
// has it): the correction and the new decision in one transaction.
type SentimentCorrector interface {
	CorrectSentimentAndRedecide(ctx context.Context, mentionID int64, label parley.Label, actor string, decide parley.DecideFunc) (parley.Redecision, error)
}

// Decisions is the one decision service (parley.Decider): the web inbox,
// the CLI and the Discord staff buttons call it, so each decision gets the
// same checks, audit entry, metrics and outbox wake-up.
type Decisions struct {
	st   DecisionStore
	opts DecisionsOptions
	log  *slog.Logger
}

var _ parley.Decider = (*Decisions)(nil)

// NewDecisions returns the decision service on st.
func NewDecisions(st DecisionStore, o DecisionsOptions) *Decisions {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Decisions{st: st, opts: o, log: o.Logger}
}

// SenderCheck is a DecisionsOptions.Check that asks the sender of a
// draft's platform (the account that heard the mention it answers, else
// the platform's first) whether it takes the draft.
func SenderCheck(st interface {
	Mention(ctx context.Context, id int64) (parley.Mention, error)
}, senders []parley.Sender) func(ctx context.Context, d parley.Draft) error {
	return func(ctx context.Context, d parley.Draft) error {
		account := ""
		if d.MentionID != 0 {
			if m, err := st.Mention(ctx, d.MentionID); err == nil {
				account = m.Account
			}
		}
		var s parley.Sender
		for _, c := range senders {
			if c.Platform() != d.Platform {
				continue
			}
			if s == nil {
				s = c
			}
			if as, ok := c.(parley.AccountSender); ok && account != "" && as.Account() == account {
				s = c
				break
			}
		}
		if c, ok := s.(parley.DraftChecker); ok {
			return c.CheckDraft(ctx, d)
		}
		return nil
	}
}

// TextLimit returns the character limit of a platform's posts as its
// senders know it (the smallest when several accounts differ), 0 when
// none can tell: for the draft editor's counter.
func TextLimit(senders []parley.Sender) func(platform string) int {
	return func(platform string) int {
		limit := 0
		for _, s := range senders {
			l, ok := s.(parley.TextLimiter)
			if !ok || s.Platform() != platform {
				continue
			}
			if n := l.MaxTextLength(); n > 0 && (limit == 0 || n < limit) {
				limit = n
			}
		}
		return limit
	}
}

func (s *Decisions) check(ctx context.Context, d parley.Draft) error {
	if s.opts.Check == nil {
		return nil
	}
	return s.opts.Check(ctx, d)
}

func (s *Decisions) decided(action, actor string, d parley.Draft) {
	s.log.Info("draft decided", "action", action, "draft_id", d.ID, "actor", actor, "state", d.State)
	if s.opts.OnDecided != nil {
		s.opts.OnDecided(action, d)
	}
}

func blank(id int64, text string) error {
	if strings.TrimSpace(text) == "" {
		return parley.Errorf(parley.EINVALID, "draft %d: the text is empty; write the reply, or approve it without a new text", id)
	}
	return nil
}

// Approve implements parley.Decider.
func (s *Decisions) Approve(ctx context.Context, actor string, id int64, text *string) (parley.Draft, error) {
	d, err := s.st.Draft(ctx, id)
	if err != nil {
		return d, err
	}
	newText := ""
	if text != nil {
		if err := blank(id, *text); err != nil {
			return d, err
		}
		if t := strings.TrimSpace(*text); t != strings.TrimSpace(d.Text) {
			newText = t
		}
	}
	if d.State == parley.DraftPending {
		check := d
		if newText != "" {
			check.Text = newText
		}
		if err := s.check(ctx, check); err != nil {
			return d, err
		}
	}
	d, err = s.st.ApproveDraftHeld(ctx, id, actor, newText, s.opts.Grace)
	if err != nil {
		return d, err
	}
	s.decided("approve", actor, d)
	return d, nil
}

// Undo implements parley.Decider.
func (s *Decisions) Undo(ctx context.Context, actor string, id int64) (parley.Draft, error) {
	d, err := s.st.UndoApproval(ctx, id, actor)
	if err != nil {
		return d, err
	}
	s.decided("undo", actor, d)
	return d, nil
}

// Edit implements parley.Decider.
func (s *Decisions) Edit(ctx context.Context, actor string, id int64, text string) (parley.Draft, error) {
	if err := blank(id, text); err != nil {
		return parley.Draft{}, err
	}
	d, err := s.st.Draft(ctx, id)
	if err != nil {
		return d, err
	}
	text = strings.TrimSpace(text)
	if d.State == parley.DraftPending {
		check := d
		check.Text = text
		if err := s.check(ctx, check); err != nil {
			return d, err
		}
	}
	d, err = s.st.EditDraft(ctx, id, actor, text)
	if err != nil {
		return d, err
	}
	s.decided("edit", actor, d)
	return d, nil
}

// Reject implements parley.Decider.
func (s *Decisions) Reject(ctx context.Context, actor string, id int64, reason string) (parley.Draft, error) {
	d, err := s.st.RejectDraft(ctx, id, actor, reason)
	if err != nil {
		return d, err
	}
	s.decided("reject", actor, d)
	return d, nil
}

// Retry implements parley.Decider.
func (s *Decisions) Retry(ctx context.Context, actor string, id int64) (parley.Draft, error) {
	r, ok := s.st.(parley.DraftRetrier)
	if !ok {
		return parley.Draft{}, parley.Errorf(parley.EINVALID, "this store cannot retry drafts")
	}
	d, err := r.RetryDraft(ctx, id, actor)
	if err != nil {
		return d, err
	}
	s.decided("retry", actor, d)
	return d, nil
}

// Reply implements parley.Decider.
func (s *Decisions) Reply(ctx context.Context, actor string, conversationID, toMentionID int64, text string) (parley.Draft, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return parley.Draft{}, parley.Errorf(parley.EINVALID, "the reply is empty: write something first")
	}
	if toMentionID == 0 {
		c, err := s.st.Conversation(ctx, conversationID)
		if err != nil {
			return parley.Draft{}, err
		}
		toMentionID = c.LastMentionID
	}
	m, err := s.st.Mention(ctx, toMentionID)
	if err != nil {
		return parley.Draft{}, err
	}
	if m.ThreadID != conversationID {
		return parley.Draft{}, parley.Errorf(parley.EINVALID,
			"mention %d is not in conversation %d: a reply answers a message of its own conversation", toMentionID, conversationID)
	}
	if err := s.check(ctx, parley.Draft{Kind: parley.KindReply, Platform: m.Platform, MentionID: m.ID,
		PersonID: m.PersonID, ThreadID: m.ThreadID, Text: text}); err != nil {
		return parley.Draft{}, err
	}
	d, err := s.st.WriteReply(ctx, m.ThreadID, m.ID, actor, text)
	if err != nil {
		return d, err
	}
	s.decided("reply", actor, d)
	return d, nil
}

// CorrectSentiment implements parley.Decider. A draft the rules queue
// again is reported to OnDecided as "redecide" (a rule may approve its
// own draft, which wakes the outbox) and each one withdrawn as
// "supersede".
func (s *Decisions) CorrectSentiment(ctx context.Context, actor string, mentionID int64, label parley.Label) (parley.Redecision, error) {
	c, ok := s.st.(SentimentCorrector)
	if !ok {
		return parley.Redecision{}, parley.Errorf(parley.EINVALID, "this store cannot correct sentiment")
	}
	rd, err := c.CorrectSentimentAndRedecide(ctx, mentionID, label, actor, s.opts.Decide)
	if err != nil {
		return rd, err
	}
	s.log.Info("sentiment corrected", "mention_id", mentionID, "label", string(label), "actor", actor,
		"decided_again", s.opts.Decide != nil, "drafts_replaced", len(rd.Replaced), "drafts_queued", len(rd.Queued))
	if s.opts.OnDecided != nil {
		for _, d := range rd.Replaced {
			s.opts.OnDecided("supersede", d)
		}
		for _, d := range rd.Queued {
			s.opts.OnDecided("redecide", d)
		}
	}
	return rd, nil
}

// Close implements parley.Decider.
func (s *Decisions) Close(ctx context.Context, actor string, id int64, reason string) (parley.Conversation, error) {
	return s.st.SetConversationState(ctx, id, actor, parley.Closed, time.Time{}, reason)
}

// Reopen implements parley.Decider.
func (s *Decisions) Reopen(ctx context.Context, actor string, id int64) (parley.Conversation, error) {
	return s.st.SetConversationState(ctx, id, actor, parley.NeedsReply, time.Time{}, "")
}

// Snooze implements parley.Decider.
func (s *Decisions) Snooze(ctx context.Context, actor string, id int64, until time.Time) (parley.Conversation, error) {
	return s.st.SetConversationState(ctx, id, actor, parley.Snoozed, until, "")
}

// Assign implements parley.Decider.
func (s *Decisions) Assign(ctx context.Context, actor string, id int64, user string) (parley.Conversation, error) {
	return s.st.AssignConversation(ctx, id, actor, user)
}
