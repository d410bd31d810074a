package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/rules/sentiment"
)

func init() {
	register(&command{
		name:    "sentiment",
		summary: "check the classifier on labelled data; correct and export labels",
		usage: `parley sentiment eval FILE.jsonl [--model NAME] [--json]
parley sentiment correct MENTION_ID negative|neutral|positive [--as NAME]
parley sentiment export-corrections [--out FILE]
parley sentiment retrain --out FILE.model.gz [--corrections FILE] [--model BASE] [--weight N]

eval classifies every {"text":...,"label":...} line of FILE (- for standard
input) and prints n, accuracy, macro-averaged recall (the SemEval measure),
macro-F1, the severe mistakes (positive posts called negative: an apology to
a fan; negative posts called positive: a thank-you to an angry customer; each
as a share of its class, flagged over 5%), negative precision, per-class F1,
the confusion matrix and a reliability table (posts by stated confidence
against how often the label was right, and the calibration error), so anyone
can check the classifier on their own data. --model all evaluates each
built-in model once; --model FILE a model file.

correct sets a mention's sentiment on a person's word: the correction wins
everywhere the label is used (queue, rules' history, digest) and is kept
with who made it. With --config the mention's rules decide again: its tags
and priority follow the corrected label, a pending draft the rules no longer
write is superseded (kept, never sent) and the one they write now is queued
(the web inbox's Correct button does the same). export-corrections writes
the corrections in the training format, to retrain on the brand's own voice.

retrain folds corrections (from the database, or an exported --corrections
file) into a new model file: the base model (--model, default the one in
the binary) fine-tuned on them, keeping what it knew and its calibration.
Load the file with 'parley classify --model FILE' or 'sentiment.model: FILE'
in the config. With the training data at hand, the trainer can instead
retrain from scratch with the corrections weighted in:
  go run ./rules/sentiment/cmd/train --data ../shared/data/sentiment \
    --train train.jsonl,goemotions_train.jsonl,$PWD/corrections.jsonl:5

Example:
  parley sentiment eval --model all labelled.jsonl
  parley sentiment correct 42 positive --as ana
  parley sentiment export-corrections --out corrections.jsonl
  parley sentiment retrain --out parley-data/brand.model.gz`,
		run: runSentiment,
	})
}

func runSentiment(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	model := fs.String("model", "", "sentiment model: "+strings.Join(sentiment.Names(), ", ")+" or all")
	actor := fs.String("as", defaultActor(e), "who corrects, for the audit log")
	out := fs.String("out", "", "write to this file instead of standard output (retrain: the model file)")
	correctionsFile := fs.String("corrections", "", "retrain: exported corrections (JSONL) instead of the database's")
	weight := fs.Float64("weight", 1, "retrain: how many times each correction counts")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: want eval, correct, export-corrections or retrain", errUsage)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	switch rest[0] {
	case "eval":
		if len(rest) != 2 {
			return fmt.Errorf("%w: eval takes one labelled JSONL file (or -)", errUsage)
		}
		return sentimentEval(e, cfg, rest[1], *model)
	case "correct":
		if len(rest) != 3 {
			return fmt.Errorf("%w: correct takes a mention id and a label", errUsage)
		}
		id, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			return fmt.Errorf("%w: %q is not a mention id", errUsage, rest[1])
		}
		label, err := parley.ParseLabel(rest[2])
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		st, err := e.openExistingStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer joinErr(&retErr, st.Close)
		// Through the decision service, as the web inbox's Correct button;
		// a correction posts nothing, so no connector is needed to check.
		var decide parley.DecideFunc
		if cfg != nil {
			decide = cfg.ruleSet().Decide(e.logger)
		}
		dec := bot.NewDecisions(st, bot.DecisionsOptions{Logger: e.logger, Decide: decide})
		rd, err := dec.CorrectSentiment(ctx, *actor, id, label)
		if err != nil {
			return err
		}
		printRedecision(e.stdout, rd, *actor, decide != nil)
		return nil
	case "export-corrections":
		st, err := e.openExistingStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer joinErr(&retErr, st.Close)
		cs, err := st.Corrections(ctx)
		if err != nil {
			return err
		}
		w := e.stdout
		if *out != "" {
			f, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer joinErr(&retErr, f.Close)
			w = f
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, c := range cs {
			if err := enc.Encode(map[string]any{"id": fmt.Sprintf("parley:%d", c.MentionID), "text": c.Text,
				"label": c.Label, "model_label": c.ModelLabel, "corrected_by": c.Actor}); err != nil {
				return err
			}
		}
		if *out != "" {
			fmt.Fprintf(e.stdout, "%d corrections written to %s\n", len(cs), *out)
		}
		return nil
	case "retrain":
		return sentimentRetrain(ctx, e, cfg, retrainOptions{out: *out, corrections: *correctionsFile, model: *model, weight: *weight})
	}
	return fmt.Errorf("%w: unknown sentiment command %q: want eval, correct, export-corrections or retrain", errUsage, rest[0])
}

