package parley

import (
	"context"
	"slices"
	"strings"
	"time"
)

// InboxFilter selects pending drafts for the web inbox. Zero fields select
// everything.
type InboxFilter struct {
	Platform string
	// Sentiment is the label of the mention the draft answers.
	Sentiment Label
	// Tag is one of the tags of the mention the draft answers.
	Tag string
	// Rule is the rule that drafted the reply or one of the rules that
	// matched the mention.
	Rule string
	// AssignedTo is a user name; only drafts assigned to them.
	AssignedTo string
	// IDs, when set, restricts the selection to these drafts.
	IDs   []int64
	Limit int // 0 means 1000
}

// InboxItem is a pending draft with what a person needs to decide on it.
type InboxItem struct {
	Draft Draft
	// Mention is the post the draft answers; zero (ID 0) for a prompt.
	Mention Mention
	// Person is who the draft is for.
	Person Person
	// AssignedTo is the user looking after the draft, or "".
	AssignedTo string
}

// Matches reports whether the item passes f's field filters (not IDs or
// Limit).
func (f InboxFilter) Matches(it InboxItem) bool {
	switch {
	case f.Platform != "" && it.Draft.Platform != f.Platform:
		return false
	case f.Sentiment != "" && (it.Mention.ID == 0 || it.Mention.Sentiment.Label != f.Sentiment):
		return false
	case f.Tag != "" && !slices.Contains(it.Mention.Tags, f.Tag):
		return false
	case f.Rule != "" && it.Draft.Rule != f.Rule && !slices.Contains(it.Mention.Rules, f.Rule):
		return false
	case f.AssignedTo != "" && !strings.EqualFold(it.AssignedTo, f.AssignedTo):
		return false
	}
	return true
}

// InboxFacets are the values the inbox can be filtered by: those of the
// pending drafts, sorted.
type InboxFacets struct {
	Platforms []string
	Tags      []string
	Rules     []string
}

// Note is something staff wrote down about a person.
type Note struct {
	ID        int64     `json:"id"`
	PersonID  int64     `json:"person_id"`
	Author    string    `json:"author"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// AdvocateEntry is a person as `parley advocates list` and the web inbox
// show them: with what the last scoring said and who confirmed them.
type AdvocateEntry struct {
	Person
	Note        string    `json:"note,omitempty"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"`
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	ScoredAt    time.Time `json:"scored_at,omitzero"`
}

// InboxStore is the approval queue as the web inbox reads it.
type InboxStore interface {
	// InboxItems returns the pending drafts matching f, highest priority
	// then oldest first, with their mentions, people and assignees; none is
	// an empty list. Ranking them for people is the caller's business.
	InboxItems(ctx context.Context, f InboxFilter) ([]InboxItem, error)
	// InboxItem returns one draft, in any state, with its mention, person
	// and assignee. ENOTFOUND if there is no such draft.
	InboxItem(ctx context.Context, draftID int64) (InboxItem, error)
	// InboxFacets returns the platforms, tags and rules of pending drafts.
	InboxFacets(ctx context.Context) (InboxFacets, error)
	// AssignDraft gives a pending draft to user ("" to release it),
	// recording actor in the audit log; the draft counts as changed for
	// watchers. Errors: ENOTFOUND for no such draft or user; ECONFLICT when
	// the draft is no longer pending.
	AssignDraft(ctx context.Context, draftID int64, user, actor string) (InboxItem, error)
	// DraftsVersion returns the latest change time of any draft (the zero
	// time for none): a watcher starts from it and asks Drafts for
	// UpdatedAfter.
	DraftsVersion(ctx context.Context) (time.Time, error)
	// PendingDrafts counts the drafts waiting for approval, up to most
	// (counting stops there, so it stays cheap on a long queue).
	PendingDrafts(ctx context.Context, most int) (int, error)
	// QueueStats is Stats with only Mentions and Drafts filled, cheap
	// enough for every metrics scrape.
	QueueStats(ctx context.Context) (Stats, error)
	// Draft returns one draft; ENOTFOUND if there is none.
	Draft(ctx context.Context, id int64) (Draft, error)
	// Drafts lists drafts matching f, most urgent first for pending ones
	// (priority, then oldest first), else newest first.
	Drafts(ctx context.Context, f DraftFilter) ([]Draft, error)
}

