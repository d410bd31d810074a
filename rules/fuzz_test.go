package rules

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleybot/parley"
)

// FuzzEvaluate runs arbitrary text, sentiment and history through the
// example rule set: it must never panic, never fail at run time, and keep
// the draft invariants. Seeds are in testdata/fuzz/FuzzEvaluate.
//
//	go test -run '^$' -fuzz FuzzEvaluate -fuzztime 30s ./rules/
func FuzzEvaluate(f *testing.F) {
	f.Add("This deck is sick!", uint8(2), 120, 0, false)
	f.Add("@tidewater do you ship to Portugal?", uint8(1), 10, 3, false)
	f.Add("my deck snapped, I want a refund", uint8(0), 50000, 1, true)
	f.Add("", uint8(1), 0, 0, false)
	s := loadExample(f)
	labels := []parley.Label{parley.Negative, parley.Neutral, parley.Positive, ""}
	f.Fuzz(func(t *testing.T, text string, label uint8, followers, mentions int, nobot bool) {
		m := &parley.Mention{
			Platform: parley.PlatformMastodon, ExternalID: "1", Text: text,
			Author:    parley.Person{Handle: text, Name: text, Followers: followers, NoBot: nobot},
			Sentiment: parley.Sentiment{Label: labels[int(label)%len(labels)]},
		}
		h := parley.History{Person: parley.Person{Mentions: mentions, Positive: mentions, LastSentiment: parley.Negative}}
		r := s.Evaluate(m, h)
		prep := *m
		s.Prepare(&prep)
		if rp := s.Evaluate(&prep, h); !reflect.DeepEqual(rp, r) {
			t.Fatalf("prepared mention evaluated to\n%+v\nunprepared to\n%+v", rp, r)
		}
		if len(r.Errors) > 0 {
			t.Fatalf("run-time errors: %v", r.Errors)
		}
		if len(r.Drafts) > 1 {
			t.Fatalf("%d drafts, want at most one", len(r.Drafts))
		}
		if (r.Ignored || nobot) && len(r.Drafts) > 0 {
			t.Fatalf("draft for an ignored mention or a #nobot author: %+v", r)
		}
		for _, d := range r.Drafts {
			if strings.TrimSpace(d.Text) == "" || d.Kind != parley.KindReply || d.State != parley.DraftPending {
				t.Fatalf("bad draft %+v", d)
			}
		}
		for _, mt := range r.Matches {
			if mt.Rule == "" || mt.Why == "" {
				t.Fatalf("empty match %+v", mt)
			}
			if utf8.ValidString(text) && !utf8.ValidString(mt.Why) {
				t.Fatalf("Why is not valid UTF-8: %q", mt.Why)
			}
		}
		// The helpers must agree with themselves on any input.
		_ = IsQuestion(text)
		_ = ContainsPhrase(text, text)
	})
}

// FuzzParse loads arbitrary YAML as a rule config: it must never panic,
// and either return a set or at least one problem with a line.
func FuzzParse(f *testing.F) {
	f.Add("rules:\n  - name: a\n    when: person.followers > 10\n    reply: hi {{first .Person}}\n")
	f.Add("d: &d {tags: [x]}\nrules:\n  - <<: *d\n    name: a\n    when: 'true'\n")
	f.Add("rules:\n  - name: a\n    when: |\n      sentiment.label ==\n")
	f.Add("rules: [1, [2], {name: x}]\n")
	f.Fuzz(func(t *testing.T, src string) {
		if strings.Contains(src, "range") {
			t.Skip("a template may range over a huge number at load; that is the author's own loop")
		}
		s, probs := Parse("f.yaml", []byte(src), brand)
		if (s == nil) == (len(probs) == 0) {
			t.Fatalf("set %v with problems %v", s, probs)
		}
		for _, p := range probs {
			if p.Msg == "" || p.File != "f.yaml" {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if s != nil {
			s.Evaluate(&parley.Mention{Text: src}, parley.History{})
		}
	})
}
