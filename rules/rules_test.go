package rules

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

const brand = "Tidewater Skates"

func mustParse(t testing.TB, src string) *Set {
	t.Helper()
	s, probs := Parse("test.yaml", []byte(src), brand)
	require.Empty(t, probs, "%s", problemLines(probs))
	require.NotNil(t, s)
	return s
}

// mention builds a stored-looking mention by ana with the given text and
// sentiment label.
func mention(text string, label parley.Label) *parley.Mention {
	return &parley.Mention{
		ID: 7, Platform: parley.PlatformMastodon, ExternalID: "109",
		Author:     parley.Person{ExternalID: "42", Handle: "ana@example.social", Name: "Ana Lima", Followers: 120},
		Text:       text,
		CreatedAt:  time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC),
		ReceivedAt: time.Date(2026, 11, 2, 10, 0, 1, 0, time.UTC),
		PersonID:   3, ThreadID: 5,
		Sentiment: parley.Sentiment{Label: label, Score: map[parley.Label]float64{parley.Positive: 0.7, parley.Negative: -0.6}[label], Confidence: 0.9},
	}
}

func firstTimer() parley.History {
	return parley.History{Person: parley.Person{ID: 3, Platform: parley.PlatformMastodon, ExternalID: "42", Handle: "ana@example.social"}}
}

func returning(n int) parley.History {
	h := firstTimer()
	h.Person.Mentions, h.Person.Positive, h.Person.LastSentiment = n, n, parley.Positive
	return h
}

// sixRules is the rule set most evaluation tests (and the benchmark) use.
const sixRules = `rules:
  - name: spam
    when: contains_any(text, ["free followers", "crypto giveaway"])
    tags: [spam]
    ignore: true
    stop: true
  - name: escalate
    when: sentiment.label == "negative" && person.followers >= 10000
    tags: [escalate]
    priority: 9
  - name: complaint
    when: sentiment.label == "negative"
    tags: [complaint]
    priority: 5
    reply: Sorry {{first .Person}}, please DM us your order number and a person will follow up.
  - name: question
    when: is_question(text) && !("complaint" in tags)
    tags: [question]
    priority: 3
    reply: Good question {{first .Person}}! Someone from {{.Brand}} will follow up.
  - name: thank-returning
    when: sentiment.label == "positive" && person.returning
    tags: [praise]
    priority: 1
    reply: Thanks again {{first .Person}}, {{plural .Person.Mentions "post" "posts"}} and counting!
  - name: thank-first-timer
    when: sentiment.label == "positive" && person.first_time
    tags: [praise]
    priority: 1
    reply: Thanks {{first .Person}}, welcome to the {{.Brand}} crew!
`

