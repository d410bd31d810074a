package rules

import (
	"strings"
	"testing"

	"github.com/parleybot/parley/internal/yamlpos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// want is one expected problem: its line and a fragment of its message.
type want struct {
	line int
	msg  string
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []want
	}{
		{
			name: "missing name",
			yaml: `rules:
  - when: "true"
    tags: [a]
`,
			want: []want{{2, `rule 1: name is required`}},
		},
		{
			name: "empty name",
			yaml: `rules:
  - name: ""
    when: "true"
`,
			want: []want{{2, `rule 1: name is required`}},
		},
		{
			name: "bad name characters",
			yaml: `rules:
  - name: thank happy people
    when: "true"
`,
			want: []want{{2, `name may hold letters, digits and _ . : - only`}},
		},
		{
			name: "duplicate name",
			yaml: `rules:
  - name: praise
    when: "true"
  - name: other
    when: "true"
  - name: praise
    when: "false"
`,
			want: []want{{6, `rule "praise": duplicate name (first defined at line 2)`}},
		},
		{
			name: "missing when",
			yaml: `rules:
  - name: no-condition
    tags: [a]
`,
			want: []want{{2, `rule "no-condition": when is required`}},
		},
		{
			name: "empty when",
			yaml: `rules:
  - name: no-condition
    when:
`,
			want: []want{{3, `rule "no-condition": when is required`}},
		},
		{
			name: "expression syntax error",
			yaml: `rules:
  - name: broken
    when: sentiment.label ==
`,
			want: []want{{3, `rule "broken": when: unexpected token EOF (column 18, at "=")`}},
		},
		{
			name: "unknown field with suggestion",
			yaml: `rules:
  - name: typo
    when: sentiment.label == "positive" && !person.frist_time
`,
			want: []want{{3, `when: person has no field frist_time (did you mean person.first_time?) (column 42, at "frist_time")`}},
		},
		{
			name: "unknown top-level name with suggestion",
			yaml: `rules:
  - name: typo
    when: sentimen.label == "positive"
`,
			want: []want{{3, `when: unknown name sentimen (did you mean sentiment?)`}},
		},
		{
			name: "leading ! read as a YAML tag",
			yaml: `rules:
  - name: bang
    when: !person.first_time
`,
			want: []want{{3, `rule "bang": when: YAML reads the leading ! as a tag; put the condition in quotes: when: '!person.first_time'`}},
		},
		{
			name: "not boolean",
			yaml: `rules:
  - name: count
    when: person.followers
`,
			want: []want{{3, `when: the condition must be true or false, but it gives int`}},
		},
		{
			name: "type mismatch",
			yaml: `rules:
  - name: mismatch
    when: sentiment.label == 1
`,
			want: []want{{3, `when: invalid operation: == (mismatched types string and int)`}},
		},
		{
			name: "error on second line of a literal block",
			yaml: `rules:
  - name: multi
    when: |
      sentiment.label == "negative"
        && person.folowers > 10
`,
			want: []want{{5, `person has no field folowers (did you mean person.followers?)`}},
		},
		{
			name: "error in a folded block",
			yaml: `rules:
  - name: folded
    when: >
      sentiment.label == "negative" &&
      person.nope
`,
			want: []want{{4, `person has no field nope (it has handle, name, followers`}},
		},
		{
			name: "template does not parse",
			yaml: `rules:
  - name: tmpl
    when: "true"
    reply: |
      Hello {{.Person.Name
`,
			want: []want{{5, `rule "tmpl": reply: unclosed action`}}, // where it starts
		},
		{
			name: "template names an unknown field in a branch samples may not reach",
			yaml: `rules:
  - name: tmpl
    when: "true"
    reply: |
      {{if .History.FirstTime}}Welcome!
      {{else}}Welcome back {{.Person.Nme}}!{{end}}
`,
			want: []want{{6, `reply: <.Person.Nme>: parley.Person has no field or method Nme`}},
		},
		{
			name: "template unknown top-level field",
			yaml: `rules:
  - name: tmpl
    when: "true"
    reply: "Hi {{.Persn.Name}}"
`,
			want: []want{{4, `reply: <.Persn>: the reply data (Person, History, Mention, Brand, Sentiment) has no field or method Persn`}},
		},
		{
			name: "template unknown field under with",
			yaml: `rules:
  - name: tmpl
    when: "true"
    reply: |
      {{with .Person}}Hi {{.Nmae}}{{end}}
`,
			want: []want{{5, `<.Nmae>: parley.Person has no field or method Nmae`}},
		},
		{
			name: "template fails on sample data",
			yaml: `rules:
  - name: tmpl
    when: "true"
    reply: |
      First tag: {{index .Mention.Tags 0}}
`,
			want: []want{{5, `rule "tmpl": reply: at <index .Mention.Tags 0>: error calling index:`}},
		},
		{
			name: "template calls an unknown function",
			yaml: `rules:
  - name: tmpl
    when: "true"
    reply: "Hi {{shout .Person.Name}}"
`,
			want: []want{{4, `function "shout" not defined`}},
		},
		{
			name: "empty reply",
			yaml: `rules:
  - name: r
    when: "true"
    reply: ""
`,
			want: []want{{4, `rule "r": reply is empty`}},
		},
		{
			name: "unknown key with suggestion",
			yaml: `rules:
  - name: typo
    when: "true"
    replly: hi
`,
			want: []want{{4, `rule "typo": unknown key "replly" (did you mean "reply"?)`}},
		},
		{
			name: "unknown key without suggestion",
			yaml: `rules:
  - name: typo
    when: "true"
    colour: blue
`,
			want: []want{{4, `unknown key "colour" (a rule has name, description, when, tags`}},
		},
		{
			name: "duplicate key",
			yaml: `rules:
  - name: twice
    when: "true"
    when: "false"
`,
			want: []want{{4, `key "when" is given twice`}},
		},
		{
			name: "wrong types",
			yaml: `rules:
  - name: types
    when: [a, b]
    tags: praise
    priority: high
    stop: maybe
    ignore: 1
    auto_approve: "yes"
    reply: {text: hi}
`,
			want: []want{
				{3, `when: want text, got a list (put text that starts with [ or { in quotes)`},
				{4, `tags: want a list such as [praise, shipping], got "praise"`},
				{5, `priority: want a whole number from 0 to 10, got "high"`},
				{8, `auto_approve: want true or false, got "yes"`},
				{7, `ignore: want true or false, got "1"`},
				{6, `stop: want true or false, got "maybe"`},
				{9, `reply: want text, got a mapping`},
			},
		},
		{
			name: "bad tags",
			yaml: `rules:
  - name: tags
    when: "true"
    tags: [ok, "two words", "", [nested], ok]
`,
			want: []want{
				{4, `tag "two words" holds a space or comma`},
				{4, `tags: empty tag`},
				{4, `tags: each tag must be a word, got a list`},
				{4, `tags: "ok" is listed twice`},
			},
		},
		{
			name: "priority out of range",
			yaml: `rules:
  - name: high
    when: "true"
    priority: 11
  - name: low
    when: "true"
    priority: -1
  - name: fractional
    when: "true"
    priority: 2.5
`,
			want: []want{
				{4, `rule "high": priority: 11 is out of range; want 0 to 10`},
				{7, `rule "low": priority: -1 is out of range; want 0 to 10`},
				{10, `rule "fractional": priority: want a whole number from 0 to 10, got "2.5"`},
			},
		},
		{
			name: "reply with ignore",
			yaml: `rules:
  - name: both
    when: "true"
    ignore: true
    reply: hello
`,
			want: []want{{5, `rule "both": reply and ignore: true together`}},
		},
		{
			name: "auto_approve without reply",
			yaml: `rules:
  - name: auto
    when: "true"
    auto_approve: true
`,
			want: []want{{4, `rule "auto": auto_approve without a reply has nothing to approve`}},
		},
		{
			name: "rules is not a list",
			yaml: `rules:
  name: one
  when: "true"
`,
			want: []want{{2, `rules: want a list of rules`}},
		},
		{
			name: "rule is not a mapping",
			yaml: `rules:
  - just text
  - name: fine
    when: "true"
`,
			want: []want{{2, `rule 1: want a mapping with name and when, got "just text"`}},
		},
		{
			name: "yaml syntax error",
			yaml: `rules:
  - name: a
    when: a: b
`,
			want: []want{{3, `YAML: mapping values are not allowed in this context`}},
		},
		{
			name: "every problem of every rule is reported",
			yaml: `rules:
  - name: one
    when: person.nope
  - when: "true"
  - name: three
    when: "true"
    priorty: 2
    reply: "{{.Nope}}"
`,
			want: []want{
				{3, `rule "one": when: person has no field nope`},
				{4, `rule 2: name is required`},
				{7, `rule "three": unknown key "priorty" (did you mean "priority"?)`},
				{8, `rule "three": reply: <.Nope>`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, probs := Parse("parley.yaml", []byte(tt.yaml), "Tidewater Skates")
			assert.Nil(t, s, "a set with problems must not be returned")
			require.Len(t, probs, len(tt.want), "problems: %v", probs)
			for _, w := range tt.want {
				found := false
				for _, p := range probs {
					if p.Line == w.line && strings.Contains(p.Msg, w.msg) {
						found = true
						assert.Equal(t, "parley.yaml", p.File)
						assert.True(t, strings.HasPrefix(p.String(), "parley.yaml:"), p.String())
					}
				}
				assert.True(t, found, "want line %d %q among\n%s", w.line, w.msg, problemLines(probs))
			}
		})
	}
}

func problemLines(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestLoadAccepts(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		rules int
	}{
		{"no rules key", "brand: x\n", 0},
		{"empty document", "", 0},
		{"null rules", "rules:\n", 0},
		{"empty list", "rules: []\n", 0},
		{"when true", "rules:\n  - name: all\n    when: true\n", 1},
		{"merge keys", `defaults: &thanks
  tags: [praise]
  priority: 1
rules:
  - <<: *thanks
    name: a
    when: sentiment.label == "positive"
  - <<: *thanks
    name: b
    when: "false"
    priority: 2
`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, probs := Parse("c.yaml", []byte(tt.yaml), "B")
			require.Empty(t, probs)
			require.NotNil(t, s)
			assert.Equal(t, tt.rules, s.Len())
		})
	}
}

