// Package parley holds Parley's domain: the types every part of the bot shares
// (mentions, people, threads, drafts, sentiment) and the interfaces that the
// implementations in store/, rules/, connectors/ and bot/ satisfy.
//
// It depends on the standard library only. See docs/architecture.md for
// the packages around it and who may import whom.
package parley

import (
	"strconv"
	"strings"
	"time"
)

// Platforms Parley knows. A replay file may name any of them.
const (
	PlatformMastodon = "mastodon"
	PlatformDiscord  = "discord"
)

// Label is a sentiment class.
type Label string

// The three sentiment classes, in the order SemEval uses.
const (
	Negative Label = "negative"
	Neutral  Label = "neutral"
	Positive Label = "positive"
)

// Labels lists the sentiment classes in a fixed order.
var Labels = []Label{Negative, Neutral, Positive}

// Valid reports whether l is one of the three classes.
func (l Label) Valid() bool { return l == Negative || l == Neutral || l == Positive }

// ParseLabel returns the Label named by s (case-insensitive), or an error
// with code EINVALID.
func ParseLabel(s string) (Label, error) {
	l := Label(strings.ToLower(strings.TrimSpace(s)))
	if !l.Valid() {
		return "", Errorf(EINVALID, "sentiment label %q: want negative, neutral or positive", s)
	}
	return l, nil
}

// Sentiment is a classifier's verdict on one text.
type Sentiment struct {
	Label Label   `json:"label"`
	Score float64 `json:"score"` // -1 (most negative) .. 1 (most positive)
	// Confidence is 0..1; a low value says "neutral because unsure" (for
	// example a language the model does not know).
	Confidence float64 `json:"confidence,omitempty"`
	Model      string  `json:"model,omitempty"`
	// Overrides names the brand lexicon entries that changed the verdict.
	Overrides []string `json:"overrides,omitempty"`
}

// ModelUnknownLanguage is the Sentiment.Model of a verdict on a post in a
// language the classifier does not read: its label is a placeholder
// (neutral) and a person should read the post.
const ModelUnknownLanguage = "unknown-language"

// Known reports whether the classifier read the post: false for a post in
// a language it does not cover (see ModelUnknownLanguage). Rules see it as
// sentiment.known.
func (s Sentiment) Known() bool { return s.Model != ModelUnknownLanguage }

// Classifier assigns a sentiment to a text.
//
// Classify must be safe for concurrent use and must not fail: an empty or
// unintelligible text is Neutral. Implementations live in rules/sentiment.
type Classifier interface {
	Classify(text string) Sentiment
	// Name identifies the model ("vader", ...), recorded with each verdict.
	Name() string
}

// Person is one human (or bot) on one platform. People on different
// platforms can be linked by a manager; they stay separate rows.
type Person struct {
	ID         int64  `json:"id"`
	Platform   string `json:"platform"`
	ExternalID string `json:"external_id"`
	Handle     string `json:"handle"`
	Name       string `json:"name"`
	Followers  int    `json:"followers"`
	// NoBot is set when the person's profile asks bots to leave them alone
	// (#nobot): their posts are stored but never drafted for or prompted.
	NoBot bool `json:"nobot,omitempty"`
	// TimeZone is an IANA name when the platform tells it, else "".
	TimeZone string `json:"timezone,omitempty"`

	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Mentions  int       `json:"mentions"`
	Positive  int       `json:"positive"`
	Negative  int       `json:"negative"`
	Neutral   int       `json:"neutral"`
	// LastSentiment is the label of their most recent mention.
	LastSentiment Label `json:"last_sentiment,omitempty"`
	RepliesSent   int   `json:"replies_sent"`
	OptedOut      bool  `json:"opted_out,omitempty"`
	// AdvocateState is "", "candidate", "advocate" or "lapsed".
	AdvocateState string  `json:"advocate_state,omitempty"`
	AdvocateScore float64 `json:"advocate_score,omitempty"`
}

// DisplayName is the name to address the person by: their display name, or
// their handle when they have none.
func (p Person) DisplayName() string {
	if strings.TrimSpace(p.Name) != "" {
		return p.Name
	}
	return p.Handle
}