func TestEvaluate(t *testing.T) {
	s := mustParse(t, sixRules)
	tests := []struct {
		name      string
		m         *parley.Mention
		h         parley.History
		rules     []string
		tags      []string
		priority  int
		ignored   bool
		draftRule string // "" for no draft
		draftText string
		noDraft   string
	}{
		{
			name: "praise from a first-timer", m: mention("This deck is sick!", parley.Positive), h: firstTimer(),
			rules: []string{"thank-first-timer"}, tags: []string{"praise"}, priority: 1,
			draftRule: "thank-first-timer", draftText: "Thanks Ana, welcome to the Tidewater Skates crew!",
		},
		{
			name: "praise from a returning person", m: mention("Still loving these wheels", parley.Positive), h: returning(3),
			rules: []string{"thank-returning"}, tags: []string{"praise"}, priority: 1,
			draftRule: "thank-returning", draftText: "Thanks again Ana, 3 posts and counting!",
		},
		{
			name: "complaint", m: mention("My trucks broke after two days.", parley.Negative), h: firstTimer(),
			rules: []string{"complaint"}, tags: []string{"complaint"}, priority: 5,
			draftRule: "complaint", draftText: "Sorry Ana, please DM us your order number and a person will follow up.",
		},
		{
			name: "question", m: mention("Do you ship to Portugal", parley.Neutral), h: firstTimer(),
			rules: []string{"question"}, tags: []string{"question"}, priority: 3,
			draftRule: "question", draftText: "Good question Ana! Someone from Tidewater Skates will follow up.",
		},
		{
			name: "angry question from a big account: escalated, the complaint reply wins",
			m: func() *parley.Mention {
				m := mention("Why did my deck snap on day one?", parley.Negative)
				m.Author.Followers = 25000
				return m
			}(),
			h:     firstTimer(),
			rules: []string{"escalate", "complaint"}, tags: []string{"escalate", "complaint"}, priority: 9,
			draftRule: "complaint", draftText: "Sorry Ana, please DM us your order number and a person will follow up.",
		},
		{
			name: "angry post from a small account is not escalated",
			m:    mention("Worst wheels ever", parley.Negative), h: firstTimer(),
			rules: []string{"complaint"}, tags: []string{"complaint"}, priority: 5,
			draftRule: "complaint", draftText: "Sorry Ana, please DM us your order number and a person will follow up.",
		},
		{
			name: "happy question: the question reply wins, praise still tagged",
			m:    mention("Love it! What size bearings fit?", parley.Positive), h: returning(1),
			rules: []string{"question", "thank-returning"}, tags: []string{"question", "praise"}, priority: 3,
			draftRule: "question", draftText: "Good question Ana! Someone from Tidewater Skates will follow up.",
		},
		{
			name: "spam is ignored and stops evaluation",
			m:    mention("FREE FOLLOWERS!!! Is this sick or what?", parley.Positive), h: firstTimer(),
			rules: []string{"spam"}, tags: []string{"spam"}, ignored: true,
		},
		{
			name: "nobot author: tagged, no draft",
			m: func() *parley.Mention {
				m := mention("Great deck", parley.Positive)
				m.Author.NoBot = true
				return m
			}(),
			h:     firstTimer(),
			rules: []string{"thank-first-timer"}, tags: []string{"praise"}, priority: 1,
			noDraft: "the author asks bots to leave them alone (#nobot)",
		},
		{
			name: "nobot known from the store",
			m:    mention("Great deck", parley.Positive),
			h: func() parley.History {
				h := returning(2)
				h.Person.NoBot = true
				return h
			}(),
			rules: []string{"thank-returning"}, tags: []string{"praise"}, priority: 1,
			noDraft: "the author asks bots to leave them alone (#nobot)",
		},
		{
			name: "opted-out person still gets a reply to their question",
			m:    mention("How long is the warranty?", parley.Neutral),
			h: func() parley.History {
				h := returning(2)
				h.Person.OptedOut = true
				return h
			}(),
			rules: []string{"question"}, tags: []string{"question"}, priority: 3,
			draftRule: "question", draftText: "Good question Ana! Someone from Tidewater Skates will follow up.",
		},
		{
			name: "neutral statement matches nothing",
			m:    mention("Skating to the park later", parley.Neutral), h: firstTimer(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.m
			r := s.Evaluate(tt.m, tt.h)
			assert.Equal(t, before, *tt.m, "Evaluate must not change the mention")
			assert.Empty(t, r.Errors)
			assert.Equal(t, tt.rules, r.RuleNames())
			assert.Equal(t, tt.tags, r.Tags)
			assert.Equal(t, tt.priority, r.Priority)
			assert.Equal(t, tt.ignored, r.Ignored)
			assert.Equal(t, tt.noDraft, r.NoDraft)
			if tt.draftRule == "" {
				assert.Empty(t, r.Drafts)
				return
			}
			require.Len(t, r.Drafts, 1)
			d := r.Drafts[0]
			assert.Equal(t, parley.Draft{
				Kind: parley.KindReply, State: parley.DraftPending, Platform: parley.PlatformMastodon,
				MentionID: 7, PersonID: 3, ThreadID: 5, Rule: tt.draftRule, Text: tt.draftText,
				Priority: tt.priority, CreatedAt: tt.m.ReceivedAt, UpdatedAt: tt.m.ReceivedAt,
			}, d)
		})
	}
}