func TestLoadMergeKeysApply(t *testing.T) {
	s, probs := Parse("c.yaml", []byte(`defaults: &thanks
  tags: [praise]
  priority: 1
rules:
  - <<: *thanks
    name: b
    when: "false"
    priority: 2
`), "B")
	require.Empty(t, probs)
	r := s.Rules()
	require.Len(t, r, 1)
	assert.Equal(t, []string{"praise"}, r[0].Tags)
	assert.Equal(t, 2, r[0].Priority, "a key written in the rule wins over the merged one")
}

func TestLoadFromNode(t *testing.T) {
	// cmd/parley hands Load the node of the rules: key.
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte("brand: X\nrules:\n  - name: a\n    description: says hi\n    when: 'true'\n    tags: [t]\n    priority: 3\n    reply: hi\n    auto_approve: true\n    stop: true\n"), &doc))
	node := doc.Content[0].Content[3]
	s, probs := Load("cfg.yaml", node, "X")
	require.Empty(t, probs)
	assert.Equal(t, []Rule{{
		Name: "a", Description: "says hi", When: "true", Tags: []string{"t"}, Priority: 3,
		Reply: "hi", AutoApprove: true, Stop: true, File: "cfg.yaml", Line: 3,
	}}, s.Rules())

	s, probs = Load("cfg.yaml", nil, "X")
	require.Empty(t, probs)
	assert.Equal(t, 0, s.Len())
}

