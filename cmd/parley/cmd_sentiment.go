package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules/sentiment"
)

func init() {
	register(&command{
		name:    "sentiment",
		summary: "check the classifier on labelled data; correct and export labels",
		usage: `parley sentiment eval FILE.jsonl [--model NAME] [--json]
parley sentiment correct MENTION_ID negative|neutral|positive [--as NAME]
parley sentiment export-corrections [--out FILE]

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
write is withdrawn (kept as rejected) and the one they write now is queued
(the web inbox's Correct button does the same). export-corrections writes the corrections in the training
format, to retrain on the brand's own voice.

Example:
  parley sentiment eval --model all labelled.jsonl
  parley sentiment correct 42 positive --as ana
  parley sentiment export-corrections --out corrections.jsonl`,
		run: runSentiment,
	})
}

func runSentiment(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	model := fs.String("model", "", "sentiment model: "+strings.Join(sentiment.Names(), ", ")+" or all")
	actor := fs.String("as", defaultActor(e), "who corrects, for the audit log")
	out := fs.String("out", "", "write to this file instead of standard output")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: want eval, correct or export-corrections", errUsage)
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
		defer st.Close()
		var decide parley.DecideFunc
		if cfg != nil {
			decide = cfg.ruleSet().Decide(e.logger)
		}
		rd, err := st.CorrectSentimentAndRedecide(ctx, id, label, *actor, decide)
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
		defer st.Close()
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
			defer f.Close()
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
	}
	return fmt.Errorf("%w: unknown sentiment command %q: want eval, correct or export-corrections", errUsage, rest[0])
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
	var r io.Reader = e.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return parley.Errorf(parley.EINVALID, "open labelled file: %w", err)
		}
		defer f.Close()
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
