package yamlpos

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type account struct {
	Server   string   `yaml:"server"`
	Keywords []string `yaml:"keywords"`
}

type level int

func (l *level) UnmarshalYAML(n *yaml.Node) error {
	if n.Value != "low" && n.Value != "high" {
		return errors.New("want low or high")
	}
	*l = map[string]level{"low": 1, "high": 2}[n.Value]
	return nil
}

type config struct {
	Name     string             `yaml:"name"`
	TimeZone string             `yaml:"timezone"`
	Every    time.Duration      `yaml:"every"`
	Count    int                `yaml:"count"`
	Accounts []account          `yaml:"accounts"`
	Tags     map[string]int     `yaml:"tags"`
	Level    level              `yaml:"level"`
	Rules    yaml.Node          `yaml:"rules"`
	Inner    *struct{ On bool } `yaml:"inner"`
}

func decode(t *testing.T, src string) (config, []Problem) {
	t.Helper()
	root, ps := Parse([]byte(src))
	require.Empty(t, ps)
	c := config{Count: 7}
	return c, Decode(root, &c, "")
}

func TestDecodeReadsValuesOverDefaults(t *testing.T) {
	src := "name: x\nevery: 90s\naccounts:\n  - server: a\n  - server: b\ntags: {a: 1}\nlevel: high\nrules:\n  - when: true\ninner: {on: true}\n"
	root, _ := Parse([]byte(src))
	c := config{Count: 7}
	require.Empty(t, Decode(root, &c, ""))
	assert.Equal(t, "x", c.Name)
	assert.Equal(t, 90*time.Second, c.Every)
	assert.Equal(t, 7, c.Count, "a default the document is silent about stays")
	assert.Equal(t, []account{{Server: "a"}, {Server: "b"}}, c.Accounts)
	assert.Equal(t, map[string]int{"a": 1}, c.Tags)
	assert.Equal(t, level(2), c.Level)
	assert.Equal(t, yaml.SequenceNode, c.Rules.Kind)
	assert.Equal(t, 9, c.Rules.Line)
	require.NotNil(t, c.Inner)
	assert.True(t, c.Inner.On)
}

func TestDecodeTakesOneMappingForAList(t *testing.T) {
	c, ps := decode(t, "accounts:\n  server: a\n  keywords: [k]\n")
	require.Empty(t, ps)
	assert.Equal(t, []account{{Server: "a", Keywords: []string{"k"}}}, c.Accounts)
}

func TestDecodeReportsEveryProblemWithPathAndLine(t *testing.T) {
	_, ps := decode(t, "name: x\ntimezon: UTC\ncount: many\naccounts:\n  - server: a\n    keywrods: [k]\nlevel: medium\ntags: [1]\ncolour: red\n")
	assert.Equal(t, []Problem{
		{Path: "timezon", Line: 2, Msg: `unknown key "timezon" (did you mean "timezone"?)`},
		{Path: "count", Line: 3, Msg: `count: want a whole number, got "many"`},
		{Path: "accounts[0].keywrods", Line: 6, Msg: `accounts[0]: unknown key "keywrods" (did you mean "keywords"?)`},
		{Path: "level", Line: 7, Msg: "level: want low or high"},
		{Path: "tags", Line: 8, Msg: "tags: want a mapping (key: value lines), got a list"},
		{Path: "colour", Line: 9, Msg: `unknown key "colour" (known keys: name, timezone, every, count, accounts, tags, level, rules, inner)`},
	}, ps)
}

func TestParseReportsTheLineThatBreaksIndentation(t *testing.T) {
	_, ps := Parse([]byte("a:\n  b: 1\n  c: 2\n d: 3\ne: 4\n"))
	require.Len(t, ps, 1)
	assert.Equal(t, 4, ps[0].Line, "the line indented one space too little, not the section above")
	assert.Contains(t, ps[0].Msg, "indentation")

	_, ps = Parse([]byte("a: [1,\n  2\nb: 3\n"))
	require.Len(t, ps, 1)
	assert.Positive(t, ps[0].Line)

	root, ps := Parse([]byte("# only a comment\n"))
	assert.Empty(t, ps)
	assert.Nil(t, root)
}

func TestLineFindsKeyPaths(t *testing.T) {
	root, _ := Parse([]byte("digest:\n  targets:\n    - {type: file}\n    - type: email\n      to: [x]\n"))
	assert.Equal(t, 1, Line(root, "digest"))
	assert.Equal(t, 4, Line(root, "digest.targets[1]"))
	assert.Equal(t, 5, Line(root, "digest.targets[1].to"))
	assert.Equal(t, 4, Line(root, "digest.targets[1].smtp"), "a missing key: its nearest ancestor")
	assert.Equal(t, 0, Line(root, "web"))
	assert.Equal(t, []string{"a", "b", "[2]", "c"}, SplitPath("a.b[2].c"))
}

func TestSuggest(t *testing.T) {
	keys := []string{"name", "timezone", "when", "reply"}
	assert.Equal(t, "timezone", Suggest("timezon", keys))
	assert.Equal(t, "when", Suggest("whne", keys))
	assert.Equal(t, "", Suggest("colour", keys))
}