// printRedecision says what a correction changed.
func printRedecision(w io.Writer, rd parley.Redecision, actor string, decided bool) {
	m := rd.Mention
	fmt.Fprintf(w, "mention %d is now %s (corrected by %s)\n", m.ID, m.Sentiment.Label, actor)
	if !decided {
		fmt.Fprintln(w, "tags and drafts left as they were: give --config to decide the mention again with its rules")
		return
	}
	tags := strings.Join(m.Tags, ", ")
	if tags == "" {
		tags = "none"
	}
	fmt.Fprintf(w, "rules decided again: tags %s, priority %d\n", tags, m.Priority)
	for _, d := range rd.Replaced {
		fmt.Fprintf(w, "draft %d (rule %s) withdrawn\n", d.ID, d.Rule)
	}
	for _, d := range rd.Queued {
		fmt.Fprintf(w, "draft %d (rule %s) queued: %s\n", d.ID, d.Rule, d.Text)
	}
	for _, d := range rd.Kept {
		fmt.Fprintf(w, "draft %d (rule %s, %s) kept\n", d.ID, d.Rule, d.State)
	}
}

func sentimentEval(e *env, cfg *Config, file, model string) error {
	r := io.Reader(e.stdin)
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return parley.Errorf(parley.EINVALID, "open labelled file: %w", err)
		}
		defer f.Close() //nolint:errcheck // read-only: the reads report failures
		r = f
	}
	examples, err := sentiment.ReadExamples(r)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(examples) == 0 {
		return parley.Errorf(parley.EINVALID, "%s has no examples", file)
	}
	models := []string{model}
	if model == "all" {
		models = sentiment.Models()
	}
	var reports []sentiment.Report
	for _, name := range models {
		cl, err := cfg.classifier(name)
		if err != nil {
			return err
		}
		rep := sentiment.Evaluate(cl, examples)
		reports = append(reports, rep)
		if !e.jsonOut {
			if err := rep.WriteText(e.stdout); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout)
		}
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(reports)
	}
	return nil
}

type retrainOptions struct {
	out, corrections, model string
	weight                  float64
}

// sentimentRetrain fine-tunes a model on the corrections and writes it.
func sentimentRetrain(ctx context.Context, e *env, cfg *Config, o retrainOptions) error {
	if o.out == "" {
		return fmt.Errorf("%w: retrain needs --out FILE.model.gz", errUsage)
	}
	if !sentiment.IsModelFile(o.out) {
		return fmt.Errorf("%w: --out %q: name the model file FILE.model.gz", errUsage, o.out)
	}
	if o.weight <= 0 {
		return fmt.Errorf("%w: --weight %v: want a number > 0", errUsage, o.weight)
	}
	if o.model == "" && cfg != nil {
		o.model = cfg.Sentiment.Model
	}
	base, err := sentiment.BaseModel(o.model)
	if err != nil {
		return err
	}
	examples, from, err := retrainExamples(ctx, e, cfg, o.corrections)
	if err != nil {
		return err
	}
	if len(examples) == 0 {
		return parley.Errorf(parley.EINVALID, "no corrections in %s: correct some labels first (web inbox, parley sentiment correct)", from)
	}
	m, err := sentiment.FineTune(base, examples, sentiment.FineTuneConfig{Weight: o.weight})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	before, after := sentiment.Evaluate(base, examples), sentiment.Evaluate(m, examples)
	fmt.Fprintf(e.stdout, "%d corrections from %s: the base model (%s) agreed with %d, the retrained one with %d\n",
		len(examples), from, base.Name(), agreed(before), agreed(after))
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", o.out, buf.Len())
	fmt.Fprintf(e.stdout, "use it: parley classify --model %s, or sentiment.model: %s in the config\n", o.out, o.out)
	return nil
}

// retrainExamples reads the corrections from file, or else the database.
func retrainExamples(ctx context.Context, e *env, cfg *Config, file string) (_ []sentiment.Example, _ string, retErr error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, "", parley.Errorf(parley.EINVALID, "corrections file: %w", err)
		}
		defer f.Close() //nolint:errcheck // read-only: the reads report failures
		ex, err := sentiment.ReadExamples(f)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", file, err)
		}
		return ex, file, nil
	}
	st, err := e.openExistingStore(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	defer joinErr(&retErr, st.Close)
	cs, err := st.Corrections(ctx)
	if err != nil {
		return nil, "", err
	}
	ex := make([]sentiment.Example, len(cs))
	for i, c := range cs {
		ex[i] = sentiment.Example{Text: c.Text, Label: c.Label}
	}
	return ex, "the database", nil
}

// agreed is how many examples a report's classifier got right.
func agreed(r sentiment.Report) int {
	n := 0
	for i := range r.Confusion {
		n += r.Confusion[i][i]
	}
	return n
}
