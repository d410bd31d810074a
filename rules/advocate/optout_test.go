package advocate_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/rules/advocate"
)

func withWords(c *advocate.Config) {
	c.OptOut.Commands = map[string][]string{"de": {"stopp", "abmelden"}, "es": {"basta"}}
	c.OptOut.Phrases = map[string][]string{"de": {"lass mich in ruhe"}, "fr": {"laissez-moi tranquille"}}
	c.OptOut.Declines = map[string][]string{"de": {"nein danke"}}
	c.OptOut.Acknowledgements = map[string]string{"de": "Alles klar, {{first .Person}}."}
}

func TestOptOutWords(t *testing.T) {
	e := engine(t, withWords)
	type where int
	const (
		dm where = iota
		replyToUs
		topLevel     // a post to the brand, answering no one
		replyToOther // answers someone else, in a thread we are not in
	)
	for _, c := range []struct {
		text  string
		where where
		want  bool
	}{
		{"stop", dm, true},
		{"STOP!!!", replyToUs, true},
		{"@tidewater stop please", replyToUs, true},
		{"Please stop.", dm, true},
		{"unsubscribe", dm, true},
		{"no more", replyToUs, true},
		{"Leave me alone", dm, true},
		{"leave me alone @tidewater, I told you twice", topLevel, true},
		{"@tidewater please stop messaging me", topLevel, true},
		{"Don’t message me again", replyToUs, true},
		{"can you unsubscribe me from these DMs?", dm, true},
		{"stopp", dm, true},         // configured, German
		{"Basta!", replyToUs, true}, // configured, Spanish
		{"bitte lass mich in Ruhe", dm, true},
		{"Laissez-moi tranquille svp", topLevel, true},
		// Commands only count in a DM or a reply to us.
		{"stop", topLevel, false},
		{"no more", topLevel, false},
		// Phrases in a reply to someone else are not to us.
		{"@ben leave me alone lol", replyToOther, false},
		// Everyday words that hold "stop" or "no more".
		{"can't stop skating this deck", dm, false},
		{"don't stop the music", replyToUs, false},
		{"no more wheel bite since I switched to 54s", replyToUs, false},
		{"stop by the shop on friday!", replyToUs, false},
		{"bus stop session was sick", dm, false},
		{"", dm, false},
	} {
		m := parley.Mention{Text: c.text, Platform: parley.PlatformMastodon}
		toUs := false
		switch c.where {
		case dm:
			m.Direct = true
		case replyToUs:
			m.InReplyTo, toUs = "our-post", true
		case replyToOther:
			m.InReplyTo = "bens-post"
		}
		words, ok := e.OptOut(m, toUs)
		assert.Equal(t, c.want, ok, "%q (%v) -> %q", c.text, c.where, words)
		if ok {
			assert.NotEmpty(t, words)
			assert.True(t, e.MayOptOut(m), "MayOptOut must never miss an opt-out: %q", c.text)
		}
	}
}

func TestNoOptOutOrDeclineInTheDemoSample(t *testing.T) {
	// 336 real-looking posts, none of which asks to stop: taken as DMs (the
	// most permissive reading), none may opt out or decline.
	e := engine(t, withWords)
	n := 0
	for _, line := range bytes.Split(replay.Sample(), []byte("\n")) {
		m, err := replay.ParseLine(line)
		if err != nil {
			continue
		}
		n++
		m.Direct = true
		words, ok := e.OptOut(m, true)
		assert.False(t, ok, "opt-out %q in %q", words, m.Text)
		words, ok = e.Declines(m, true)
		assert.False(t, ok, "decline %q in %q", words, m.Text)
	}
	assert.Greater(t, n, 300)
}

func TestAcknowledgement(t *testing.T) {
	e := engine(t, withWords)
	p := parley.Person{Handle: "jules@skate.social", Name: "Jules Okafor"}
	assert.Equal(t, "Understood, Jules: no more invitations from Tidewater Skates. We'll still answer whenever you ask us something.",
		e.Acknowledgement(p, "en"))
	assert.Equal(t, "Alles klar, Jules.", e.Acknowledgement(p, "de"))
	assert.Contains(t, e.Acknowledgement(parley.Person{Handle: "kelpkid"}, ""), "Understood, kelpkid:")
}

func TestOutcome(t *testing.T) {
	e := engine(t, withWords)
	sent := now.Add(-3 * day)
	prompt := parley.Prompt{DraftID: 7, PersonID: 1, Template: "share-review", Ask: "review",
		Link: "https://tidewater.example/reviews/", Hashtag: "#tidewaterbeta", State: parley.DraftSent,
		SentAt: sent, WatchFor: 7 * day}
	at := func(d time.Duration, text string, label parley.Label) parley.Mention {
		return parley.Mention{PersonID: 1, Text: text, CreatedAt: sent.Add(d), Sentiment: parley.Sentiment{Label: label}}
	}
	for _, c := range []struct {
		name string
		m    parley.Mention
		toUs bool
		want string
	}{
		{"the asked-for link", at(day, "wrote it! www.tidewater.example/reviews/breakwater", parley.Neutral), false, parley.OutcomeConverted},
		{"the asked-for hashtag", at(day, "first ride on the new wheels #TidewaterBeta", parley.Neutral), false, parley.OutcomeConverted},
		{"a positive post", at(2*day, "love this deck", parley.Positive), false, parley.OutcomeConverted},
		{"a polite no in reply", at(day, "No thanks, not really my thing!", parley.Positive), true, parley.OutcomeDeclined},
		{"a German no", at(day, "nein danke", parley.Neutral), true, parley.OutcomeDeclined},
		{"a one-word no as the whole answer", at(day, "nah", parley.Neutral), true, parley.OutcomeDeclined},
		{"stop declines (and opts out)", at(day, "stop", parley.Neutral), true, parley.OutcomeDeclined},
		{"a no to someone else is not an answer", at(day, "no thanks, I'll skate alone", parley.Neutral), false, ""},
		{"a neutral post: nothing yet", at(day, "rainy day", parley.Neutral), false, ""},
		{"a negative post: nothing yet", at(day, "my bearings rusted", parley.Negative), false, ""},
		{"before the prompt was sent", at(-time.Hour, "love it", parley.Positive), false, ""},
		{"after the window", at(7*day, "love it", parley.Positive), false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, detail := e.Outcome(c.m, prompt, c.toUs)
			assert.Equal(t, c.want, got, detail)
			if got != "" {
				assert.NotEmpty(t, detail)
			}
		})
	}
	// Someone else's post, a prompt not sent, or one already decided.
	other := at(day, "love it", parley.Positive)
	other.PersonID = 2
	got, _ := e.Outcome(other, prompt, false)
	assert.Empty(t, got)
	unsent := prompt
	unsent.SentAt, unsent.State = time.Time{}, parley.DraftPending
	got, _ = e.Outcome(at(day, "love it", parley.Positive), unsent, false)
	assert.Empty(t, got)
	// With positive_converts off, only the link or hashtag converts.
	strict := engine(t, func(c *advocate.Config) { c.Outcome.PositiveConverts = false })
	got, _ = strict.Outcome(at(day, "love this deck", parley.Positive), prompt, false)
	assert.Empty(t, got)
	got, _ = strict.Outcome(at(day, "#tidewaterbeta rolling", parley.Positive), prompt, false)
	assert.Equal(t, parley.OutcomeConverted, got)
	require.Equal(t, sent.Add(7*day), prompt.WatchUntil())
}
