package rules

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// sampleTexts are the texts of the demo sample plus some that exercise the
// example rules' patterns and phrase lists at their edges.
func sampleTexts(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../connectors/replay/sample.jsonl")
	require.NoError(t, err)
	defer f.Close()
	var texts []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m struct{ Text string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		texts = append(texts, m.Text)
	}
	require.NoError(t, sc.Err())
	require.Greater(t, len(texts), 100)
	return append(texts,
		"HTTP://a.example x HTTPS://b.example y http://c.example z", // spam: three links, any case
		"see http://a.example and https://b.example",                // two links only
		"CRYPTO GIVEAWAY!!",
		"what size deck?",
		"Is the warranty transferable",
		"my order NEVER ARRIVED",
		"",
		"\u212a\u017f http", // Kelvin sign and long s
	)
}

// TestPrepareSameResults: Evaluate gives exactly the same result for a
// prepared mention as for an unprepared one, on every sample text, for
// each sentiment and a first-timer as well as a returning person.
func TestPrepareSameResults(t *testing.T) {
	s := loadExample(t)
	require.Positive(t, len(s.lists))
	require.Positive(t, len(s.patterns))
	require.True(t, s.question)
	histories := []parley.History{
		{},
		{Person: parley.Person{Mentions: 4, Positive: 3, LastSentiment: parley.Negative, Followers: 20000}, PendingDrafts: 1},
	}
	n, matched := 0, 0
	for _, text := range sampleTexts(t) {
		for _, label := range []parley.Label{parley.Negative, parley.Neutral, parley.Positive} {
			for _, h := range histories {
				plain := &parley.Mention{Platform: "mastodon", ExternalID: "1", Text: text,
					Author: parley.Person{Name: "Ana"}, Sentiment: parley.Sentiment{Label: label}}
				prep := *plain
				s.Prepare(&prep)
				require.NotNil(t, prep.Prepared, "text %q", text)
				want, got := s.Evaluate(plain, h), s.Evaluate(&prep, h)
				require.Equal(t, want, got, "text %q label %s", text, label)
				n++
				if len(want.Matches) > 0 {
					matched++
				}
			}
		}
	}
	assert.Greater(t, matched, n/4, "the sample should make the rules match often")
}

// TestPrepareFactsAreUsed: Evaluate takes the prepared answers rather than
// working them out again (a forged fact changes the result), and ignores
// them once the text changed or when another set prepared them.
func TestPrepareFactsAreUsed(t *testing.T) {
	s := loadExample(t)
	m := &parley.Mention{Platform: "mastodon", ExternalID: "1", Text: "love the new wheels",
		Sentiment: parley.Sentiment{Label: parley.Neutral}}
	s.Prepare(m)
	assert.Empty(t, s.Evaluate(m, parley.History{}).Matches)

	// Forge "is a question": question-other now matches.
	m.Prepared.(*prepared).facts[factQuestion] = true
	assert.Equal(t, []string{"question-other"}, s.Evaluate(m, parley.History{}).RuleNames())

	// A changed text is evaluated afresh.
	m.Text = "love the new wheels!"
	assert.Empty(t, s.Evaluate(m, parley.History{}).Matches)

	// Facts prepared by another set are not this set's.
	other := loadExample(t)
	m.Text = "love the new wheels"
	other.Prepare(m)
	m.Prepared.(*prepared).facts[factQuestion] = true
	assert.Empty(t, s.Evaluate(m, parley.History{}).Matches)
	assert.Equal(t, []string{"question-other"}, other.Evaluate(m, parley.History{}).RuleNames())
}

func TestPrepareNothingToPrepare(t *testing.T) {
	s, probs := Parse("f.yaml", []byte("rules:\n  - name: a\n    when: person.followers > 10\n"), brand)
	require.Empty(t, probs)
	m := &parley.Mention{Text: "hi"}
	s.Prepare(m)
	assert.Nil(t, m.Prepared)
	var nilSet *Set
	nilSet.Prepare(m)
	assert.Nil(t, m.Prepared)
}

