package parley

import (
	"context"
	"time"
)

// Digest statuses: where a week's digest is. A week has one digest; it is
// claimed (building) by one process, which builds it, delivers it to the
// configured targets and records the outcome.
const (
	DigestBuilding = "building" // claimed by a process that is building or delivering it
	DigestSent     = "sent"     // delivered to every target
	DigestPartial  = "partial"  // delivered to some targets; the others failed
	DigestFailed   = "failed"   // no target took it
	DigestStored   = "stored"   // built and kept; there were no targets
)

// DigestRecord is one weekly digest as the store keeps it, for the web
// inbox's list of past digests and for the scheduler's once-per-week rule.
type DigestRecord struct {
	Week     string    `json:"week"`     // ISO 8601 week, "2026-W47"
	TimeZone string    `json:"timezone"` // IANA zone the week was cut in
	Start    time.Time `json:"start"`    // the week's Monday 00:00 in TimeZone
	End      time.Time `json:"end"`      // the next Monday 00:00 in TimeZone
	Status   string    `json:"status"`   // DigestBuilding, DigestSent, ...
	// Owner names the process holding (or last holding) the claim.
	Owner     string    `json:"owner,omitempty"`
	ClaimedAt time.Time `json:"claimed_at"`
	BuiltAt   time.Time `json:"built_at,omitzero"`
	// Summary is a one-line headline for lists, e.g. "214 mentions (+12%) ·
	// 18% negative · 71% replied".
	Summary string `json:"summary,omitempty"`
	// The rendered digest. Digests (the list) leaves them empty.
	Markdown string `json:"markdown,omitempty"`
	HTML     string `json:"html,omitempty"`
	Text     string `json:"text,omitempty"`
	// Deliveries holds the latest outcome per target, in target order.
	Deliveries []DigestDelivery `json:"deliveries,omitempty"`
}

// Delivered reports whether the target named target has the digest.
func (r DigestRecord) Delivered(target string) bool {
	for _, d := range r.Deliveries {
		if d.Target == target {
			return d.OK
		}
	}
	return false
}

// DigestDelivery is how sending a digest to one target went.
type DigestDelivery struct {
	// Target names the target, unique within the config ("email to
	// ana@example.com", "file ./digests").
	Target   string    `json:"target"`
	Type     string    `json:"type"` // file, email, discord, mastodon
	OK       bool      `json:"ok"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
	// Detail says where it went when it did: a file path, a message id.
	Detail string `json:"detail,omitempty"`
}

// DigestWindow is what the store holds about one period [From, To), seen
// at AsOf: the raw material of a weekly digest. Everything the digest says
// is computed from it.
type DigestWindow struct {
	From, To, AsOf time.Time
	// Mentions were created in [From, To), oldest first. Their Author holds
	// the handle, name, followers and #nobot flag.
	Mentions []Mention
	// People are the authors of Mentions as stored now; FirstSeen tells a
	// first-timer from a returning person.
	People []Person
	// Replies are our reply drafts sent before AsOf in the threads of
	// Mentions, by SentAt.
	Replies []Draft
	// Drafts were created or decided in [From, To), any kind, oldest first.
	Drafts []Draft
	// Audit holds the audit entries of [From, To), oldest first.
	Audit []AuditEntry
	// Pending counts the drafts waiting for approval now; OldestPending is
	// when the oldest of them was created (zero when none).
	Pending       int
	OldestPending time.Time
	// AdvocateStates counts people per non-empty advocate state now
	// ("candidate", "advocate", "lapsed").
	AdvocateStates map[string]int
	// Advocates are the people whose state is "advocate" now, best score
	// first, at most 20.
	Advocates []Person
	// AdvocateChanges are the advocate state changes recorded in
	// [From, To), oldest first.
	AdvocateChanges []AdvocateChange
	// Prompts are the prompts sent in [From, To) per template, with their
	// outcomes so far.
	Prompts []PromptStats
	// SavedReplies counts, per saved reply, the drafts written from it and
	// approved in [From, To) (approved, sending or sent now), most used
	// first.
	SavedReplies []SavedReplyUse
}

// DigestStore keeps weekly digests and reads the numbers they are made of.
type DigestStore interface {
	// ClaimDigest takes r.Week's digest for owner until leaseUntil, so one
	// process builds and sends it. The week's row is created from r (Week,
	// TimeZone, Start, End) when there is none. It returns the stored
	// record with the deliveries made so far (a resumed claim sends only to
	// the targets not yet delivered). Errors: ECONFLICT when the week was
	// already sent or stored (unless force), or another owner holds an
	// unexpired claim; EINVALID for an empty week or owner.
	ClaimDigest(ctx context.Context, r DigestRecord, owner string, leaseUntil time.Time, force bool) (DigestRecord, error)
	// SaveDigest writes r's bodies, summary, status, BuiltAt and deliveries
	// (one per target, replacing earlier outcomes). A final status (not
	// building) releases the claim. ECONFLICT when owner does not hold the
	// week's claim; ENOTFOUND when the week was never claimed.
	SaveDigest(ctx context.Context, r DigestRecord, owner string) error
	// Digests lists every stored digest, newest week first, with
	// deliveries but without the bodies.
	Digests(ctx context.Context) ([]DigestRecord, error)
	// Digest returns one week's digest with its bodies; ENOTFOUND if there
	// is none.
	Digest(ctx context.Context, week string) (DigestRecord, error)

	// DigestWindow reads the period [from, to) as seen at asOf.
	DigestWindow(ctx context.Context, from, to, asOf time.Time) (DigestWindow, error)
	// MentionTimes returns the creation times of the mentions in
	// [from, to), oldest first (for daily baselines).
	MentionTimes(ctx context.Context, from, to time.Time) ([]time.Time, error)
	// LatestMention returns the creation time of the newest mention, or
	// the zero time when there is none.
	LatestMention(ctx context.Context) (time.Time, error)
}
