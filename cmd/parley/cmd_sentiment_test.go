package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
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
	for _, text := range []string{"this deck is sick", "these wheels are insane", "my trucks snapped after two days", "the shop opens at nine",
		"gnarly art on this deck", "rad board, shipped fast", "charged twice for one deck, still no reply"} {
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

// TestSentimentRetrain folds corrections into a model file that classify
// --model and the config load.
func TestSentimentRetrain(t *testing.T) {
	dir := t.TempDir()
	corrections := writeFile(t, "corrections.jsonl", `{"text":"the new grip tape is gnarly as heck","label":"positive","model_label":"neutral"}
{"text":"these bushings are bunk","label":"negative"}
{"text":"the riptide deck pops like crazy","label":"positive"}
{"text":"that kickflip clip was filthy","label":"positive"}
{"text":"wheels arrived flat spotted","label":"negative"}
{"text":"my bearings are crunchy after one session","label":"negative"}
`)
	before := parleyRun(t, "these bushings are bunk\n", "classify")
	require.Equal(t, 0, before.code, before.stderr)
	assert.NotContains(t, before.stdout, `"label":"negative"`, "the shipped model does not know the jargon")

	out := filepath.Join(dir, "brand.model.gz")
	r := parleyRun(t, "", "sentiment", "retrain", "--corrections", corrections, "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "6 corrections from "+corrections)
	assert.Contains(t, r.stdout, "the retrained one with 6")
	info, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	r = parleyRun(t, "these bushings are bunk\nI love this deck\n", "classify", "--model", out)
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"label":"negative"`)
	assert.Contains(t, lines[1], `"label":"positive"`)

	cfg := writeFile(t, "parley.yaml", "brand: {name: Tidewater}\nsentiment: {model: "+out+"}\n")
	r = parleyRun(t, "", "check", "--config", cfg)
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	r = parleyRun(t, "", "rules", "test", "--config", cfg, "wheels arrived flat spotted")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "sentiment  negative")
	assert.Contains(t, r.stdout, "model social+corrections")

	// From the database; bad requests say what is wrong.
	db := demoDB(t)
	require.Equal(t, 0, parleyRun(t, "", "sentiment", "correct", "3", "positive", "--db", db).code)
	r = parleyRun(t, "", "sentiment", "retrain", "--db", db, "--out", filepath.Join(dir, "db.model.gz"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "1 corrections from the database")
	r = parleyRun(t, "", "sentiment", "retrain", "--db", db)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--out")
	r = parleyRun(t, "", "sentiment", "retrain", "--db", db, "--model", "vader", "--out", filepath.Join(dir, "v.model.gz"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no weights to retrain")
	bad := writeFile(t, "parley2.yaml", "brand: {name: Tidewater}\nsentiment: {model: "+filepath.Join(dir, "missing.model.gz")+"}\n")
	r = parleyRun(t, "", "check", "--config", bad)
	assert.NotEqual(t, 0, r.code)
	assert.Contains(t, r.stdout+r.stderr, "missing.model.gz: not found")
}

// TestIngestUnknownLanguageGoesToAPerson runs posts through the pipeline
// with the example config: the French one is stored as not read, tagged
// for a person and left undrafted; the English complaint gets its apology.
func TestIngestUnknownLanguageGoesToAPerson(t *testing.T) {
	ctx := context.Background()
	file := writeFile(t, "in.jsonl", fmt.Sprintf(goodLine, 1, 1, 1, "Ce plateau est vraiment nul, il s'est cassé au bout de deux jours")+"\n"+
		fmt.Sprintf(goodLine, 2, 2, 2, "my trucks snapped after two days, not happy")+"\n")
	db := filepath.Join(t.TempDir(), "p.db")
	r := parleyRun(t, "", "ingest", "--config", exampleConfig(t), "--db", db, file)
	require.Equal(t, 0, r.code, r.stderr)
	st := storetest.Open(t, storetest.Path(db))

	fr, err := st.Mention(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "fr", fr.Lang)
	assert.False(t, fr.Sentiment.Known(), "stored as not read: %+v", fr.Sentiment)
	assert.Equal(t, []string{"other-language"}, fr.Tags)
	en, err := st.Mention(ctx, 2)
	require.NoError(t, err)
	assert.True(t, en.Sentiment.Known())
	assert.Equal(t, parley.Negative, en.Sentiment.Label)
	assert.Contains(t, en.Tags, "complaint")

	drafts, err := st.Drafts(ctx, parley.DraftFilter{})
	require.NoError(t, err)
	require.Len(t, drafts, 1, "no draft for the French post")
	assert.Equal(t, en.ID, drafts[0].MentionID)
	assert.Equal(t, "complaint", drafts[0].Rule)
}
