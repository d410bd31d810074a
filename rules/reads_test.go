package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReads(t *testing.T) {
	for _, tc := range []struct {
		name, when, reply string
		pending, replies  bool
	}{
		{"none", `sentiment.label == "positive" && person.mentions > 2 && thread.mentions > 1`, "Thanks {{first .Person}}! {{if .History.FirstTime}}Welcome{{end}} {{plural .Person.Mentions \"post\" \"posts\"}}", false, false},
		{"thread replies", `thread.replies == 0`, "", false, true},
		{"optional chaining", `thread?.replies == 0`, "", false, true},
		{"pending drafts", `person.pending_drafts < 2`, "", true, false},
		{"bracket field", `person["pending_drafts"] < 2`, "", true, false},
		{"whole thread", `thread != nil`, "", true, true},
		{"env", `$env.thread.replies == 0`, "", true, true},
		{"let", `let t = thread; t.replies == 0`, "", true, true},
		{"other person fields", `person.replies_sent > 0 && person.followers > 10`, "", false, false},
		{"template field", `true`, "{{.History.RepliesInThread}} replies", false, true},
		{"template pending", `true`, "{{if gt .History.PendingDrafts 1}}again{{end}} hi", true, false},
		{"template with", `true`, "{{with .History}}{{.FirstTime}}{{end}} hi", true, true},
		{"template dot", `true`, "{{printf \"%v\" .}} hi", true, true},
		{"template variable", `true`, "{{$h := .History}}{{$h.FirstTime}} hi", true, true},
		{"template root variable", `true`, "{{$.History.PendingDrafts}} hi", true, false},
		{"template range tags", `true`, "{{range .Mention.Tags}}{{.}}{{end}} hi", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "rules:\n  - name: r\n    when: '" + tc.when + "'\n"
			if tc.reply != "" {
				src += "    reply: '" + tc.reply + "'\n"
			}
			s, probs := Parse("f.yaml", []byte(src), brand)
			require.Empty(t, probs)
			pending, replies := s.Reads()
			assert.Equal(t, tc.pending, pending, "pending drafts")
			assert.Equal(t, tc.replies, replies, "replies in thread")
			o := s.DecideOptions()
			assert.Equal(t, !pending, o.IgnoresPendingDrafts)
			assert.Equal(t, !replies, o.IgnoresRepliesInThread)
		})
	}
	// The example: the thank-you rules read thread.replies; nothing reads
	// the pending drafts.
	pending, replies := loadExample(t).Reads()
	assert.False(t, pending)
	assert.True(t, replies)
}
