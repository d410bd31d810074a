package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// parseWithin parses yaml, failing the test when it takes longer than d
// (a template that loops for ever must not hang the loader).
func parseWithin(t *testing.T, d time.Duration, src string) (*Set, []Problem) {
	t.Helper()
	type result struct {
		s     *Set
		probs []Problem
	}
	done := make(chan result, 1)
	go func() {
		s, probs := Parse("parley.yaml", []byte(src), "Tidewater Skates")
		done <- result{s, probs}
	}()
	select {
	case r := <-done:
		return r.s, r.probs
	case <-time.After(d):
		t.Fatalf("loading the rules took longer than %s", d)
		return nil, nil
	}
}

// A reply template is bounded: loops over huge counts, deep nesting of
// loops, templates calling templates and huge output are config errors
// with the line, found fast at load.
func TestTemplateExecutionIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name, reply, msg string
	}{
		{"huge range", `{{range 100000000000}}{{end}}`, "at most 1000"},
		{"huge range of a variable", `{{$n := 100000000000}}{{range $n}}{{end}}`, "at most 1000"},
		{"nested loops", `{{range 1000}}{{range 1000}}{{range 1000}}{{end}}{{end}}{{end}}`, "nested"},
		{"templates calling templates", `{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}`, "{{template}}"},
		{"huge output", `{{range 1000}}{{range 1000}}0123456789abcdef{{end}}{{end}}`, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "rules:\n  - name: loop\n    when: \"true\"\n    reply: '" + tc.reply + "'\n"
			s, probs := parseWithin(t, 5*time.Second, src)
			assert.Nil(t, s)
			require.Len(t, probs, 1, problemLines(probs))
			assert.Equal(t, 4, probs[0].Line, probs[0].String())
			assert.Contains(t, probs[0].Msg, tc.msg)
		})
	}
}

// Ordinary loops still work, and a loop that turns out too long on real
// data is an error of that rule, not a hang.
func TestBoundedTemplatesStillRender(t *testing.T) {
	s, probs := Parse("parley.yaml", []byte(`rules:
  - name: tags
    when: "true"
    reply: '{{range $i, $t := .Mention.Tags}}{{if $i}}, {{end}}{{$t}}{{end}} / {{range 3}}x{{end}}'
`), "Tidewater Skates")
	require.Empty(t, probs, problemLines(probs))
	m := &parley.Mention{Platform: parley.PlatformMastodon, Text: "hi", Tags: []string{"a", "b"}}
	r := s.evaluate(m, parley.History{}, false)
	require.Len(t, r.Drafts, 1, r.Errors)
	assert.Equal(t, "a, b / xxx", r.Drafts[0].Text)

	m.Tags = strings.Split(strings.Repeat("t,", 2000), ",")
	r = s.evaluate(m, parley.History{}, false)
	assert.Empty(t, r.Drafts)
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0].Err.Error(), "at most 1000")
}