func TestRequiredLiteral(t *testing.T) {
	for _, tc := range []struct {
		re, lit string
		fold    bool
	}{
		{`(?i)(https?://\S+.*){3,}`, "http", true},
		{`refund`, "refund", false},
		{`(?i)REFUND`, "refund", true},
		{`(?i)sick`, "", false}, // s folds to the long s
		{`(?i)order\s+#?\d+`, "order", true},
		{`a|b`, "", false},
		{`(abc)?d`, "d", false},
		{`x*yz+`, "y", false},
		{`(?i)K9`, "", false}, // K folds to the Kelvin sign
		{`(?i)ünïcode`, "", false},
		{`^$`, "", false},
	} {
		tree, err := syntax.Parse(tc.re, syntax.Perl)
		require.NoError(t, err)
		lit, fold := requiredLiteral(tree.Simplify())
		assert.Equal(t, tc.lit, lit, tc.re)
		assert.Equal(t, tc.fold, fold, tc.re)
	}
}

// FuzzPattern: a pattern with its literal prefilter answers exactly as the
// regular expression alone.
//
//	go test -run '^$' -fuzz FuzzPattern -fuzztime 30s ./rules/
func FuzzPattern(f *testing.F) {
	f.Add(`(?i)(https?://\S+.*){3,}`, "HTTP://a HTTPS://b http://c")
	f.Add(`(?i)order\s+#?\d+`, "ORDER #42")
	f.Add(`(?i)AB`, "\u212a\u017f ab aB")
	f.Add(`deck+`, "decckk deckk")
	f.Fuzz(func(t *testing.T, expr, text string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		p := newPattern(re)
		if got, want := p.match(text), re.MatchString(text); got != want {
			t.Fatalf("pattern %q (literal %q fold %v) on %q: %v, regexp says %v", expr, p.lit, p.fold, text, got, want)
		}
	})
}

// FuzzPhraseScan: the one-pass scanner Prepare uses says of each phrase
// list exactly what the list's own search says.
//
//	go test -run '^$' -fuzz FuzzPhraseScan -fuzztime 30s ./rules/
func FuzzPhraseScan(f *testing.F) {
	f.Add("sick|refund|never arrived", "wrong size, ?|:(|ab", "My deck is SICK but never arrived :(")
	f.Add("é|ß|k", "homesick|sick?", "homesick? sick?é")
	f.Add("", " |a a", "a  a")
	f.Fuzz(func(t *testing.T, list1, list2, text string) {
		l1, l2 := newPhraseList(strings.Split(list1, "|")), newPhraseList(strings.Split(list2, "|"))
		l1.fact, l2.fact = 0, 1
		facts := make([]bool, 2)
		lower := strings.ToLower(text)
		newPhraseScanner([]*phraseList{l1, l2}).scan(lower, facts)
		if facts[0] != l1.in(lower) || facts[1] != l2.in(lower) {
			t.Fatalf("scan says %v, lists say %v %v", facts, l1.in(lower), l2.in(lower))
		}
	})
}

// TestDecideIsEvaluateApplied: Decide (which skips the Why strings) leaves
// each sample mention and returns the drafts exactly as Evaluate followed
// by Apply does.
func TestDecideIsEvaluateApplied(t *testing.T) {
	s := loadExample(t)
	decide := s.Decide(nil)
	h := parley.History{Person: parley.Person{Mentions: 2, Positive: 1, LastSentiment: parley.Negative}}
	for _, text := range sampleTexts(t) {
		for _, label := range []parley.Label{parley.Negative, parley.Neutral, parley.Positive} {
			a := &parley.Mention{Platform: "mastodon", ExternalID: "1", Text: text, Tags: []string{"pre"},
				Author: parley.Person{Name: "Ana"}, Sentiment: parley.Sentiment{Label: label}}
			b := *a
			b.Tags = []string{"pre"}
			r := s.Evaluate(a, h)
			r.Apply(a)
			drafts := decide(&b, h)
			require.Equal(t, r.Drafts, drafts, "text %q", text)
			require.Equal(t, *a, b, "text %q", text)
		}
	}
}
