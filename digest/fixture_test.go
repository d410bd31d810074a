package digest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// The fixture: two weeks of a small brand in Europe/Berlin, with answers
// worked out by hand (see TestNumbers). Times are Berlin wall clock.
var (
	fixtureWeek = digest.Week{Year: 2026, Num: 47} // Mon 16 – Sun 22 Nov 2026
	fixtureAsOf = time.Date(2026, 11, 23, 9, 0, 0, 0, berlin)
)

func at(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, berlin) }

// fm is one fixture mention and what the team did about it.
type fm struct {
	id       string
	author   string
	platform string
	text     string
	label    parley.Label
	score    float64
	at       time.Time
	inReply  string // the id of the mention this one answers (same thread)
	ignored  bool   // spam: the rules ignore it
	auto     bool   // a rule approves the reply itself
	agent    string // who decided the draft ("" leaves it pending)
	reject   bool
	edit     bool
	decided  time.Time
	sent     time.Time // when our reply went out
}

func fixtureMentions() []fm {
	const M, D = parley.PlatformMastodon, parley.PlatformDiscord
	return []fm{
		// The week before (W46).
		{id: "p1", author: "ana", platform: M, text: "first post, love the wheels", label: parley.Positive, score: 0.5,
			at: at(10, 10, 0), agent: "ana-agent", decided: at(10, 10, 19), sent: at(10, 10, 20)},
		{id: "p2", author: "hal", platform: M, text: "bearings late", label: parley.Negative, score: -0.4,
			at: at(11, 12, 0), agent: "ben-agent", decided: at(11, 13, 29), sent: at(11, 13, 30)},
		{id: "p3", author: "ben", platform: M, text: "hello", label: parley.Neutral,
			at: at(12, 12, 0), agent: "ana-agent", reject: true, decided: at(12, 12, 30)},
		{id: "p4", author: "ivy", platform: D, text: "cool wheels", label: parley.Positive, score: 0.6,
			at: at(14, 18, 0)},
		// The week (W47).
		{id: "m1", author: "ana", platform: M, text: "My wheels cracked after one session #fail", label: parley.Negative, score: -0.8,
			at: at(16, 10, 0), agent: "ana-agent", decided: at(16, 10, 9), sent: at(16, 10, 10)},
		{id: "m2", author: "ben", platform: M, text: "Love the new bearings from Tidewater", label: parley.Positive, score: 0.7,
			at: at(16, 11, 0), agent: "ben-agent", edit: true, decided: at(16, 11, 29), sent: at(16, 11, 30)},
		{id: "m3", author: "cy", platform: D, text: "When do bearings ship?", label: parley.Neutral,
			at: at(17, 9, 0), agent: "ana-agent", decided: at(17, 9, 59), sent: at(17, 10, 0)},
		{id: "m4", author: "ana", platform: M, text: "Still waiting on my wheels refund", label: parley.Negative, score: -0.6,
			at: at(17, 12, 0), inReply: "m1", agent: "ana-agent", decided: at(17, 13, 59), sent: at(17, 14, 0)},
		{id: "m5", author: "dee", platform: M, text: "Worst support ever, bearings broken", label: parley.Negative, score: -0.9,
			at: at(18, 8, 0)},
		{id: "m6", author: "eve", platform: M, text: "bearings squeak", label: parley.Negative, score: -0.3,
			at: at(18, 9, 0), agent: "ben-agent", reject: true, decided: at(18, 10, 0)},
		{id: "m7", author: "fay", platform: D, text: "Best bearings #skatelife", label: parley.Positive, score: 0.9,
			at: at(19, 15, 0), agent: "ben-agent", decided: at(20, 14, 59), sent: at(20, 15, 0)},
		{id: "m8", author: "ben", platform: M, text: "bearings question #skatelife", label: parley.Neutral,
			at: at(20, 20, 0), inReply: "m2", auto: true, sent: at(20, 20, 5)},
		{id: "m9", author: "spam", platform: M, text: "buy followers now", label: parley.Neutral,
			at: at(21, 10, 0), ignored: true},
		{id: "m10", author: "gus", platform: M, text: "wheels wobble", label: parley.Negative, score: -0.5,
			at: at(22, 23, 30), agent: "ana-agent", decided: at(23, 8, 29), sent: at(23, 8, 30)},
	}
}