func TestEvaluateStop(t *testing.T) {
	s := mustParse(t, `rules:
  - name: vip
    when: person.followers >= 1000
    tags: [vip]
    priority: 4
    reply: Hi {{first .Person}}, thanks for the shout-out!
    stop: true
  - name: praise
    when: sentiment.label == "positive"
    tags: [praise]
    priority: 1
`)
	m := mention("Nice", parley.Positive)
	m.Author.Followers = 5000
	r := s.Evaluate(m, firstTimer())
	assert.Equal(t, []string{"vip"}, r.RuleNames(), "stop ends evaluation")
	assert.Equal(t, []string{"vip"}, r.Tags)
	assert.Equal(t, 4, r.Priority)
	require.Len(t, r.Drafts, 1)
	assert.Equal(t, "Hi Ana, thanks for the shout-out!", r.Drafts[0].Text)

	m.Author.Followers = 10
	r = s.Evaluate(m, firstTimer())
	assert.Equal(t, []string{"praise"}, r.RuleNames(), "a stop rule that does not match stops nothing")
}

func TestEvaluateAutoApprove(t *testing.T) {
	s := mustParse(t, `rules:
  - name: advocate-thanks
    when: person.advocate && sentiment.label == "positive"
    reply: "Thank you {{first .Person}} 🛹"
    auto_approve: true
    priority: 2
  - name: thanks
    when: sentiment.label == "positive"
    reply: "Thanks {{first .Person}}"
`)
	h := returning(9)
	h.Person.AdvocateState = "advocate"
	m := mention("Best skate shop ever", parley.Positive)
	r := s.Evaluate(m, h)
	require.Len(t, r.Drafts, 1)
	d := r.Drafts[0]
	assert.Equal(t, "advocate-thanks", d.Rule)
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.True(t, d.AutoApprove)
	assert.Equal(t, "rule:advocate-thanks", d.DecidedBy)
	assert.Equal(t, m.ReceivedAt, d.DecidedAt)
	assert.Equal(t, "Thank you Ana 🛹", d.Text)
	assert.Equal(t, 2, d.Priority)

	r = s.Evaluate(m, returning(9))
	require.Len(t, r.Drafts, 1)
	assert.Equal(t, "thanks", r.Drafts[0].Rule)
	assert.Equal(t, parley.DraftPending, r.Drafts[0].State, "other rules' drafts still wait for approval")
	assert.False(t, r.Drafts[0].AutoApprove)
}

func TestEvaluateIgnoreLaterRuleDropsDraft(t *testing.T) {
	s := mustParse(t, `rules:
  - name: thanks
    when: sentiment.label == "positive"
    reply: Thanks!
  - name: competitor
    when: contains_any(text, ["rivalboards"])
    tags: [competitor]
    ignore: true
`)
	r := s.Evaluate(mention("rivalboards are great", parley.Positive), firstTimer())
	assert.Equal(t, []string{"thanks", "competitor"}, r.RuleNames())
	assert.True(t, r.Ignored)
	assert.Empty(t, r.Drafts)
	assert.Equal(t, `ignored by rule "competitor"`, r.NoDraft)
}

func TestEvaluateEmptyReplyFallsThrough(t *testing.T) {
	s := mustParse(t, `rules:
  - name: named-only
    when: "true"
    reply: "{{if .Person.Name}}Hi {{.Person.Name}}!{{end}}"
  - name: anyone
    when: "true"
    reply: "Hi there!"
`)
	r := s.Evaluate(mention("hello", parley.Neutral), firstTimer())
	require.Len(t, r.Drafts, 1)
	assert.Equal(t, "named-only", r.Drafts[0].Rule)
	assert.Equal(t, "Hi Ana Lima!", r.Drafts[0].Text)

	m := mention("hello", parley.Neutral)
	m.Author.Name = ""
	r = s.Evaluate(m, firstTimer())
	require.Len(t, r.Drafts, 1)
	assert.Equal(t, "anyone", r.Drafts[0].Rule, "a blank reply lets the next matching rule draft")

	s = mustParse(t, `rules:
  - name: blank
    when: "true"
    reply: "{{if .Person.Name}}Hi{{end}}   "
`)
	r = s.Evaluate(m, firstTimer())
	assert.Empty(t, r.Drafts)
	assert.Equal(t, "the reply templates of the matching rules rendered no text", r.NoDraft)
}

func TestEvaluateRuntimeError(t *testing.T) {
	s := mustParse(t, `rules:
  - name: first-tag
    when: tags[0] == "x"
    tags: [a]
  - name: always
    when: "true"
    tags: [b]
`)
	r := s.Evaluate(mention("hi", parley.Neutral), firstTimer())
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "first-tag", r.Errors[0].Rule)
	assert.Contains(t, r.Errors[0].Error(), `rule "first-tag": `)
	assert.Equal(t, []string{"always"}, r.RuleNames(), "a failing rule does not match; the next one runs")
}

