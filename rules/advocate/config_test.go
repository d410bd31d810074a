package advocate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules/advocate"
)

type doc struct {
	Advocates advocate.Config `yaml:"advocates"`
}

func parse(t *testing.T, src string) (advocate.Config, error) {
	t.Helper()
	var d doc
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	err := dec.Decode(&d)
	return d.Advocates, err
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30d": 30 * day, "6w": 42 * day, "12h": 12 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute,
		"0": 0, "1.5d": 36 * time.Hour,
	} {
		got, err := advocate.ParseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "3 weeks", "-1d", "d", "30x"} {
		_, err := advocate.ParseDuration(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "6w", advocate.Duration(42*day).String())
	assert.Equal(t, "30d", advocate.Duration(30*day).String())
	assert.Equal(t, "1h30m0s", advocate.Duration(90*time.Minute).String())
}

func TestConfigDefaultsAndOverrides(t *testing.T) {
	// No section at all: the defaults.
	var none doc
	require.NoError(t, yaml.Unmarshal([]byte("brand: x\n"), &none))
	e, err := advocate.New(none.Advocates, "B", "")
	require.NoError(t, err)
	assert.Equal(t, advocate.Defaults().Score, e.Config().Score)
	pol := e.Policy()
	assert.Equal(t, parley.ConsentPolicy{MaxPrompts: 1, Per: 30 * day, Cooldown: 14 * day, QuietStart: 21 * time.Hour,
		QuietEnd: 9 * time.Hour, WatchFor: 7 * day}, pol)

	// A section sets only what it names.
	cfg, err := parse(t, `
advocates:
  score: {half_life: 10d}
  consent: {max_prompts: 2, quiet_hours: "off"}
  states: {confirm: manager}
`)
	require.NoError(t, err)
	e, err = advocate.New(cfg, "B", "Europe/Berlin")
	require.NoError(t, err)
	c := e.Config()
	assert.Equal(t, advocate.Duration(10*day), c.Score.HalfLife)
	assert.Equal(t, advocate.Duration(90*day), c.Score.Window, "a default kept")
	assert.Equal(t, 0.5, c.Score.Reach)
	assert.Equal(t, advocate.ConfirmManager, c.States.Confirm)
	pol = e.Policy()
	assert.Equal(t, 2, pol.MaxPrompts)
	assert.Equal(t, pol.QuietStart, pol.QuietEnd, "no quiet hours")
	assert.Equal(t, "Europe/Berlin", pol.TimeZone)
	// A weight of 0 is kept (it turns the term off), not taken for unset.
	cfg, err = parse(t, "advocates:\n  score: {reach: 0}\n")
	require.NoError(t, err)
	e, err = advocate.New(cfg, "B", "")
	require.NoError(t, err)
	assert.Zero(t, e.Config().Score.Reach)
}

func TestConfigProblemsHaveLines(t *testing.T) {
	// Unknown keys are reported with their lines and the nearest known
	// key (yamlpos, the one YAML position helper).
	_, err := parse(t, `
advocates:
  score:
    half_lfe: 10d
  templates:
    - name: a
      txt: hi
`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `line 4: score: unknown key "half_lfe" (did you mean "half_life"?)`)
	assert.Contains(t, err.Error(), `line 7: template: unknown key "txt"`)

	cfg, err := parse(t, `
advocates:
  score:
    window: 30d
    reach: -1
  states: {confirm: maybe, candidate: 7, advocate: 5}
  consent: {quiet_hours: "21-9"}
  opt_out: {acknowledgement: "Bye {{.Persn}}"}
  templates:
    - name: review
      text: "Hi {{first .Person}}, {{.Link}}"
      link: not a link
    - name: review
      text: again
    - name: survey
      text: "{{if}}"
  prompts:
    - name: p1
      when: person.score > 1
      template: nope
    - name: p2
      when: person.scor > 1
      template: survey
    - name: p3
      when: person.followers
      template: review
      priority: 11
`)
	require.NoError(t, err)
	problems := cfg.Check("parley.yaml")
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		"parley.yaml:5: advocates: score.reach is a weight",
		"parley.yaml:6: advocates: states: want 0 <= candidate (7) <= advocate (5)",
		`parley.yaml:6: advocates: states.confirm "maybe"`,
		"parley.yaml:6: advocates: states.lapse_after (6w) is longer than score.window (30d)",
		`parley.yaml:7: advocates: consent.quiet_hours "21-9"`,
		"parley.yaml:8: advocates: opt_out.acknowledgement: line 1 of the text: at <.Persn>",
		`parley.yaml:10: advocates: template "review": link "not a link"`,
		`parley.yaml:13: advocates: template "review": the name is used twice (first at line 10)`,
		`parley.yaml:15: advocates: template "survey": text:`,
		`parley.yaml:18: advocates: prompt rule "p1": no template named "nope"`,
		`parley.yaml:21: advocates: prompt rule "p2": when: person has no field scor (it has handle`,
		`parley.yaml:24: advocates: prompt rule "p3": priority 11 is out of range`,
		`parley.yaml:24: advocates: prompt rule "p3": when: the condition must be true or false`,
	}
	require.Len(t, got, len(want), strings.Join(got, "\n"))
	for i := range want {
		assert.True(t, strings.HasPrefix(got[i], want[i]), "got  %s\nwant %s...", got[i], want[i])
	}
	_, err = advocate.New(cfg, "B", "")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	assert.Len(t, cfg.Validate(), len(want))
}