func TestRulesReturnsCopies(t *testing.T) {
	s, probs := Parse("c.yaml", []byte("rules:\n  - name: a\n    when: 'true'\n    tags: [x]\n"), "B")
	require.Empty(t, probs)
	r := s.Rules()
	r[0].Tags[0] = "changed"
	assert.Equal(t, []string{"x"}, s.Rules()[0].Tags)
}

func TestProblemString(t *testing.T) {
	assert.Equal(t, "a.yaml:3: bad", Problem{"a.yaml", 3, "bad"}.String())
	assert.Equal(t, "a.yaml: bad", Problem{"a.yaml", 0, "bad"}.String())
	assert.NoError(t, AsError(nil))
	err := AsError([]Problem{{"a.yaml", 3, "bad"}, {"a.yaml", 5, "worse"}})
	require.Error(t, err)
	assert.Equal(t, "a.yaml:3: bad\na.yaml:5: worse", err.Error())
}

func TestSuggest(t *testing.T) {
	assert.Equal(t, "reply", yamlpos.Suggest("replly", ruleKeys))
	assert.Equal(t, "when", yamlpos.Suggest("whne", ruleKeys))
	assert.Equal(t, "auto_approve", yamlpos.Suggest("auto-approve", ruleKeys))
	assert.Equal(t, "", yamlpos.Suggest("colour", ruleKeys))
}