// PeopleStore is what the web inbox reads and changes about people and
// their threads.
type PeopleStore interface {
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
	// Thread returns one thread; ENOTFOUND if there is none.
	Thread(ctx context.Context, id int64) (Thread, error)
	// SearchPeople finds people whose handle, name or external id contains
	// q (case-insensitive), most recently seen first, at most limit (0
	// means 20); none is an empty list.
	SearchPeople(ctx context.Context, q string, limit int) ([]Person, error)

	// AddNote writes a staff note about a person and an audit entry
	// ("note"). Errors: EINVALID for an empty or too long text (over 4000
	// bytes) or an empty author; ENOTFOUND for no such person.
	AddNote(ctx context.Context, personID int64, author, text string) (Note, error)
	// Notes returns the staff notes about a person, newest first.
	Notes(ctx context.Context, personID int64) ([]Note, error)

	// LinkPeople records that two people are the same human (say, on
	// Discord and Mastodon): they join one group, merging the groups they
	// were in, with an audit entry ("link"). Errors: EINVALID when a == b;
	// ENOTFOUND for no such person; ECONFLICT when they are already linked.
	LinkPeople(ctx context.Context, a, b int64, actor string) error
	// UnlinkPerson takes a person out of their group of linked people (a
	// group left with one member is dissolved), with an audit entry
	// ("unlink"). ENOTFOUND when the person is not linked to anyone.
	UnlinkPerson(ctx context.Context, id int64, actor string) error
	// LinkedPeople returns the people linked to id (not id itself), by
	// platform and handle; none when id is not linked.
	LinkedPeople(ctx context.Context, id int64) ([]Person, error)

	// SetOptOut opts a person out of (or back into) prompts by a manager's
	// hand: waiting prompts are withdrawn and the audit log says who did
	// it. Errors: ENOTFOUND; EINVALID for an empty actor.
	SetOptOut(ctx context.Context, personID int64, optedOut bool, actor, reason string) (Person, error)
	// PersonAdvocate returns one person with what the last advocate
	// scoring said and who confirmed them; for someone never scored the
	// extra fields are empty. ENOTFOUND for no such person.
	PersonAdvocate(ctx context.Context, personID int64) (AdvocateEntry, error)
	// PersonAdvocateChanges returns a person's advocate state changes,
	// oldest first.
	PersonAdvocateChanges(ctx context.Context, personID int64) ([]AdvocateChange, error)
	// PersonPrompts returns the prompts sent to a person, newest first.
	PersonPrompts(ctx context.Context, personID int64) ([]Prompt, error)
	// ConsentLog returns the person's opt-out and opt-in audit entries,
	// oldest first.
	ConsentLog(ctx context.Context, personID int64) ([]AuditEntry, error)

	// CorrectSentimentAndRedecide sets a mention's sentiment to label on
	// actor's word and, in the same transaction, decides the mention again
	// with decide (the rules, as at ingest, over the mention's history
	// before it): its tags, priority, rules and ignored flag follow the
	// corrected label, and a rule's pending draft for it that the rules no
	// longer write is superseded by the one they write now. A reply a
	// person wrote or edited, one approved or sent, or a pending reply to a
	// later message stays. Every change is in the audit log under actor; a
	// nil decide only corrects. Errors: ENOTFOUND; EINVALID for an empty
	// actor or a bad label.
	CorrectSentimentAndRedecide(ctx context.Context, mentionID int64, label Label, actor string, decide DecideFunc) (Redecision, error)
}

// HealthChecker tells whether the database answers.
type HealthChecker interface {
	// Check runs a cheap query over the tables the inbox and the pipeline
	// read, so a damaged database fails it; it costs a few page reads
	// whatever the database's size. Errors: the database's.
	Check(ctx context.Context) error
	// SchemaVersion returns the number of migrations applied.
	SchemaVersion(ctx context.Context) (int, error)
}

// WebStore is everything the web inbox needs from a store.
type WebStore interface {
	UserStore
	AuditLog
	InboxStore
	PeopleStore
	HealthChecker
	SavedReplyStore
	ConversationNoteStore
	AdvocateDesk
	Inbox
	WebhookStore
	EraseStore
	TokenStore
	MentionSearcher
	DataExporter
	// Stats returns the headline counts.
	Stats(ctx context.Context) (Stats, error)
	// Conversation returns one conversation; ENOTFOUND if there is none.
	Conversation(ctx context.Context, id int64) (Conversation, error)
	// Conversations lists those f selects: needing a reply first, longest
	// waiting first; then the rest, newest message first.
	Conversations(ctx context.Context, f ConversationFilter) ([]Conversation, error)
	// Digests lists every stored digest, newest week first, with
	// deliveries but without the bodies.
	Digests(ctx context.Context) ([]DigestRecord, error)
	// Digest returns one week's digest with its bodies; ENOTFOUND if there
	// is none.
	Digest(ctx context.Context, week string) (DigestRecord, error)
}
