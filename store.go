package parley

import (
	"context"
	"time"
)

// History is what the store knew of a person and a thread just before the
// mention being ingested. Rules and reply templates read it, so Parley can
// answer a returning customer differently from a first-timer.
type History struct {
	// Person as stored before this mention: Mentions, Positive, Negative,
	// Neutral and LastSentiment count only earlier mentions. A first-timer
	// has Mentions == 0.
	Person Person
	// ThreadMentions is how many earlier mentions the thread holds.
	ThreadMentions int
	// RepliesInThread is how many of our replies in this thread were sent
	// or approved, or wait as a person's edit. A rule's pending draft does
	// not count: the mention being decided replaces it when the rules
	// draft again.
	RepliesInThread int
	// Conversation is the mention's conversation as it stood before the
	// mention (ID 0 for a new one): its state, when the customer started
	// waiting, how many messages it holds, when we last answered.
	// PendingDraftID is not filled in.
	Conversation Conversation
	// LastReply is the text of the last reply we sent in the conversation,
	// "" for none.
	LastReply string
	// PendingDrafts is how many drafts for this person wait for approval.
	PendingDrafts int
}

// FirstTime reports whether this is the person's first mention.
func (h History) FirstTime() bool { return h.Person.Mentions == 0 }

// DecideFunc is called by MentionStore.IngestBatch for each mention that is
// new to the store, inside the ingest transaction, after its person and
// thread are known (m.PersonID, m.ThreadID set) and before it is written. It
// may set m.Tags, m.Priority, m.Rules and m.Ignored, and returns the drafts
// to queue for it (their MentionID, PersonID, ThreadID and Platform are
// filled by the store). It must not call the store.
type DecideFunc func(m *Mention, h History) []Draft

// Redecision is what deciding a stored mention again changed, after a
// person corrected its sentiment: the tags, priority and rules on Mention,
// and its reply drafts.
type Redecision struct {
	Mention Mention `json:"mention"`
	// Replaced are the rule's pending drafts the new decision did not
	// write again; they are superseded (kept, never sent).
	Replaced []Draft `json:"replaced,omitempty"`
	// Queued are the drafts the new decision queued.
	Queued []Draft `json:"queued,omitempty"`
	// Kept are the drafts left as they were: a pending one the new
	// decision writes the same, a person's own reply, or one already
	// approved or sent, which a correction cannot recall (no new draft is
	// queued beside those).
	Kept []Draft `json:"kept,omitempty"`
}

// DecideOptions describe a DecideFunc to a store that calls it for a
// batch's mentions on several goroutines (store.Store's
// IngestBatchConcurrent), deciding each mention on a guess of the drafts
// the batch's earlier mentions leave and again, in order, when the guess
// was wrong.
type DecideOptions struct {
	// Workers is how many goroutines call decide; <= 0 means GOMAXPROCS.
	Workers int
	// ExpectDrafts guesses that every earlier mention of the batch by the
	// same person left a pending draft, and every earlier one in the same
	// thread a reply; set it when most mentions get a draft.
	ExpectDrafts bool
	// IgnoresPendingDrafts and IgnoresRepliesInThread say that decide never
	// reads History.PendingDrafts or History.RepliesInThread (rules.Set.Reads
	// tells): a mention is then not decided again when only that count
	// differs from the guess, and its History may show the guess.
	IgnoresPendingDrafts, IgnoresRepliesInThread bool
}

// IngestPlan is a batch a PlanningStore worked out ahead of writing it.
type IngestPlan interface {
	// Batch returns the mentions the plan was made for.
	Batch() []*Mention
}

// PlanningStore is a MentionStore that splits a concurrent IngestBatch in
// two, so that a pipeline decides the next batch while the store writes
// the previous one (store.Store is one).
type PlanningStore interface {
	// PlanBatch does what IngestBatch does before writing (skip the
	// duplicates, place people and threads, give ids, call decide, which
	// must be safe for concurrent use) without writing, on top of prev: the
	// plan made just before this one, nil for none. prev must be (or be
	// about to be) given to CommitPlan: PlanBatch waits until its commit
	// has started. Errors: the database's, and ctx's.
	PlanBatch(ctx context.Context, batch []*Mention, decide DecideFunc, o DecideOptions, prev IngestPlan) (IngestPlan, error)
	// CommitPlan writes a plan in one transaction and returns what
	// IngestBatch would have. Plans must be committed in the order they
	// were made. A plan that no longer holds (someone else wrote since it
	// was made, or the plan before it was not written as planned) is
	// worked out again inside the transaction, so what is stored is always
	// what IngestBatch would store. It may be called again after an error.
	CommitPlan(ctx context.Context, p IngestPlan) (IngestResult, error)
}

// IngestResult counts what one IngestBatch call did.
type IngestResult struct {
	Stored     int // new mentions written
	Duplicates int // mentions already stored (same platform and external id), skipped
	Drafts     int // drafts queued
	// DraftIDs lists the ids of the drafts queued, in order.
	DraftIDs []int64
}

// Add accumulates o into r.
func (r *IngestResult) Add(o IngestResult) {
	r.Stored += o.Stored
	r.Duplicates += o.Duplicates
	r.Drafts += o.Drafts
	r.DraftIDs = append(r.DraftIDs, o.DraftIDs...)
}