// Mention is one post that concerns the brand, as the pipeline sees it.
// Connectors fill the identity, author and text fields; the pipeline fills
// sentiment, tags, priority and the store ids.
type Mention struct {
	ID       int64  `json:"id,omitempty"` // store id; 0 until stored
	Platform string `json:"platform"`
	// Account names the connector account that heard the mention when a
	// platform has several (e.g. two Mastodon servers); replies go out
	// through the same account. "" for the only or default account.
	Account    string    `json:"account,omitempty"`
	ExternalID string    `json:"external_id"`
	Author     Person    `json:"author"`
	Text       string    `json:"text"`
	CreatedAt  time.Time `json:"created_at"`
	// InReplyTo is the platform id of the post this one answers, if any.
	InReplyTo string `json:"in_reply_to,omitempty"`
	// ThreadKey, when a connector sets it, names the conversation directly
	// (a Discord thread channel, say); else the thread follows InReplyTo.
	ThreadKey  string `json:"thread_key,omitempty"`
	URL        string `json:"url,omitempty"`
	Channel    string `json:"channel,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	Lang       string `json:"lang,omitempty"`
	// Direct is true for a private message to the bot (Discord DM,
	// Mastodon direct visibility).
	Direct bool `json:"direct,omitempty"`

	// Set by the pipeline.
	ReceivedAt time.Time `json:"received_at"`
	PersonID   int64     `json:"person_id,omitempty"`
	ThreadID   int64     `json:"thread_id,omitempty"`
	Sentiment  Sentiment `json:"sentiment"`
	Tags       []string  `json:"tags,omitempty"`
	Priority   int       `json:"priority,omitempty"`
	Rules      []string  `json:"rules,omitempty"` // names of the rules that matched
	Ignored    bool      `json:"ignored,omitempty"`

	// Prepared is what the rules worked out from the text alone before the
	// mention reached the store (rules.Set.Prepare, run by the pipeline's
	// classifying goroutines), so the store's single writer need not. It
	// is opaque outside the package that set it and never stored; a stale
	// or foreign value is ignored.
	Prepared any `json:"-"`
}

// Thread is one conversation on one platform.
type Thread struct {
	ID        int64     `json:"id"`
	Platform  string    `json:"platform"`
	RootKey   string    `json:"root_key"` // the platform id of the first post, or the ThreadKey
	Channel   string    `json:"channel,omitempty"`
	StartedAt time.Time `json:"started_at"`
	LastAt    time.Time `json:"last_at"`
	Mentions  int       `json:"mentions"`
}

// DraftState is where a draft is in the approval queue. A draft moves
// pending → approved → sending → sent, or pending → rejected, or pending →
// superseded (a newer draft in its conversation replaced it), or sending →
// failed (and back to approved when retried).
type DraftState string

// Draft states.
const (
	DraftPending  DraftState = "pending"
	DraftApproved DraftState = "approved"
	DraftSending  DraftState = "sending"
	DraftSent     DraftState = "sent"
	DraftRejected DraftState = "rejected"
	DraftFailed   DraftState = "failed"
	// DraftSuperseded is a pending reply replaced by a newer one in its
	// conversation: kept in the history, never sent.
	DraftSuperseded DraftState = "superseded"
)

// DraftStates lists every state in queue order.
var DraftStates = []DraftState{DraftPending, DraftApproved, DraftSending, DraftSent, DraftRejected, DraftFailed,
	DraftSuperseded}

// ParseDraftState returns the state named by s, or an EINVALID error.
func ParseDraftState(s string) (DraftState, error) {
	for _, st := range DraftStates {
		if string(st) == s {
			return st, nil
		}
	}
	return "", Errorf(EINVALID, "draft state %q: want one of pending, approved, sending, sent, rejected, failed, superseded", s)
}

// Draft kinds.
const (
	KindReply  = "reply"  // an answer to a mention, in its thread
	KindPrompt = "prompt" // an invitation to an advocate, by direct message
)

// Draft is a message Parley proposes to send. Nothing leaves for a platform
// until a person approves it, or a rule a person marked auto_approve made it.
type Draft struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	State     DraftState `json:"state"`
	Platform  string     `json:"platform"`
	MentionID int64      `json:"mention_id,omitempty"`
	PersonID  int64      `json:"person_id"`
	ThreadID  int64      `json:"thread_id,omitempty"`
	Rule      string     `json:"rule,omitempty"`
	Text      string     `json:"text"`
	// OriginalText is the text the rule drafted, kept when a person edits it.
	OriginalText string    `json:"original_text,omitempty"`
	Priority     int       `json:"priority,omitempty"`
	AutoApprove  bool      `json:"auto_approve,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	DecidedBy    string    `json:"decided_by,omitempty"`
	DecidedAt    time.Time `json:"decided_at,omitzero"`
	SentAt       time.Time `json:"sent_at,omitzero"`
	// PostedID is the platform id of the post we made, once sent.
	PostedID  string `json:"posted_id,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// NewMessageAt is set on a pending draft a person edited when the
	// customer wrote again after it was drafted: the edit is kept (never
	// replaced silently) and the inbox says a new message arrived.
	NewMessageAt time.Time `json:"new_message_at,omitzero"`
	// WrittenBy is the person who last wrote the text (an edit, or a reply
	// written by hand); "" while it is the rule's.
	WrittenBy string `json:"written_by,omitempty"`
	// SendAfter is the end of an approved draft's undo grace period: the
	// outbox does not post it before, and until then Undo returns it to
	// pending. Zero when approved without one.
	SendAfter time.Time `json:"send_after,omitzero"`
}

// Edited reports whether a person wrote or changed the text: such a draft
// is never replaced by a rule's.
func (d Draft) Edited() bool { return d.WrittenBy != "" }

// IdempotencyKey is the key sent with every attempt to post d, so a retry
// after a crash never posts twice (Mastodon Idempotency-Key, Discord nonce).
func (d Draft) IdempotencyKey() string {
	return "parley-draft-" + strconv.FormatInt(d.ID, 10)
}

// AuditEntry records who did what to a draft or a person.
type AuditEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"` // approve, edit, reject, optout, optin, login, ...
	DraftID  int64     `json:"draft_id,omitempty"`
	PersonID int64     `json:"person_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
}

// Stats are the store's headline counts.
type Stats struct {
	Mentions int                `json:"mentions"`
	People   int                `json:"people"`
	Threads  int                `json:"threads"`
	Drafts   map[DraftState]int `json:"drafts"`
	// Sentiment counts stored mentions per label.
	Sentiment map[Label]int `json:"sentiment"`
}
