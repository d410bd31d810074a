package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSentimentEval(t *testing.T) {
	file := writeFile(t, "labelled.jsonl", `{"text":"I love it, best ever","label":"positive"}
{"text":"this is awful, I hate it","label":"negative"}
{"text":"the store opens at nine","label":"neutral"}
{"text":"great job, thanks!","label":"positive"}
`)
	r := parleyRun(t, "", "sentiment", "eval", "--model", "vader", file)
	require.Equal(t, 0, r.code, r.stderr)
	for _, want := range []string{"accuracy", "macro-recall", "macro-F1", "true \\ predicted", "negative"} {
		assert.Contains(t, r.stdout, want)
	}
	r = parleyRun(t, "", "sentiment", "eval", "--model", "vader", "--json", file)
	require.Equal(t, 0, r.code, r.stderr)
	var reps []struct {
		N           int
		MacroRecall float64 `json:"macro_recall"`
		Accuracy    float64
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &reps))
	require.Len(t, reps, 1)
	assert.Equal(t, 4, reps[0].N)
	assert.Regexp(t, `n\s+4\n`, parleyRun(t, "", "sentiment", "eval", "--model", "vader", file).stdout)
	assert.InDelta(t, 1.0, reps[0].Accuracy, 1e-9, "these four are easy")

	r = parleyRun(t, "", "sentiment", "eval", "--model", "all", file)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, 1, strings.Count(r.stdout, "model    social"), "each model once: default is social")
	assert.Equal(t, 1, strings.Count(r.stdout, "model     vader"))
	for _, want := range []string{"positive called negative", "negative called positive", "negative precision", "calibration error (ECE)", "stated  right"} {
		assert.Contains(t, r.stdout, want)
	}

	bad := writeFile(t, "bad.jsonl", `{"text":"x","label":"happy"}`+"\n")
	r = parleyRun(t, "", "sentiment", "eval", bad)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "line 1")
}

func TestSentimentCorrectAndExport(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "sentiment", "correct", "1", "negative", "--as", "ana", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "mention 1 is now negative (corrected by ana)")
	assert.Contains(t, r.stdout, "tags and drafts left as they were")
	r = parleyRun(t, "", "sentiment", "correct", "1", "negative", "--as", "ana", "--db", db, "--config", exampleConfig(t))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "rules decided again: tags ")
	r = parleyRun(t, "", "sentiment", "correct", "2", "happy", "--db", db)
	assert.Equal(t, 2, r.code)
	r = parleyRun(t, "", "sentiment", "export-corrections", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 1)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &got))
	assert.Equal(t, "negative", got["label"])
	assert.Equal(t, "ana", got["corrected_by"])
	assert.Equal(t, fmt.Sprintf("parley:%d", 1), got["id"])
	assert.NotEmpty(t, got["text"])
}

// TestClassifyAndRulesTestAgree: classify without a config and rules test
// with the example config give the same verdict on the same text.
func TestClassifyAndRulesTestAgree(t *testing.T) {
	cfg := exampleConfig(t)
	for _, text := range []string{"this deck is sick", "these wheels are insane", "my trucks snapped after two days", "the shop opens at nine"} {
		r := parleyRun(t, text+"\n", "classify")
		require.Equal(t, 0, r.code, r.stderr)
		var c struct {
			Label      string
			Score      float64
			Confidence float64
			Lang       string
			Known      bool
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &c))
		r = parleyRun(t, "", "rules", "test", "--json", "--config", cfg, text)
		require.Equal(t, 0, r.code, r.stderr)
		var rt struct {
			Sentiment struct {
				Label      string
				Score      float64
				Confidence float64
			}
			Lang  string
			Known bool
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rt))
		assert.Equal(t, c.Label, rt.Sentiment.Label, text)
		assert.InDelta(t, c.Score, rt.Sentiment.Score, 1e-3, text)
		assert.InDelta(t, c.Confidence, rt.Sentiment.Confidence, 1e-3, text)
		assert.Equal(t, "en", c.Lang)
		assert.True(t, c.Known)
		assert.Equal(t, c.Lang, rt.Lang)
		assert.Equal(t, c.Known, rt.Known)
	}
	r := parleyRun(t, "this deck is sick\n", "classify")
	assert.Contains(t, r.stdout, `"label":"positive"`)
}

// TestUnknownLanguageGoesToAPerson: a French post is not read by the
// model; classify says so, and the example rules route it to a person
// without drafting a reply.
func TestUnknownLanguageGoesToAPerson(t *testing.T) {
	text := "Ce plateau est vraiment nul, il s'est cassé au bout de deux jours"
	r := parleyRun(t, text+"\n", "classify")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"known":false`)
	assert.Contains(t, r.stdout, `"lang":"fr"`)
	assert.Contains(t, r.stdout, `"confidence":0.2`)

	r = parleyRun(t, "", "rules", "test", "--config", exampleConfig(t), text)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "language fr")
	assert.Contains(t, r.stdout, "sentiment.known is false")
	assert.Contains(t, r.stdout, "matched    other-language")
	assert.NotContains(t, r.stdout, "matched    complaint")
	assert.Contains(t, r.stdout, "tags       other-language")
	assert.Contains(t, r.stdout, "draft      none")
}
