package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/replay"
)

// advocatesDB ingests the demo sample with the example config (VADER, so
// the test does not depend on the trained model) and returns the flags.
func advocatesDB(t *testing.T) []string {
	t.Helper()
	cfg := strings.Replace(string(parley.ExampleConfig), "\n  model: default\n", "\n  model: vader\n", 1)
	require.Contains(t, cfg, "model: vader")
	flags := []string{"--config", writeFile(t, "parley.yaml", cfg), "--db", writeFile(t, "x", "") + ".db"}
	sample := writeFile(t, "sample.jsonl", string(replay.Sample()))
	// --rescore=false: these tests watch 'advocates rescore' make the
	// state changes that ingest would otherwise make itself.
	r := parleyRun(t, "", append([]string{"ingest", "--quiet", "--rescore=false", sample}, flags...)...)
	require.Equal(t, 0, r.code, r.stderr)
	return flags
}

func advocates(t *testing.T, flags []string, args ...string) result {
	t.Helper()
	return parleyRun(t, "", append(append([]string{"advocates"}, args...), flags...)...)
}

func TestAdvocatesCommand(t *testing.T) {
	flags := advocatesDB(t)
	const asOf = "2026-11-23T10:00:00Z"

	r := advocates(t, flags, "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Nobody yet")

	r = advocates(t, flags, "rescore", "--as-of", asOf, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var pass struct {
		People  int
		Changes []parley.AdvocateChange
		Prompts []parley.Prompt
		Refused map[string]int
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &pass))
	assert.Greater(t, pass.People, 100)
	became := map[string]string{}
	for _, c := range pass.Changes {
		became[c.Handle] = c.To
	}
	// (Not oldmanhank: his praise is quiet, and whether the model finds
	// enough of it depends on the model; see TestReplayedMonthFindsTheFans.)
	for _, h := range []string{"kelpkid", "grindqueen", "jules@skate.social"} {
		assert.Equal(t, parley.AdvocateActive, became[h], h)
	}
	for _, p := range pass.Prompts {
		assert.Equal(t, parley.DraftPending, p.State)
	}

	r = advocates(t, flags, "list", "--state", "advocate", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var list []struct {
		ID            int64
		Handle        string
		AdvocateState string `json:"advocate_state"`
		AdvocateScore float64
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.NotEmpty(t, list)
	assert.Equal(t, "kelpkid", list[0].Handle, "best score first")
	r = advocates(t, flags, "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "@grindqueen")
	assert.Contains(t, r.stdout, "not yet an advocate")

	// explain: each term, summing to the score.
	r = advocates(t, flags, "explain", "jules@skate.social", "--as-of", asOf, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var ex struct {
		Explanation struct {
			Score float64
			State string
			Terms []struct {
				Name   string
				Points float64
			}
		}
		WouldPrompt []struct{ Template string } `json:"would_prompt"`
		HeldBack    string                      `json:"held_back"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &ex))
	require.Len(t, ex.Explanation.Terms, 5)
	sum := 0.0
	for _, tm := range ex.Explanation.Terms {
		sum += tm.Points
	}
	assert.InDelta(t, ex.Explanation.Score, sum, 0.03)
	assert.Equal(t, parley.AdvocateActive, ex.Explanation.State)
	if len(ex.WouldPrompt) > 0 {
		assert.Contains(t, ex.HeldBack, "cooldown", "jules complained two days before")
	}
	r = advocates(t, flags, "explain", "@oldmanhank", "--as-of", asOf)
	require.Equal(t, 0, r.code, r.stderr)
	for _, want := range []string{"positive", "reach", "engagement", "consistency", "negative", "129 followers",
		"boosts and reactions are not stored", "America/Denver"} {
		assert.Contains(t, r.stdout, want)
	}

	// confirm, optout (withdrawing a waiting prompt), optin.
	r = advocates(t, flags, "confirm", "samw@mastodon.social", "--as", "boss")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "advocate now (was candidate), confirmed by boss")
	r = advocates(t, flags, "confirm", "samw@mastodon.social", "--as", "boss")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "already an advocate")

	var target string
	if len(pass.Prompts) > 0 {
		target = fmt.Sprintf("id:%d", pass.Prompts[0].PersonID)
	} else {
		target = "kelpkid"
	}
	r = advocates(t, flags, "optout", target, "--as", "boss", "--reason", "asked on the phone", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var out parley.OptOutResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	assert.True(t, out.Changed)
	assert.True(t, out.Person.OptedOut)
	assert.Len(t, out.Withdrawn, len(pass.Prompts[:min(1, len(pass.Prompts))]))
	r = advocates(t, flags, "show", target, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var show struct {
		Person struct {
			OptedOut bool `json:"opted_out"`
		}
		Prompts []struct{ Status string }
		Consent []parley.AuditEntry
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &show))
	assert.True(t, show.Person.OptedOut)
	require.Len(t, show.Consent, 1)
	assert.Equal(t, "boss", show.Consent[0].Actor)
	for _, p := range show.Prompts {
		assert.Equal(t, "withdrawn", p.Status)
	}
	r = advocates(t, flags, "optout", target)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "already opted out")
	r = advocates(t, flags, "optin", target, "--as", "boss")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "opted in to prompts again by boss")
	r = advocates(t, flags, "show", target)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "optin by boss")

	r = advocates(t, flags, "conversion", "--as-of", asOf, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "[]\n", r.stdout, "nothing was sent")
}

func TestAdvocatesCommandBadInput(t *testing.T) {
	flags := advocatesDB(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{}, 2, "want list, show"},
		{[]string{"dance"}, 2, "unknown advocates command"},
		{[]string{"show"}, 2, "takes one person"},
		{[]string{"list", "extra"}, 2, "takes no arguments"},
		{[]string{"list", "--state", "famous"}, 2, "--state"},
		{[]string{"explain", "kelpkid", "--as-of", "yesterday"}, 2, "--as-of"},
		{[]string{"show", "nobody-here"}, 1, "no person with handle"},
		{[]string{"show", "id:x"}, 2, "id:N"},
		{[]string{"conversion", "--days", "0"}, 2, "--days"},
	} {
		r := advocates(t, flags, c.args...)
		assert.Equal(t, c.code, r.code, "%v: %s", c.args, r.stderr)
		assert.Contains(t, r.stderr, c.msg, c.args)
	}
}

func TestCheckReportsAdvocatesProblemsWithLines(t *testing.T) {
	cfg := string(parley.ExampleConfig) + "\n" // the example is valid
	path := writeFile(t, "ok.yaml", cfg)
	r := parleyRun(t, "", "check", "--config", path)
	require.Equal(t, 0, r.code, r.stderr)

	bad := strings.Replace(cfg, "confirm: auto, lapse_after", "confirm: maybe, lapse_after", 1)
	bad = strings.Replace(bad, "      template: crew-session\n", "      template: crew-sesion\n", 1)
	bad = strings.Replace(bad, "  interval: 1h ", "  intervall: 1h ", 1)
	path = writeFile(t, "bad.yaml", bad)
	r = parleyRun(t, "", "check", "--config", path)
	assert.Equal(t, 1, r.code)
	lines := strings.Split(bad, "\n")
	lineOf := func(s string) int {
		for i, l := range lines {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("%q not in the config", s)
		return 0
	}
	all := r.stdout + r.stderr
	assert.Contains(t, all, fmt.Sprintf("bad.yaml:%d: unknown key \"intervall\"", lineOf("intervall:")))
	assert.Contains(t, all, fmt.Sprintf("bad.yaml:%d: advocates: states.confirm \"maybe\"", lineOf("confirm: maybe")))
	assert.Contains(t, all, fmt.Sprintf("bad.yaml:%d: advocates: prompt rule \"crew-for-discord-regulars\": no template named \"crew-sesion\"",
		lineOf("name: crew-for-discord-regulars")))
}
