package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func configProblems(t *testing.T, yaml string) string {
	t.Helper()
	_, err := ParseConfig("c.yaml", []byte(yaml), func(string) string { return "tok" })
	require.Error(t, err)
	return err.Error()
}

func TestConfigUnknownKeySuggestsTheNearest(t *testing.T) {
	out := configProblems(t, "brand:\n  name: X\n  timezon: Europe/Berlin\n")
	assert.Contains(t, out, `c.yaml:3: brand: unknown key "timezon" (did you mean "timezone"?)`)

	out = configProblems(t, "brand: {name: X}\nconectors: {}\n")
	assert.Contains(t, out, `c.yaml:2: unknown key "conectors" (did you mean "connectors"?)`)
}

func TestConfigIndentationErrorAtItsLine(t *testing.T) {
	out := configProblems(t, "brand:\n  name: X\n timezone: UTC\nweb: {}\n")
	assert.Regexp(t, `^c\.yaml:3: YAML: .*indentation`, out)
}

func TestConfigOneMastodonAccountAsAMapping(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte(`brand: {name: X}
connectors:
  mastodon:
    server: https://mastodon.example
    token_env: TOK
    keywords: [x]
`), func(string) string { return "tok" })
	require.NoError(t, err)
	require.Len(t, cfg.Connectors.Mastodon, 1)
	assert.Equal(t, "https://mastodon.example", cfg.Connectors.Mastodon[0].Server)
	assert.Equal(t, []string{"x"}, cfg.Connectors.Mastodon[0].Keywords)

	// A bad key inside the single account is reported at its line.
	out := configProblems(t, "brand: {name: X}\nconnectors:\n  mastodon:\n    server: https://m.example\n    token_env: TOK\n    keywrods: [x]\n")
	assert.Contains(t, out, `c.yaml:6: connectors.mastodon: unknown key "keywrods" (did you mean "keywords"?)`)
}

func TestConfigWrongTypeAtItsLine(t *testing.T) {
	out := configProblems(t, "brand: {name: X}\nweb:\n  addr: [1, 2]\n")
	assert.Contains(t, out, "c.yaml:3: web.addr: want text, got a list")
}

// parley check and parley digest read the config through one loader, so
// a bad digest target is reported at the same line by both.
func TestCheckAndDigestReportABadTargetAtTheSameLine(t *testing.T) {
	cfg := writeFile(t, "c.yaml", `brand: {name: X}

digest:
  schedule: "0 9 * * MON"
  targets:
    - {type: file, dir: /tmp/x}
    - type: email
      from: a@example.com
      to: [b@example.com]
`)
	want := fmt.Sprintf("%s:7: digest.targets[1] (email): smtp is missing", cfg)
	r := parleyRun(t, "", "check", "--config", cfg)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout+r.stderr, want)
	r = parleyRun(t, "", "digest", "--config", cfg, "--db", digestDB(t))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout+r.stderr, want)
}
