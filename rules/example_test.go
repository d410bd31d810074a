package rules

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// loadExample loads testdata/example.yaml, the rule set config.example.yaml
// ships.
func loadExample(t testing.TB) *Set {
	t.Helper()
	data, err := os.ReadFile("testdata/example.yaml")
	require.NoError(t, err)
	s, probs := Parse("testdata/example.yaml", data, brand)
	require.Empty(t, probs, "%s", problemLines(probs))
	return s
}

func TestExampleLoads(t *testing.T) {
	s := loadExample(t)
	var names []string
	for _, r := range s.Rules() {
		names = append(names, r.Name)
		assert.NotEmpty(t, r.When)
		assert.Equal(t, "testdata/example.yaml", r.File)
		assert.Positive(t, r.Line)
	}
	assert.Equal(t, []string{
		"ignore-spam", "other-language", "escalate-loud-complaint", "complaint",
		"question-shipping", "question-sizes", "question-warranty", "question-other",
		"unsure-negative", "thank-returning", "thank-first-timer",
	}, names)
}

func TestExampleBehaviour(t *testing.T) {
	s := loadExample(t)
	person := func(name string, followers int) parley.Person {
		return parley.Person{ExternalID: "42", Handle: "rider@skate.social", Name: name, Followers: followers}
	}
	tests := []struct {
		name      string
		text      string
		label     parley.Label
		conf      float64 // the verdict's confidence; 0 means 0.9
		model     string  // the verdict's model; "" means "social"
		author    parley.Person
		h         parley.History
		rules     []string
		tags      []string
		priority  int
		ignored   bool
		draftRule string
		draft     []string // fragments the draft must hold
	}{
		{
			name: "first-timer praise (sick is praise)", text: "Just landed my first kickflip on my new Tidewater deck, this thing is sick!",
			label: parley.Positive, author: person("Maya Chen", 300),
			rules: []string{"thank-first-timer"}, tags: []string{"praise"}, priority: 1,
			draftRule: "thank-first-timer", draft: []string{"Thanks so much Maya", "welcome to the Tidewater Skates crew"},
		},
		{
			name: "returning fan praise", text: "Third Tidewater deck this year and still the best pop around",
			label: parley.Positive, author: person("Jonas", 800),
			h:     parley.History{Person: parley.Person{Mentions: 6, Positive: 5, Neutral: 1, LastSentiment: parley.Positive}},
			rules: []string{"thank-returning"}, tags: []string{"praise"}, priority: 1,
			draftRule: "thank-returning", draft: []string{"Thanks again Jonas!", "6 posts", "Keep shredding!"},
		},
		{
			name: "returning praise in a thread we already answered gets no second thanks",
			text: "haha thanks, see you at the park", label: parley.Positive, author: person("Jonas", 800),
			h:     parley.History{Person: parley.Person{Mentions: 7}, ThreadMentions: 2, RepliesInThread: 1},
			rules: nil, tags: nil,
		},
		{
			name: "complaint from a first-timer", text: "My deck snapped after two sessions. Not happy.",
			label: parley.Negative, author: person("Sam Ortiz", 150),
			rules: []string{"complaint"}, tags: []string{"complaint"}, priority: 5,
			draftRule: "complaint", draft: []string{"Hi Sam, I'm really sorry to hear that.", "order number", "Someone from our team will follow up"},
		},
		{
			name: "repeat complaint", text: "Still waiting for my replacement wheels. Two weeks now.",
			label: parley.Negative, author: person("Sam Ortiz", 150),
			h:     parley.History{Person: parley.Person{Mentions: 1, Negative: 1, LastSentiment: parley.Negative}},
			rules: []string{"complaint"}, tags: []string{"complaint"}, priority: 5,
			draftRule: "complaint", draft: []string{"Sam, I'm sorry this is still not right."},
		},
		{
			// Not an apology: the model is not sure it is a complaint.
			name: "complaint words with a neutral score", text: "order never arrived",
			label: parley.Neutral, author: person("Lee", 40),
			rules: []string{"unsure-negative"}, tags: []string{"check-tone"}, priority: 4, draftRule: "unsure-negative",
			draft: []string{"Thanks for getting in touch, Lee.", "get back to you personally"},
		},
		{
			name: "an unsure negative gets an acknowledgement, not an apology", text: "hmm, the new wheels feel different",
			label: parley.Negative, conf: 0.45, author: person("Lee", 40),
			rules: []string{"unsure-negative"}, tags: []string{"check-tone"}, priority: 4, draftRule: "unsure-negative",
			draft: []string{"Thanks for getting in touch, Lee."},
		},
		{
			name: "a language the model does not read goes to a person, undrafted", text: "¿Hacen envíos a México? El pedido no llegó",
			label: parley.Neutral, conf: 0.2, model: parley.ModelUnknownLanguage, author: person("Ana", 40),
			rules: []string{"other-language"}, tags: []string{"other-language"}, priority: 4,
		},
		{
			name: "angry post from a big account is escalated", text: "Tidewater trucks are garbage, cracked baseplate in a week. Avoid.",
			label: parley.Negative, author: person("Pro Skater", 48000),
			rules: []string{"escalate-loud-complaint", "complaint"}, tags: []string{"escalate", "complaint"}, priority: 9,
			draftRule: "complaint", draft: []string{"Hi Pro,"},
		},
		{
			name: "shipping question", text: "@tidewater do you ship to Portugal? How long does delivery take?",
			label: parley.Neutral, author: person("Rita", 90),
			rules: []string{"question-shipping"}, tags: []string{"question", "shipping"}, priority: 3,
			draftRule: "question-shipping", draft: []string{"Hi Rita!", "tracking link", "Someone from the team will follow up"},
		},
		{
			name: "size question", text: "What deck width should I get? I wear size 11 shoes",
			label: parley.Neutral, author: person("Kai", 12),
			rules: []string{"question-sizes"}, tags: []string{"question", "sizes"}, priority: 3,
			draftRule: "question-sizes", draft: []string{"8.0\"-8.25\"", "someone from the team will follow up"},
		},
		{
			name: "warranty question", text: "Is there a warranty on the trucks?",
			label: parley.Neutral, author: person("", 5),
			rules: []string{"question-warranty"}, tags: []string{"question", "warranty"}, priority: 3,
			draftRule: "question-warranty", draft: []string{"Hi rider!", "1-year warranty", "Tidewater Skates"},
		},
		{
			name: "other question", text: "Are you at the Lisbon skate festival this weekend?",
			label: parley.Neutral, author: person("Bea", 70),
			rules: []string{"question-other"}, tags: []string{"question"}, priority: 2,
			draftRule: "question-other", draft: []string{"Good question, Bea!"},
		},
		{
			name: "happy question: the answer wins, praise is tagged", text: "Love my new board! Do you ship to Ireland too?",
			label: parley.Positive, author: person("Noor", 60),
			rules: []string{"question-shipping", "thank-first-timer"}, tags: []string{"question", "shipping", "praise"}, priority: 3,
			draftRule: "question-shipping",
		},
		{
			name: "spam", text: "🚀 Crypto giveaway! Free followers at https://spam.example",
			label: parley.Positive, author: person("Promo", 5),
			rules: []string{"ignore-spam"}, tags: []string{"spam"}, ignored: true,
		},
		{
			name: "link dump", text: "https://a.example https://b.example https://c.example",
			label: parley.Neutral, author: person("Bot", 5),
			rules: []string{"ignore-spam"}, tags: []string{"spam"}, ignored: true,
		},
		{
			name: "plain statement", text: "Skating the bowl tonight",
			label: parley.Neutral, author: person("Ali", 5),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, model := tt.conf, tt.model
			if conf == 0 {
				conf = 0.9
			}
			if model == "" {
				model = "social"
			}
			m := &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: "1", Author: tt.author, Text: tt.text,
				Sentiment: parley.Sentiment{Label: tt.label, Confidence: conf, Model: model}}
			r := s.Evaluate(m, tt.h)
			require.Empty(t, r.Errors)
			assert.Equal(t, tt.rules, r.RuleNames())
			assert.Equal(t, tt.tags, r.Tags)
			assert.Equal(t, tt.priority, r.Priority)
			assert.Equal(t, tt.ignored, r.Ignored)
			if tt.draftRule == "" {
				assert.Empty(t, r.Drafts)
				return
			}
			require.Len(t, r.Drafts, 1)
			d := r.Drafts[0]
			assert.Equal(t, tt.draftRule, d.Rule)
			assert.Equal(t, parley.DraftPending, d.State)
			assert.NotContains(t, d.Text, "\n", "folded replies make one flowing post")
			assert.NotContains(t, d.Text, "  ")
			for _, f := range tt.draft {
				assert.Contains(t, d.Text, f)
			}
			assert.LessOrEqual(t, len([]rune(d.Text)), 500, "fits a Mastodon post")
			t.Log(d.Text)
		})
	}
}

func TestExampleWhy(t *testing.T) {
	s := loadExample(t)
	m := &parley.Mention{Platform: parley.PlatformDiscord, Author: parley.Person{Handle: "loud", Followers: 20000},
		Text: "worst trucks ever", Sentiment: parley.Sentiment{Label: parley.Negative, Confidence: 0.8}}
	r := s.Evaluate(m, parley.History{})
	require.NotEmpty(t, r.Matches)
	assert.Equal(t, `sentiment.label == "negative" && person.followers >= 10000  [sentiment.label="negative" person.followers=20000]`, r.Matches[0].Why)
	assert.Equal(t, `sentiment.label == "negative" && sentiment.confidence >= 0.6  [sentiment.label="negative" sentiment.confidence=0.8]`, r.Matches[1].Why)
}
