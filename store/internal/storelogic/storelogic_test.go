package storelogic

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func TestConflictSaysWhoDecided(t *testing.T) {
	err := Conflict(parley.Draft{ID: 7, State: parley.DraftApproved, DecidedBy: "ana"})
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	assert.ErrorContains(t, err, "draft 7 is already approved by ana (now approved)")
	assert.ErrorContains(t, Conflict(parley.Draft{ID: 7, State: parley.DraftSent}), "approved by someone (now sent)")
	assert.ErrorContains(t, Conflict(parley.Draft{ID: 7, State: parley.DraftRejected, DecidedBy: "bo"}), "already rejected by bo")
	assert.ErrorContains(t, Conflict(parley.Draft{ID: 7, State: parley.DraftSuperseded}), "superseded")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(CheckText(7, " \n")))
	assert.NoError(t, CheckText(7, "hi"))
}

func TestPlaceDraftAndSameDraft(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	m := &parley.Mention{ID: 3, PersonID: 4, ThreadID: 5, Platform: parley.PlatformMastodon}
	d := parley.Draft{Rule: "thanks", Text: "Thanks!"}
	PlaceDraft(&d, m, now)
	assert.Equal(t, parley.Draft{Rule: "thanks", Text: "Thanks!", Kind: parley.KindReply, State: parley.DraftPending,
		Platform: parley.PlatformMastodon, MentionID: 3, PersonID: 4, ThreadID: 5, CreatedAt: now, UpdatedAt: now}, d)
	auto := parley.Draft{Rule: "auto", State: parley.DraftApproved}
	PlaceDraft(&auto, m, now)
	assert.Equal(t, "rule:auto", auto.DecidedBy)
	assert.Equal(t, now, auto.DecidedAt)
	assert.Equal(t, 1, SameDraft([]parley.Draft{auto, d}, parley.Draft{Rule: "thanks", Text: "Thanks!"}))
	assert.Equal(t, -1, SameDraft([]parley.Draft{auto, d}, parley.Draft{Rule: "thanks", Text: "Other"}))
}

func TestConversationChangeAndExportWhere(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	action, detail, err := ConversationChange(1, parley.Snoozed, now.Add(time.Hour), now, "later")
	require.NoError(t, err)
	assert.Equal(t, "snooze", action)
	assert.Equal(t, "until 2026-12-03T10:00:00Z later", detail)
	_, _, err = ConversationChange(1, parley.Snoozed, now, now, "")
	assert.ErrorContains(t, err, "not in the future")
	_, _, err = ConversationChange(1, "waiting", now, now, "")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))

	where, args := ExportWhere(parley.ExportFilter{Since: now, Platform: "discord", AfterID: 7}, "i", "t", "p",
		func(n int) string { return "$" + string(rune('0'+n)) })
	assert.Equal(t, " WHERE t >= $1 AND p = $2 AND i > $3", where)
	assert.Equal(t, []any{now.UnixMilli(), "discord", int64(7)}, args)
	where, args = ExportWhere(parley.ExportFilter{}, "i", "t", "p", nil)
	assert.Empty(t, where)
	assert.Nil(t, args)
	assert.Equal(t, "30 days", Days(30*24*time.Hour))
	assert.Equal(t, "1 day", Days(24*time.Hour))
	assert.Equal(t, "1h30m0s", Days(90*time.Minute))
}

// TestCheckConsentInOrder: the first rule that refuses answers, and the
// lookups after it are not made.
func TestCheckConsentInOrder(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	pol := parley.ConsentPolicy{MaxPrompts: 1, Per: 30 * 24 * time.Hour, Cooldown: 7 * 24 * time.Hour}
	req := parley.PromptRequest{PersonID: 1, Ask: "review"}
	var calls []string
	look := ConsentLookups{
		SameAsk: func() (int64, bool, error) { calls = append(calls, "same"); return 0, false, nil },
		Prompts: func(since time.Time) (int, int, time.Time, error) {
			calls = append(calls, "prompts")
			assert.Equal(t, at.Add(-pol.Per), since)
			return 0, 0, time.Time{}, nil
		},
		LastNegative: func(since, _ time.Time) (time.Time, error) {
			calls = append(calls, "negative")
			return time.Time{}, nil
		},
	}
	reason := func(err error) string {
		var ce *parley.ConsentError
		if errors.As(err, &ce) {
			return ce.Reason
		}
		return ""
	}
	assert.Equal(t, parley.RefusedOptedOut, reason(CheckConsent(req, pol, at, Person{Handle: "ana", OptedOut: true, NoBot: true}, look)))
	assert.Equal(t, parley.RefusedNoBot, reason(CheckConsent(req, pol, at, Person{Handle: "ana", NoBot: true}, look)))
	assert.Empty(t, calls, "nothing read for a person who said no")
	require.NoError(t, CheckConsent(req, pol, at, Person{Handle: "ana"}, look))
	assert.Equal(t, []string{"same", "prompts", "negative"}, calls)

	look.SameAsk = func() (int64, bool, error) { return 9, true, nil }
	err := CheckConsent(req, pol, at, Person{Handle: "ana"}, look)
	assert.Equal(t, parley.RefusedSameAsk, reason(err))
	assert.ErrorContains(t, err, `no prompt for @ana: they were already asked "review" (draft 9)`)

	look.SameAsk = func() (int64, bool, error) { return 0, false, nil }
	sent := at.Add(-24 * time.Hour)
	look.Prompts = func(time.Time) (int, int, time.Time, error) { return 1, 0, sent, nil }
	err = CheckConsent(req, pol, at, Person{Handle: "ana"}, look)
	assert.Equal(t, parley.RefusedCap, reason(err))
	var ce *parley.ConsentError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, sent.Add(pol.Per), ce.Until, "free again when the oldest sent prompt leaves the period")

	look.Prompts = func(time.Time) (int, int, time.Time, error) { return 0, 0, time.Time{}, nil }
	neg := at.Add(-48 * time.Hour)
	look.LastNegative = func(time.Time, time.Time) (time.Time, error) { return neg, nil }
	err = CheckConsent(req, pol, at, Person{Handle: "ana"}, look)
	assert.Equal(t, parley.RefusedCooldown, reason(err))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, neg.Add(pol.Cooldown), ce.Until)

	boom := errors.New("disk on fire")
	look.SameAsk = func() (int64, bool, error) { return 0, false, boom }
	assert.ErrorIs(t, CheckConsent(req, pol, at, Person{Handle: "ana"}, look), boom)
	assert.Equal(t, parley.RefusedCap, reason(CheckConsent(req, parley.ConsentPolicy{}, at, Person{Handle: "ana"},
		ConsentLookups{SameAsk: func() (int64, bool, error) { return 0, false, nil }})), "prompts off")
}