func TestEvaluateTagsSeenByLaterRules(t *testing.T) {
	s := mustParse(t, `rules:
  - name: a
    when: "true"
    tags: [x, y]
  - name: b
    when: '"x" in tags && len(tags) == 3'
    tags: [x, z]
`)
	m := mention("hi", parley.Neutral)
	m.Tags = []string{"pre"}
	r := s.Evaluate(m, firstTimer())
	assert.Equal(t, []string{"a", "b"}, r.RuleNames())
	assert.Equal(t, []string{"x", "y", "z"}, r.Tags, "added tags, each once")
	assert.Equal(t, []string{"pre"}, m.Tags)

	// The pooled state must not leak tags into the next evaluation.
	r = s.Evaluate(mention("hi", parley.Neutral), firstTimer())
	assert.Equal(t, []string{"a"}, r.RuleNames())
}

func TestEnvironment(t *testing.T) {
	// Each variable, checked by a rule that matches only when it holds
	// the expected value.
	m := mention("Is THIS the one? https://x.example/?a=1", parley.Positive)
	m.Lang, m.Channel, m.URL, m.Direct, m.InReplyTo = "en", "general", "https://example.social/@ana/109", true, "108"
	m.Sentiment.Overrides = []string{"sick"}
	m.Tags = []string{"pre"}
	h := parley.History{
		Person: parley.Person{ID: 3, Handle: "old-handle", Mentions: 4, Positive: 2, Negative: 1, Neutral: 1,
			LastSentiment: parley.Negative, RepliesSent: 2, OptedOut: true, AdvocateState: "advocate", AdvocateScore: 0.75, Followers: 99},
		ThreadMentions: 2, RepliesInThread: 1, PendingDrafts: 1,
	}
	conds := []string{
		`text == "Is THIS the one? https://x.example/?a=1"`,
		`text_lower == "is this the one? https://x.example/?a=1"`,
		`lang == "en"`, `platform == "mastodon"`, `channel == "general"`,
		`url == "https://example.social/@ana/109"`, `direct`, `is_reply`, `length == 39`,
		`sentiment.label == "positive"`, `sentiment.score == 0.7`, `sentiment.confidence == 0.9`,
		`sentiment.overrides == ["sick"]`,
		`person.handle == "ana@example.social"`, `person.name == "Ana Lima"`, `person.followers == 120`,
		`person.mentions == 4`, `!person.first_time`, `person.returning`, `person.positive == 2`,
		`person.negative == 1`, `person.neutral == 1`, `person.last_sentiment == "negative"`,
		`person.replies_sent == 2`, `person.pending_drafts == 1`, `person.opted_out`, `person.advocate`,
		`person.advocate_state == "advocate"`, `person.advocate_score == 0.75`, `!person.nobot`,
		`thread.mentions == 2`, `thread.replies == 1`, `tags == ["pre"]`,
		`is_question(text)`, `contains_any(text, ["the one"])`, `!contains_any(text, ["the on"])`,
	}
	var b strings.Builder
	b.WriteString("rules:\n")
	for i, c := range conds {
		fmt.Fprintf(&b, "  - name: r%d\n    when: %q\n", i, c)
	}
	s := mustParse(t, b.String())
	r := s.Evaluate(m, h)
	require.Empty(t, r.Errors)
	matched := map[string]bool{}
	for _, mt := range r.Matches {
		matched[mt.Rule] = true
	}
	for i, c := range conds {
		assert.True(t, matched[fmt.Sprintf("r%d", i)], "condition %s", c)
	}
}