// MentionStore persists mentions with their people and threads.
type MentionStore interface {
	// IngestBatch stores the new mentions of ms in one transaction, with
	// their authors (created or updated), threads and the drafts decide
	// returns. A mention already stored, or repeated within ms, is skipped
	// and counted as a duplicate; decide is not called for it. Stored
	// mentions get their ID, PersonID and ThreadID set. On error nothing of
	// the batch is written. decide may be nil.
	IngestBatch(ctx context.Context, ms []*Mention, decide DecideFunc) (IngestResult, error)

	// Mention returns one stored mention; ENOTFOUND if there is none.
	Mention(ctx context.Context, id int64) (Mention, error)
	// Person returns one person; ENOTFOUND if there is none.
	Person(ctx context.Context, id int64) (Person, error)
	// FindPerson finds a person by platform and handle or external id;
	// ENOTFOUND if there is none.
	FindPerson(ctx context.Context, platform, handleOrID string) (Person, error)
	// PersonMentions returns a person's mentions, newest first, at most limit.
	PersonMentions(ctx context.Context, personID int64, limit int) ([]Mention, error)
	// ThreadMentions returns the mentions of a thread, oldest first.
	ThreadMentions(ctx context.Context, threadID int64) ([]Mention, error)

	// Stats returns the headline counts.
	Stats(ctx context.Context) (Stats, error)
}

// DraftFilter selects drafts. Zero fields select everything.
type DraftFilter struct {
	States   []DraftState
	Platform string
	PersonID int64
	ThreadID int64
	// UpdatedAfter, when set, selects drafts changed after it, oldest
	// change first (for watchers that mirror the queue elsewhere).
	UpdatedAfter time.Time
	Limit        int // 0 means 100
	Offset       int
}

// DraftStore is the approval queue and the outbox's record.
type DraftStore interface {
	// Draft returns one draft; ENOTFOUND if there is none.
	Draft(ctx context.Context, id int64) (Draft, error)
	// Drafts lists drafts matching f, most urgent first for pending ones
	// (priority, then oldest first), else newest first.
	Drafts(ctx context.Context, f DraftFilter) ([]Draft, error)

	// ApproveDraft moves a pending draft to approved, recording actor. A
	// non-empty text replaces the draft's text first (edit then approve).
	// Errors: ENOTFOUND; ECONFLICT if the draft is no longer pending (its
	// message says who decided it, e.g. "draft 7 is already approved by ana");
	// EINVALID for an empty text.
	ApproveDraft(ctx context.Context, id int64, actor, text string) (Draft, error)
	// EditDraft replaces the text of a pending draft; it stays pending.
	// Errors as ApproveDraft.
	EditDraft(ctx context.Context, id int64, actor, text string) (Draft, error)
	// RejectDraft moves a pending (or failed) draft to rejected. Errors as
	// ApproveDraft.
	RejectDraft(ctx context.Context, id int64, actor, reason string) (Draft, error)

	// ClaimDrafts moves up to limit approved drafts whose retry time has
	// come to sending, counting an attempt, and returns them. Drafts left in
	// sending by a crash are claimed again (with the same idempotency key).
	ClaimDrafts(ctx context.Context, limit int, now time.Time) ([]Draft, error)
	// MarkSent records that a sending draft was posted as postedID.
	// ECONFLICT if the draft is not sending.
	MarkSent(ctx context.Context, id int64, postedID string, at time.Time) error
	// MarkFailed records a failed attempt. With retryAt non-zero the draft
	// goes back to approved and is claimed again at retryAt; else it is
	// failed for good.
	MarkFailed(ctx context.Context, id int64, reason string, retryAt time.Time) error

	// Audit returns the newest audit entries, at most limit.
	Audit(ctx context.Context, limit int) ([]AuditEntry, error)
}

// UndoStore holds approved drafts for an undo grace period. The grace
// deadline (Draft.SendAfter) is kept in the store, so a restart keeps
// it, and judged by the store's clock.
type UndoStore interface {
	// ApproveDraftHeld is ApproveDraft with a grace period: ClaimDrafts
	// does not claim the draft until grace has passed (0: at once).
	ApproveDraftHeld(ctx context.Context, id int64, actor, text string, grace time.Duration) (Draft, error)
	// UndoApproval returns an approved draft whose grace period has not
	// ended to pending, recording actor in the audit log; another pending
	// reply of its conversation (a rule's, drafted meanwhile) is
	// superseded. Errors: ENOTFOUND; ECONFLICT when it is not approved or
	// its grace period is over (the outbox may be posting it).
	UndoApproval(ctx context.Context, id int64, actor string) (Draft, error)
}

// CursorStore keeps each connector's position in its streams, so a restart
// resumes where it stopped.
type CursorStore interface {
	// Cursor returns the value saved under key, or "" if none.
	Cursor(ctx context.Context, key string) (string, error)
	// SetCursor saves value under key.
	SetCursor(ctx context.Context, key, value string) error
}

// Store is everything Parley keeps. store/ implements it on SQLite.
type Store interface {
	MentionStore
	DraftStore
	CursorStore
	Close() error
}
