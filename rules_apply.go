package parley

import (
	"context"
	"slices"
	"time"
)

// Reapplied is one stored mention decided again by the rules.
type Reapplied struct {
	// Before is the mention as it was stored: its tags, priority, rules
	// and ignored flag before the rules ran again.
	Before Mention
	Redecision
}

// Changed reports whether deciding the mention again changed anything: its
// tags, priority, rules or ignored flag, or its drafts.
func (r Reapplied) Changed() bool {
	b, a := r.Before, r.Mention
	return len(r.Queued) > 0 || len(r.Replaced) > 0 || b.Priority != a.Priority || b.Ignored != a.Ignored ||
		!slices.Equal(b.Tags, a.Tags) || !slices.Equal(b.Rules, a.Rules)
}

// RuleReapplier runs the rules again over stored mentions (after an ingest
// without rules, or after the rules changed).
type RuleReapplier interface {
	// MentionIDsSince returns the ids of the mentions created at or after
	// since, oldest first.
	MentionIDsSince(ctx context.Context, since time.Time) ([]int64, error)
	// RedecideMentions decides each mention of ids again with decide, in
	// order, in one transaction, as a sentiment correction does: tags,
	// priority, rules and ignored follow the rules, a rule's pending draft
	// they no longer write is superseded by the one they write now, and a
	// conversation keeps at most one pending reply (a person's reply, or
	// one approved or sent, stays and nothing is queued beside it). Every
	// draft change is audited under actor. With dryRun nothing is written:
	// the result says what would change. Errors: ENOTFOUND for an id that
	// is not stored (nothing is written), the database's, ctx's.
	RedecideMentions(ctx context.Context, ids []int64, decide DecideFunc, actor string, dryRun bool) ([]Reapplied, error)
}