func TestWhy(t *testing.T) {
	tests := []struct {
		when string
		m    *parley.Mention
		h    parley.History
		want string
	}{
		{
			when: `sentiment.label == "positive" && !person.first_time`,
			m:    mention("yay", parley.Positive), h: returning(2),
			want: `sentiment.label == "positive" && !person.first_time  [sentiment.label="positive" person.first_time=false]`,
		},
		{
			when: "true",
			m:    mention("yay", parley.Positive), h: firstTimer(),
			want: "true",
		},
		{
			when: "sentiment.score < -0.5\n  and person.followers >= 10000",
			m: func() *parley.Mention {
				m := mention("awful", parley.Negative)
				m.Sentiment.Score = -0.8125
				m.Author.Followers = 12000
				return m
			}(),
			h:    firstTimer(),
			want: `sentiment.score < -0.5 and person.followers >= 10000  [sentiment.score=-0.812 person.followers=12000]`,
		},
		{
			when: `contains_any(text_lower, ["refund"]) && len(tags) == 0 && any(sentiment.overrides, {# == "sick"}) == false`,
			m:    mention(strings.Repeat("I want a refund now please. ", 5), parley.Negative), h: firstTimer(),
			want: `contains_any(text_lower, ["refund"]) && len(tags) == 0 && any(sentiment.overrides, {# == "sick"}) == false  [text_lower="i want a refund now please. i want a refund now please. i w…" tags=[] sentiment.overrides=[]]`,
		},
		{
			when: `let f = person.followers; f > 10 && person.name != ""`,
			m:    mention("x", parley.Neutral), h: firstTimer(),
			want: `let f = person.followers; f > 10 && person.name != ""  [person.followers=120 person.name="Ana Lima"]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			s := mustParse(t, fmt.Sprintf("rules:\n  - name: r\n    when: %q\n", tt.when))
			r := s.Evaluate(tt.m, tt.h)
			require.Empty(t, r.Errors)
			require.Len(t, r.Matches, 1)
			assert.Equal(t, Match{Rule: "r", Why: tt.want}, r.Matches[0])
		})
	}
}

func TestTemplates(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		m     *parley.Mention
		h     parley.History
		want  string
	}{
		{
			name:  "first-timer vs returning",
			reply: `{{if .History.FirstTime}}Welcome {{first .Person}}!{{else}}Welcome back {{first .Person}}, your {{ordinal (len (printf "%*s" .Person.Mentions ""))}} visit.{{end}}`,
			m:     mention("hi", parley.Positive), h: firstTimer(), want: "Welcome Ana!",
		},
		{
			name:  "returning with history",
			reply: `Welcome back {{first .Person}}! Last time you were {{.Person.LastSentiment}}, {{plural .Person.Positive "happy post" "happy posts"}} so far.`,
			m:     mention("hi", parley.Positive), h: returning(3), want: "Welcome back Ana! Last time you were positive, 3 happy posts so far.",
		},
		{
			name:  "handle only",
			reply: `Hey {{first .Person}} ({{.Person.DisplayName}})`,
			m: func() *parley.Mention {
				m := mention("hi", parley.Positive)
				m.Author.Name = ""
				m.Author.Handle = "@kickflip_kid@skate.social"
				return m
			}(),
			h: firstTimer(), want: "Hey kickflip_kid (@kickflip_kid@skate.social)",
		},
		{
			name:  "default",
			reply: `Hi {{.Person.Name | default "there"}}, {{.Brand}} here.`,
			m: func() *parley.Mention {
				m := mention("hi", parley.Positive)
				m.Author.Name = ""
				return m
			}(),
			h: parley.History{}, want: "Hi there, Tidewater Skates here.",
		},
		{
			name:  "mention, sentiment and the result's tags",
			reply: `{{.Sentiment.Label}} {{.Mention.Text | upper}} [{{.Mention.Tags | join ","}}] p{{.Mention.Priority}} thread={{.History.ThreadMentions}}`,
			m:     mention("ok", parley.Neutral),
			h:     parley.History{ThreadMentions: 4},
			want:  "neutral OK [pre,extra] p2 thread=4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf("rules:\n  - name: r\n    when: 'true'\n    tags: [extra]\n    priority: 2\n    reply: %q\n", tt.reply)
			s := mustParse(t, src)
			if strings.Contains(tt.name, "tags") {
				tt.m.Tags = []string{"pre"}
			}
			r := s.Evaluate(tt.m, tt.h)
			require.Empty(t, r.Errors)
			require.Len(t, r.Drafts, 1)
			assert.Equal(t, tt.want, r.Drafts[0].Text)
		})
	}
}

func TestDecide(t *testing.T) {
	s := mustParse(t, sixRules)
	var logs strings.Builder
	decide := s.Decide(slog.New(slog.NewTextHandler(&logs, nil)))
	m := mention("Why is my order late?", parley.Negative)
	m.Author.Followers = 50000
	m.Tags = []string{"pre"}
	drafts := decide(m, firstTimer())
	require.Len(t, drafts, 1)
	assert.Equal(t, "complaint", drafts[0].Rule)
	assert.Equal(t, []string{"pre", "escalate", "complaint"}, m.Tags)
	assert.Equal(t, 9, m.Priority)
	assert.Equal(t, []string{"escalate", "complaint"}, m.Rules)
	assert.False(t, m.Ignored)

	m = mention("crypto giveaway here", parley.Neutral)
	assert.Empty(t, decide(m, firstTimer()))
	assert.True(t, m.Ignored)
	assert.Equal(t, []string{"spam"}, m.Rules)

	bad := mustParse(t, "rules:\n  - name: boom\n    when: tags[3] == 'x'\n")
	bad.Decide(slog.New(slog.NewTextHandler(&logs, nil)))(mention("x", parley.Neutral), firstTimer())
	assert.Contains(t, logs.String(), "rule=boom")
	assert.Contains(t, logs.String(), "external_id=109")
}

func TestEmptySet(t *testing.T) {
	var nilSet *Set
	assert.Equal(t, Result{}, nilSet.Evaluate(mention("hi", parley.Neutral), firstTimer()))
	assert.Nil(t, nilSet.Rules())
	assert.Equal(t, Result{}, (&Set{}).Evaluate(mention("hi", parley.Neutral), firstTimer()))
}

func TestEvaluateConcurrent(t *testing.T) {
	s := mustParse(t, sixRules)
	inputs := []struct {
		m *parley.Mention
		h parley.History
	}{
		{mention("Great deck!", parley.Positive), firstTimer()},
		{mention("Great deck!", parley.Positive), returning(4)},
		{mention("Where is my order??", parley.Negative), firstTimer()},
		{mention("free followers", parley.Neutral), firstTimer()},
		{mention("Do you ship to Chile?", parley.Neutral), returning(1)},
	}
	want := make([]Result, len(inputs))
	for i, in := range inputs {
		want[i] = s.Evaluate(in.m, in.h)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := range 200 {
				i := (g + n) % len(inputs)
				got := s.Evaluate(inputs[i].m, inputs[i].h)
				if !assert.Equal(t, want[i], got) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestConversationVariables: rules and templates see the conversation as
// it stood before the mention, and the message the reply answers.
func TestConversationVariables(t *testing.T) {
	m := mention("still broken?", parley.Negative)
	waiting := m.CreatedAt.Add(-90 * time.Minute)
	h := parley.History{
		Conversation: parley.Conversation{ID: 7, State: parley.NeedsReply, Messages: 2, WaitingSince: waiting,
			FirstResponseAt: waiting.Add(-time.Hour)},
		LastReply: "Sorry Ana, DM us",
	}
	conds := []string{
		`!conversation.new`, `conversation.state == "needs_reply"`, `conversation.messages == 2`,
		`conversation.waited_minutes == 90`, `conversation.answered`, `conversation.last_reply == "Sorry Ana, DM us"`,
	}
	var b strings.Builder
	b.WriteString("rules:\n")
	for i, c := range conds {
		fmt.Fprintf(&b, "  - name: r%d\n    when: %q\n", i, c)
	}
	b.WriteString("  - name: follow-up\n    when: conversation.answered\n" +
		"    reply: 'Still on it. You wrote \"{{.Mention.Text}}\"; we said \"{{.History.LastReply}}\" ({{.History.Conversation.Messages}} before).'\n")
	s := mustParse(t, b.String())
	r := s.Evaluate(m, h)
	require.Empty(t, r.Errors)
	matched := map[string]bool{}
	for _, mt := range r.Matches {
		matched[mt.Rule] = true
	}
	for i, c := range conds {
		assert.True(t, matched[fmt.Sprintf("r%d", i)], "condition %s", c)
	}
	drafts := s.Decide(nil)(m, h)
	require.Len(t, drafts, 1)
	assert.Equal(t, `Still on it. You wrote "still broken?"; we said "Sorry Ana, DM us" (2 before).`, drafts[0].Text)

	fresh := s.Evaluate(m, parley.History{})
	for _, mt := range fresh.Matches {
		assert.NotEqual(t, "r0", mt.Rule, "a new conversation")
	}
}
