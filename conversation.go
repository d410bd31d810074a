package parley

import (
	"context"
	"time"
)

// ConversationState says who a conversation waits for.
type ConversationState string

// Conversation states.
const (
	// NeedsReply: a customer wrote last and nobody answered yet.
	NeedsReply ConversationState = "needs_reply"
	// Waiting: we answered; the conversation waits on the customer.
	Waiting ConversationState = "waiting"
	// Closed: answered, or a person said no reply is needed. A new
	// customer message opens it again.
	Closed ConversationState = "closed"
	// Snoozed: set aside until SnoozedUntil (or a new customer message).
	Snoozed ConversationState = "snoozed"
)

// ConversationStates lists the states in the order the inbox shows them.
var ConversationStates = []ConversationState{NeedsReply, Waiting, Snoozed, Closed}

// ParseConversationState returns the state named by s ("needs-reply" and
// "needs_reply" both work), or an EINVALID error.
func ParseConversationState(s string) (ConversationState, error) {
	for _, st := range ConversationStates {
		if string(st) == s || string(st) == underscore(s) {
			return st, nil
		}
	}
	return "", Errorf(EINVALID, "conversation state %q: want needs-reply, waiting, snoozed or closed", s)
}

func underscore(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

// Conversation is one thread seen as a unit of work: who it waits for,
// who looks after it, and how long the customer has waited. Every stored
// mention belongs to exactly one (its thread's); its ID is the thread's.
type Conversation struct {
	ID       int64             `json:"id"` // the thread's id
	Platform string            `json:"platform"`
	Channel  string            `json:"channel,omitempty"`
	State    ConversationState `json:"state"`
	// Assignee is the user looking after it, or "".
	Assignee string `json:"assignee,omitempty"`
	// SnoozedUntil is when a snoozed conversation needs a reply again.
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
	// Messages counts the customers' messages in it.
	Messages int `json:"messages"`
	// LastMentionID is the newest customer message (by its post time);
	// PersonID is its author.
	LastMentionID int64     `json:"last_mention_id"`
	PersonID      int64     `json:"person_id"`
	LastMessageAt time.Time `json:"last_message_at"`
	// The response clocks start at the customer's post, not at when
	// Parley heard it or drafted: FirstMessageAt starts the first
	// response clock, WaitingSince (the oldest unanswered customer post,
	// zero when nothing waits) the next one.
	FirstMessageAt  time.Time `json:"first_message_at"`
	WaitingSince    time.Time `json:"waiting_since,omitzero"`
	FirstResponseAt time.Time `json:"first_response_at,omitzero"`
	LastResponseAt  time.Time `json:"last_response_at,omitzero"`
	// PendingDraftID is its one pending reply draft, 0 for none.
	PendingDraftID int64 `json:"pending_draft_id,omitempty"`
}

// Effective is the state as of now: a snooze that ran out needs a reply.
func (c Conversation) Effective(now time.Time) ConversationState {
	if c.State == Snoozed && !c.SnoozedUntil.After(now) {
		return NeedsReply
	}
	return c.State
}

// Waited is how long the customer has waited for an answer at now (0 when
// nothing waits).
func (c Conversation) Waited(now time.Time) time.Duration {
	if c.WaitingSince.IsZero() || c.Effective(now) != NeedsReply {
		return 0
	}
	return now.Sub(c.WaitingSince)
}

// ConversationView selects conversations for a list.
type ConversationView string

// Conversation views.
const (
	ViewNeedsReply ConversationView = "needs-reply" // needs a reply now (snoozes that ran out included)
	ViewAll        ConversationView = "all"
	ViewMine       ConversationView = "mine" // assigned to the user asking
	ViewClosed     ConversationView = "closed"
	ViewWaiting    ConversationView = "waiting"
	ViewSnoozed    ConversationView = "snoozed"
)

// ParseConversationView returns the view named by s ("" is needs-reply).
func ParseConversationView(s string) (ConversationView, error) {
	if s == "" {
		return ViewNeedsReply, nil
	}
	for _, v := range []ConversationView{ViewNeedsReply, ViewAll, ViewMine, ViewUnassigned, ViewClosed, ViewWaiting, ViewSnoozed} {
		if string(v) == s || string(v) == underscoreToDash(s) {
			return v, nil
		}
	}
	return "", Errorf(EINVALID, "view %q: want needs-reply, all, mine, unassigned, waiting, snoozed or closed", s)
}

func underscoreToDash(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// ConversationFilter selects conversations. The zero value is the
// needs-reply view, most urgent first.
type ConversationFilter struct {
	View ConversationView
	// User is who asks (for ViewMine).
	User     string
	Platform string
	PersonID int64
	// WithoutDraft keeps only those with no pending reply draft (a
	// customer message no rule answered).
	WithoutDraft bool
	Limit        int // 0 means 100
	Offset       int
	// Now judges snoozes; zero means the store's clock.
	Now time.Time
}

// ConversationStore keeps conversations. Every method that changes one
// writes the audit log with actor.
type ConversationStore interface {
	// Conversation returns one; ENOTFOUND if there is none.
	Conversation(ctx context.Context, id int64) (Conversation, error)
	// Conversations lists those f selects: needing a reply first, longest
	// waiting first; then the rest, newest message first.
	Conversations(ctx context.Context, f ConversationFilter) ([]Conversation, error)
	// SetConversationState closes, reopens (to needs reply) or snoozes
	// (until) a conversation. Closing or snoozing one with a pending reply
	// draft leaves the draft pending. Errors: ENOTFOUND; EINVALID for a
	// snooze without a future time or an unknown state.
	SetConversationState(ctx context.Context, id int64, actor string, state ConversationState, until time.Time, reason string) (Conversation, error)
	// AssignConversation gives a conversation to user ("" releases it).
	// ENOTFOUND for no such conversation or user.
	AssignConversation(ctx context.Context, id int64, actor, user string) (Conversation, error)
	// WriteReply queues a reply a person wrote to one customer message of
	// the conversation: the conversation's one pending reply draft, whose
	// rule draft (if any) it supersedes. Errors: ENOTFOUND; EINVALID for an
	// empty text or a message not in the conversation.
	WriteReply(ctx context.Context, id, toMentionID int64, actor, text string) (Draft, error)
}

// Decider is the one place where people decide what Parley says: the web
// inbox, the CLI and the Discord staff buttons all call it, so each
// decision gets the same checks (the draft's state, who decided first, the
// platform's limits), the same audit entry, metrics and outbox wake-up.
type Decider interface {
	// Approve moves a pending draft to approved. text, when not nil,
	// replaces the draft's text first; a blank one is refused (EINVALID).
	// Errors: ENOTFOUND; ECONFLICT when it is no longer pending (the
	// message says who decided it); EINVALID when the platform would
	// refuse the text (too long, say).
	Approve(ctx context.Context, actor string, draftID int64, text *string) (Draft, error)
	// Undo returns an approved draft still in its grace period (see
	// Draft.SendAfter) to pending; it is then never posted unless
	// approved again. Errors: ENOTFOUND; ECONFLICT when the grace period
	// is over or the draft is not approved.
	Undo(ctx context.Context, actor string, draftID int64) (Draft, error)
	// Edit replaces a pending draft's text; it stays pending. Errors as
	// Approve.
	Edit(ctx context.Context, actor string, draftID int64, text string) (Draft, error)
	// Reject moves a pending or failed draft to rejected. Errors as Approve.
	Reject(ctx context.Context, actor string, draftID int64, reason string) (Draft, error)
	// Reply queues a reply written by actor to toMentionID (0: the
	// newest customer message) of a conversation; it waits for approval.
	// Errors: ENOTFOUND; EINVALID for an empty or too long text or a
	// message that is not a customer's in the conversation.
	Reply(ctx context.Context, actor string, conversationID, toMentionID int64, text string) (Draft, error)
	// Close, Reopen, Snooze and Assign change a conversation (see
	// ConversationStore).
	Close(ctx context.Context, actor string, conversationID int64, reason string) (Conversation, error)
	Reopen(ctx context.Context, actor string, conversationID int64) (Conversation, error)
	Snooze(ctx context.Context, actor string, conversationID int64, until time.Time) (Conversation, error)
	Assign(ctx context.Context, actor string, conversationID int64, user string) (Conversation, error)
	// Retry sends a failed draft again, or a draft waiting to retry now
	// (see DraftRetrier). Errors: ENOTFOUND; ECONFLICT for a draft that is
	// neither; EINVALID when the store cannot retry.
	Retry(ctx context.Context, actor string, draftID int64) (Draft, error)
	// CorrectSentiment sets a mention's sentiment to label on actor's word
	// and decides the mention again with the rules, as the pipeline did
	// when it arrived: its tags, priority and pending reply draft follow
	// the corrected label (see Redecision); each change is in the audit
	// log under actor. Errors: ENOTFOUND; EINVALID for a bad label or an
	// empty actor.
	CorrectSentiment(ctx context.Context, actor string, mentionID int64, label Label) (Redecision, error)
}

// MentionQuery searches stored mentions. Text holds words (all must
// appear), @handle (the author's handle starts with it) and #tag (the
// post carries the hashtag); zero times leave the range open.
type MentionQuery struct {
	Text         string
	Since, Until time.Time
	Limit        int // 0 means 50
}

// MentionSearcher finds stored mentions, newest first. Each result's
// ThreadID is its conversation. Errors: EINVALID for an empty query.
type MentionSearcher interface {
	SearchMentions(ctx context.Context, q MentionQuery) ([]Mention, error)
}