// fixtureStore ingests the fixture into a new store and plays the team's
// decisions with the store's clock set to when they happened.
func fixtureStore(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	clk := &clock{}
	st := storetest.Open(t, storetest.Clock(clk.Now))

	fms := fixtureMentions()
	byID := map[string]fm{}
	for _, f := range fms {
		byID[f.id] = f
	}
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		f := byID[m.ExternalID]
		if f.ignored {
			m.Ignored = true
			m.Tags = []string{"spam"}
			return nil
		}
		d := parley.Draft{Kind: parley.KindReply, Rule: "r", Text: "Thanks " + h.Person.DisplayName()}
		if f.auto {
			d.AutoApprove, d.State = true, parley.DraftApproved
		}
		return []parley.Draft{d}
	}
	draftOf := map[string]int64{}
	// decideDone plays the team's decisions on the drafts of fs, in order.
	decideDone := func(fs []fm) {
		for _, f := range fs {
			id, ok := draftOf[f.id]
			if !ok {
				continue
			}
			switch {
			case f.reject:
				clk.Set(f.decided)
				_, err := st.RejectDraft(ctx, id, f.agent, "no")
				require.NoError(t, err)
			case f.agent != "":
				clk.Set(f.decided)
				text := ""
				if f.edit {
					text = "Thanks, edited by hand"
				}
				_, err := st.ApproveDraft(ctx, id, f.agent, text)
				require.NoError(t, err)
			}
			if !f.sent.IsZero() {
				claimed, err := st.ClaimDrafts(ctx, 1, f.sent)
				require.NoError(t, err)
				require.Len(t, claimed, 1, f.id)
				require.Equal(t, id, claimed[0].ID)
				require.NoError(t, st.MarkSent(ctx, id, "posted-"+f.id, f.sent))
			}
		}
	}
	// A mention is decided before the next one in its conversation comes
	// (else that one would supersede its draft), so decisions are played
	// as soon as the mentions after them arrive.
	var undecided []fm
	for _, f := range fms {
		var due, later []fm
		for _, u := range undecided {
			if !u.decided.IsZero() && u.decided.Before(f.at) {
				due = append(due, u)
			} else {
				later = append(later, u)
			}
		}
		decideDone(due)
		undecided = later
		m := &parley.Mention{
			Platform: f.platform, ExternalID: f.id, Text: f.text, CreatedAt: f.at,
			Author:    parley.Person{ExternalID: f.author, Handle: f.author + "@example.social", Name: strings.ToUpper(f.author[:1]) + f.author[1:], Followers: 10 * len(f.author)},
			Sentiment: parley.Sentiment{Label: f.label, Score: f.score},
			URL:       "https://example.social/@" + f.author + "/" + f.id,
			InReplyTo: f.inReply,
		}
		clk.Set(f.at.Add(3 * time.Second))
		res, err := st.IngestBatch(ctx, []*parley.Mention{m}, decide)
		require.NoError(t, err)
		require.Equal(t, 1, res.Stored)
		if len(res.DraftIDs) > 0 {
			draftOf[f.id] = res.DraftIDs[0]
		}
		undecided = append(undecided, f)
	}
	decideDone(undecided)
	clk.Set(fixtureAsOf)
	return st
}

func fixtureDigest(t testing.TB) *digest.Digest {
	t.Helper()
	d, err := digest.Build(context.Background(), fixtureStore(t), fixtureWeek, digest.Options{
		Brand: "Tidewater Skates", Location: berlin, ResponseTarget: time.Hour, AsOf: fixtureAsOf,
	})
	require.NoError(t, err)
	return d
}
