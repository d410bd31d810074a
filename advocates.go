package parley

import (
	"context"
	"time"
)

// Advocate states: where a person stands as a fan of the brand. A person
// starts with no state (""); rules/advocate moves them
// candidate → advocate → lapsed (and a lapsed fan back to advocate).
const (
	AdvocateCandidate = "candidate" // scores well; watched, or waiting for a manager's confirmation
	AdvocateActive    = "advocate"  // a fan Parley may invite to share
	AdvocateLapsed    = "lapsed"    // was an advocate; no positive post for a while
)

// Prompt outcomes. A prompt has no outcome while it waits in the queue and
// while its watch window is open after it was sent.
const (
	OutcomeConverted = "converted" // they posted positively, or the asked-for link or hashtag
	OutcomeDeclined  = "declined"  // they said no (or opted out)
	OutcomeExpired   = "expired"   // nothing in the watch window
	OutcomeWithdrawn = "withdrawn" // taken out of the queue before it was sent (they opted out)
)

// Prompt is one invitation to an advocate: a Draft of kind KindPrompt with
// what was asked and how it ended.
type Prompt struct {
	DraftID  int64  `json:"draft_id"`
	PersonID int64  `json:"person_id"`
	Platform string `json:"platform"`
	// Rule is the prompt rule that chose it; Template the invitation
	// template (also the Draft's Rule, which the digest groups by).
	Rule     string `json:"rule,omitempty"`
	Template string `json:"template"`
	// Ask names what was asked ("review", "beta"); a person is never asked
	// the same thing twice.
	Ask string `json:"ask"`
	// Link and Hashtag are what a converted post may carry.
	Link    string `json:"link,omitempty"`
	Hashtag string `json:"hashtag,omitempty"`
	Text    string `json:"text"`
	// State is the draft's state in the approval queue.
	State     DraftState `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    time.Time  `json:"sent_at,omitzero"`
	// WatchFor is how long after sending their posts are watched.
	WatchFor time.Duration `json:"watch_for"`
	// Outcome is "" or one of the Outcome constants.
	Outcome          string    `json:"outcome,omitempty"`
	OutcomeAt        time.Time `json:"outcome_at,omitzero"`
	OutcomeMentionID int64     `json:"outcome_mention_id,omitempty"`
	OutcomeDetail    string    `json:"outcome_detail,omitempty"`
}

// WatchUntil is when the watch window closes: zero until the prompt is sent.
func (p Prompt) WatchUntil() time.Time {
	if p.SentAt.IsZero() {
		return time.Time{}
	}
	return p.SentAt.Add(p.WatchFor)
}

// Status is the prompt's outcome, or while it has none what its draft is
// doing: "waiting" (pending, approved or sending), "watching" (sent, the
// window still open at now), "rejected" or "failed".
func (p Prompt) Status(now time.Time) string {
	if p.Outcome != "" {
		return p.Outcome
	}
	switch p.State {
	case DraftSent:
		if now.Before(p.WatchUntil()) {
			return "watching"
		}
		return "sent"
	case DraftRejected:
		return "rejected"
	case DraftFailed:
		return "failed"
	}
	return "waiting"
}

// PromptRequest asks the store to queue a prompt for a person.
type PromptRequest struct {
	PersonID int64
	Rule     string
	Template string
	Ask      string
	Link     string
	Hashtag  string
	Text     string
	Priority int
	// AutoApprove queues the draft approved (decided by "rule:"+Rule)
	// instead of pending; only a prompt rule that says so sets it.
	AutoApprove bool
	// At is when the prompt is queued, the time consent is judged at; zero
	// means the store's clock.
	At time.Time
}

// ConsentPolicy is the restraint the store enforces when it queues a
// prompt. The zero value allows no prompt at all (MaxPrompts 0).
type ConsentPolicy struct {
	// MaxPrompts is how many prompts a person may get within Per: waiting
	// ones and ones sent within Per count.
	MaxPrompts int
	Per        time.Duration
	// Cooldown is how long after a person's negative mention no prompt is
	// queued for them.
	Cooldown time.Duration
	// QuietStart and QuietEnd bound the quiet hours as offsets from local
	// midnight (21h and 9h: 21:00 to 09:00 the next morning). Equal values
	// mean no quiet hours.
	QuietStart, QuietEnd time.Duration
	// TimeZone is the brand's IANA zone, used for people whose zone is not
	// known; "" is UTC.
	TimeZone string
	// WatchFor is stored with the prompt: how long its outcome is watched
	// for after it is sent.
	WatchFor time.Duration
}

// Reasons a prompt is refused (ConsentError.Reason).
const (
	RefusedOptedOut   = "opted_out"
	RefusedNoBot      = "nobot"
	RefusedSameAsk    = "same_ask"
	RefusedCap        = "cap"
	RefusedCooldown   = "cooldown"
	RefusedQuietHours = "quiet_hours"
)

// ConsentError says why the store refused to queue a prompt. Its code is
// ECONFLICT.
type ConsentError struct {
	Reason string // one of the Refused constants
	// Until, when known, is when the refusal ends (the cooldown's or the
	// quiet hours' end, the cap's window sliding).
	Until time.Time
	Msg   string
}

func (e *ConsentError) Error() string { return e.Msg }

// Unwrap gives the ECONFLICT *Error, so ErrorCode sees the code.
func (e *ConsentError) Unwrap() error { return &Error{Code: ECONFLICT, Message: e.Msg} }

// AdvocateHistory is what a person's advocate score and the prompt rules
// are computed from.
type AdvocateHistory struct {
	Person Person
	// Mentions are the person's mentions created in the scoring window,
	// oldest first.
	Mentions []Mention
	// RepliesReceived counts replies other people posted to Mentions (the
	// platforms' boosts and reactions are not stored).
	RepliesReceived int
	// Prompts are every prompt made to the person, newest first.
	Prompts []Prompt
	// ConfirmedBy and ConfirmedAt name the manager who confirmed them as
	// an advocate, if one did.
	ConfirmedBy string
	ConfirmedAt time.Time
	// Note is what the last scoring said about the state (e.g. that they
	// qualify and wait for a manager's confirmation).
	Note string
}

// AdvocateUpdate is one person's new score and state from a scoring run.
// To == From changes the score only. A state change is applied only while
// the stored state is still From.
type AdvocateUpdate struct {
	PersonID int64
	Score    float64
	From, To string
	// Reason says why the state changes (kept with the change).
	Reason string
	// Note replaces the person's note (see AdvocateHistory.Note).
	Note string
}

// AdvocateChange is one recorded change of a person's advocate state.
type AdvocateChange struct {
	ID       int64     `json:"id"`
	PersonID int64     `json:"person_id"`
	Handle   string    `json:"handle"`
	Platform string    `json:"platform"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Score    float64   `json:"score"`
	At       time.Time `json:"at"`
	// Actor is "parley" for the scoring, else the manager.
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// PromptStats is how one prompt template did: prompts sent in a period and
// their outcomes so far.
type PromptStats struct {
	Template  string `json:"template"`
	Sent      int    `json:"sent"`
	Converted int    `json:"converted"`
	Declined  int    `json:"declined"`
	Expired   int    `json:"expired"`
	Watching  int    `json:"watching"` // no outcome yet
}

// Rate is Converted / Sent (0 with nothing sent).
func (s PromptStats) Rate() float64 {
	if s.Sent == 0 {
		return 0
	}
	return float64(s.Converted) / float64(s.Sent)
}

// OptOutRequest opts a person out of prompts.
type OptOutRequest struct {
	PersonID int64
	Actor    string // "parley" when a message asked for it, else the manager
	Reason   string // kept in the audit log, e.g. `said "stop"`
	// MentionID is the message that asked for it (0 by hand); Ack, when
	// not empty, is queued as an auto-approved reply to it.
	MentionID int64
	Ack       string
	At        time.Time // zero: the store's clock
}

// OptOutResult is what an opt-out or opt-in did.
type OptOutResult struct {
	Person Person `json:"person"`
	// Changed is false when the person already was opted out (or in):
	// nothing was written.
	Changed bool `json:"changed"`
	// Withdrawn lists the prompt drafts taken out of the queue.
	Withdrawn []int64 `json:"withdrawn,omitempty"`
	// AckDraftID is the acknowledgement reply queued, or 0.
	AckDraftID int64 `json:"ack_draft_id,omitempty"`
}

// AdvocateDesk is what managers need to look after advocates by hand
// (the web's advocates page), beside PeopleStore.SetOptOut.
type AdvocateDesk interface {
	// AdvocateEntries lists people in the given states (every non-empty
	// state when none), best score first, at most limit (0 means 100).
	AdvocateEntries(ctx context.Context, states []string, limit int) ([]AdvocateEntry, error)
	// ConfirmAdvocate makes a person an advocate by a manager's decision
	// (see AdvocateStore).
	ConfirmAdvocate(ctx context.Context, personID int64, actor string) (AdvocateChange, error)
}

// AdvocateStore keeps advocate scores and states, prompts with their
// outcomes, and consent. store/ implements it on SQLite.
type AdvocateStore interface {
	// AdvocateHistories returns the history of every person who posted in
	// [since, until), has an advocate state or a non-zero score, by person
	// id. Mentions hold only those of [since, until).
	AdvocateHistories(ctx context.Context, since, until time.Time) ([]AdvocateHistory, error)
	// AdvocateHistory is AdvocateHistories for one person; ENOTFOUND if
	// there is no such person.
	AdvocateHistory(ctx context.Context, personID int64, since, until time.Time) (AdvocateHistory, error)
	// SaveAdvocates writes scores and state changes in one transaction and
	// records each state change (actor "parley") at at. It returns the
	// changes made; a state change whose From no longer matches the stored
	// state (a manager acted meanwhile) is skipped.
	SaveAdvocates(ctx context.Context, updates []AdvocateUpdate, at time.Time) ([]AdvocateChange, error)
	// ConfirmAdvocate makes a person an advocate by a manager's decision,
	// recorded as a change and in the audit log ("advocate_confirm").
	// Errors: ENOTFOUND; ECONFLICT if they already are one; EINVALID for
	// an empty actor.
	ConfirmAdvocate(ctx context.Context, personID int64, actor string) (AdvocateChange, error)
	// AdvocateChanges returns the state changes made in [from, to), oldest
	// first (the digest lists new and lapsed advocates from it).
	AdvocateChanges(ctx context.Context, from, to time.Time) ([]AdvocateChange, error)
	// PersonAdvocateChanges returns one person's state changes, oldest first.
	PersonAdvocateChanges(ctx context.Context, personID int64) ([]AdvocateChange, error)
	// Advocates lists people in the given states (all non-empty states
	// when none), best score first, at most limit (0 means 100).
	Advocates(ctx context.Context, states []string, limit int) ([]Person, error)

	// QueuePrompt queues a prompt draft after checking, in the same
	// transaction, every consent rule of pol at req.At: the person has not
	// opted out, has no #nobot, was never asked req.Ask, has fewer than
	// pol.MaxPrompts prompts waiting or sent within pol.Per, posted nothing
	// negative within pol.Cooldown, and it is not quiet hours in their time
	// zone (else pol.TimeZone). A refusal is a *ConsentError (ECONFLICT).
	// Other errors: ENOTFOUND for no such person; EINVALID for an empty
	// text, ask or template.
	QueuePrompt(ctx context.Context, req PromptRequest, pol ConsentPolicy) (Prompt, error)
	// PersonPrompts returns a person's prompts, newest first.
	PersonPrompts(ctx context.Context, personID int64) ([]Prompt, error)
	// WatchedPrompts returns the sent prompts of these people that have no
	// outcome yet, oldest first.
	WatchedPrompts(ctx context.Context, personIDs []int64) ([]Prompt, error)
	// SetPromptOutcome records a prompt's outcome (and the mention that
	// decided it, or 0). ECONFLICT if it already has one; ENOTFOUND if
	// there is no such prompt.
	SetPromptOutcome(ctx context.Context, draftID int64, outcome string, mentionID int64, detail string, at time.Time) error
	// ExpirePrompts marks expired every sent prompt without an outcome
	// whose watch window closed by now, and returns how many.
	ExpirePrompts(ctx context.Context, now time.Time) (int, error)
	// PromptConversion counts, per template, the prompts sent in
	// [from, to) and their outcomes, most sent first.
	PromptConversion(ctx context.Context, from, to time.Time) ([]PromptStats, error)

	// OptOut opts a person out of prompts at once: the flag, an audit
	// entry ("optout"), every prompt still waiting in the queue (pending or
	// approved) rejected by "parley" with reason "opted out", and, when
	// req.Ack is set and the person has no #nobot, an auto-approved reply
	// to req.MentionID (other pending replies to that mention are
	// rejected: the acknowledgement answers it). Opting out someone
	// already out changes nothing (Changed false). Errors: ENOTFOUND;
	// EINVALID for an empty actor.
	OptOut(ctx context.Context, req OptOutRequest) (OptOutResult, error)
	// OptIn clears the opt-out, with an audit entry ("optin"). Errors as
	// OptOut.
	OptIn(ctx context.Context, personID int64, actor, reason string) (OptOutResult, error)
	// ConsentLog returns a person's optout and optin audit entries, oldest
	// first.
	ConsentLog(ctx context.Context, personID int64) ([]AuditEntry, error)
	// RepliesToUs reports whether m answers one of our posts: its
	// in_reply_to is a post we made, or its thread holds a reply we sent.
	RepliesToUs(ctx context.Context, m Mention) (bool, error)
}
