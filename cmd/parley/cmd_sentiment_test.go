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
