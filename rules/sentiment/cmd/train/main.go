// Command train fits Parley's sentiment model and reports how it compares
// with VADER.
//
// Run from the repository root:
//
//	go run ./rules/sentiment/cmd/train --data ../shared/data/sentiment
//
// It reads the training files (--train, comma-separated, each with an
// optional ":WEIGHT": tweets and GoEmotions Reddit comments by default)
// and the dev files (--dev) from --data. It sets a seeded --calibrate
// share of the training examples aside, optionally prints k-fold
// cross-validated macro-averaged recall on the rest (--folds), trains on
// the rest (the linear model, then the small network of --deep and, with
// two training files, the detector of their kinds of post, --domains),
// fits the model's calibration (honest confidence, and decision offsets
// that keep severe mistakes under --max-severe, with --severe-margin
// standard errors to spare, with the slang lexicon applied as New applies
// it; one per kind of post) on the share set aside, prints a report for
// each dev file beside VADER's, and writes the model (--out). Same data and flags, same model: the split and folds
// come from a fixed seed and training is deterministic.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jonreiter/govader"
	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules/sentiment"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

type options struct {
	data, out, trainFiles, devFiles string
	folds, runFolds                 int
	seed                            uint64
	calibrate, maxSevere, marginZ   float64
	recalibrate                     string
	cfg                             sentiment.TrainConfig
	noCV, noWrite, domains, deep    bool
	deepCfg                         sentiment.DeepConfig
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{cfg: sentiment.DefaultTrainConfig, deepCfg: sentiment.DefaultDeepConfig}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "../shared/data/sentiment", "directory with train.jsonl and dev.jsonl")
	fs.StringVar(&o.trainFiles, "train", "train.jsonl,goemotions_train.jsonl", "training files, comma-separated, each FILE or FILE:WEIGHT (in --data unless absolute)")
	fs.StringVar(&o.devFiles, "dev", "dev.jsonl,goemotions_dev.jsonl", "held-out files to report on, comma-separated; \"\" for none")
	fs.StringVar(&o.out, "out", "rules/sentiment/model/social.model.gz", "where to write the model")
	fs.Float64Var(&o.calibrate, "calibrate", 0.1, "share of the training examples set aside to calibrate on (0: no calibration)")
	fs.Float64Var(&o.maxSevere, "max-severe", 0.05, "severe-mistake rate the calibration's decision offsets keep under")
	fs.Float64Var(&o.marginZ, "severe-margin", 2, "standard errors of each held-out severe-mistake rate added before comparing it with --max-severe")
	fs.StringVar(&o.recalibrate, "recalibrate", "", "instead of training, load this model file (trained with the same --train, --calibrate and --seed) and fit its calibration again")
	fs.IntVar(&o.folds, "folds", 0, "cross-validation folds (0 or 1: none)")
	fs.IntVar(&o.runFolds, "run-folds", 0, "run only the first N folds (0: all), for quick experiments")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the fold assignment")
	fs.BoolVar(&o.noCV, "no-cv", false, "skip cross-validation")
	fs.BoolVar(&o.noWrite, "no-write", false, "do not train the final model or write it")
	fs.BoolVar(&o.domains, "domains", true, "with two training files: learn to tell their kinds of post apart and calibrate each kind on its own")
	fs.Float64Var(&o.cfg.L2, "l2", o.cfg.L2, "L2 penalty")
	fs.IntVar(&o.cfg.Iterations, "iterations", o.cfg.Iterations, "L-BFGS iterations")
	fs.Float64Var(&o.cfg.ClassWeight, "class-weight", o.cfg.ClassWeight, "class weighting power (0 none, 1 balanced)")
	fs.IntVar(&o.cfg.Features.HashBits, "hash-bits", o.cfg.Features.HashBits, "log2 of the feature buckets")
	fs.IntVar(&o.cfg.Features.CharMin, "char-min", o.cfg.Features.CharMin, "shortest character n-gram")
	fs.IntVar(&o.cfg.Features.CharMax, "char-max", o.cfg.Features.CharMax, "longest character n-gram (0: none)")
	fs.Float64Var(&o.cfg.Features.CharWeight, "char-weight", o.cfg.Features.CharWeight, "value of a character n-gram feature")
	fs.BoolVar(&o.cfg.Features.Bigrams, "bigrams", o.cfg.Features.Bigrams, "word bigrams")
	fs.BoolVar(&o.cfg.Features.Lexicon, "lexicon", o.cfg.Features.Lexicon, "VADER lexicon features")
	fs.Float64Var(&o.cfg.Features.LexiconScale, "lexicon-scale", o.cfg.Features.LexiconScale, "scale of the VADER features (0: 1)")
	fs.BoolVar(&o.cfg.Features.LexiconTokens, "lexicon-tokens", o.cfg.Features.LexiconTokens, "valence tokens for lexicon words")
	fs.IntVar(&o.cfg.Features.Prefix, "prefix", o.cfg.Features.Prefix, "word prefix length feature (0: none)")
	fs.BoolVar(&o.cfg.Features.Trigrams, "trigrams", o.cfg.Features.Trigrams, "word trigrams")
	fs.BoolVar(&o.cfg.Features.AfterBut, "after-but", o.cfg.Features.AfterBut, "mark words after \"but\"")
	fs.BoolVar(&o.deep, "deep", true, "add a small network's scores to the linear model's (not with --recalibrate)")
	fs.IntVar(&o.deepCfg.Bits, "deep-bits", o.deepCfg.Bits, "log2 of the network's embedding rows")
	fs.IntVar(&o.deepCfg.Dim, "deep-dim", o.deepCfg.Dim, "network embedding size")
	fs.IntVar(&o.deepCfg.Hidden, "deep-hidden", o.deepCfg.Hidden, "network hidden units")
	fs.IntVar(&o.deepCfg.Epochs, "deep-epochs", o.deepCfg.Epochs, "network training epochs")
	fs.Float64Var(&o.deepCfg.LearningRate, "deep-lr", o.deepCfg.LearningRate, "network learning rate")
	fs.Float64Var(&o.deepCfg.Weight, "deep-weight", o.deepCfg.Weight, "weight of the network's scores")
	fs.IntVar(&o.cfg.Workers, "workers", 0, "goroutines for training (0: one per CPU); does not change the model")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.cfg.Validate(); err != nil {
		return o, err
	}
	if err := o.deepCfg.Validate(); err != nil {
		return o, err
	}
	if o.calibrate < 0 || o.calibrate >= 0.5 {
		return o, fmt.Errorf("--calibrate %v: want 0 <= share < 0.5", o.calibrate)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	all, ids, srcs, err := readTraining(o.data, o.trainFiles)
	if err != nil {
		return err
	}
	type devSet struct {
		name string
		ex   []sentiment.Example
	}
	var devs []devSet
	for _, name := range splitList(o.devFiles) {
		ex, err := readFile(o.data, name)
		if err != nil {
			return err
		}
		devs = append(devs, devSet{name, ex})
	}
	train, cal, trainIDs, trainSrcs := splitCalibration(all, ids, srcs, o.calibrate, o.seed)
	ncal := 0
	for _, c := range cal {
		ncal += len(c)
	}
	fmt.Fprintf(stdout, "data: %d training examples (%s), %d set aside to calibrate; config %+v\n", len(train), o.trainFiles, ncal, o.cfg)
	judges := newJudges()

	// Columns: macro-recall of the social model, Parley's VADER and plain
	// govader, then the same on the emoji versions of the posts with
	// emoticons, and the training time.
	tw := stdout
	fmt.Fprintf(tw, "%-10s %6s %7s %7s %8s | %7s %7s %7s %8s | %6s\n", "set", "n", "social", "vader", "govader", "emoji n", "social", "vader", "govader", "secs")
	if !o.noCV && o.folds > 1 {
		if err := crossValidate(ctx, tw, o, train, trainIDs, judges); err != nil {
			return err
		}
	}
	if o.noWrite {
		return nil
	}
	start := time.Now()
	var m *sentiment.Model
	if o.recalibrate != "" {
		m, err = sentiment.LoadModelFile(o.recalibrate)
	} else {
		m, err = sentiment.Train(train, o.cfg)
	}
	if err != nil {
		return err
	}
	if o.deep && o.recalibrate == "" {
		if err := m.TrainDeep(train, o.deepCfg); err != nil {
			return err
		}
	}
	if o.domains && len(cal) == 2 {
		names := splitList(o.trainFiles)
		for i, n := range names {
			names[i] = strings.TrimSuffix(filepath.Base(strings.Split(n, ":")[0]), ".jsonl")
		}
		if err := m.TrainDomains(train, trainSrcs, names); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	if ncal > 0 {
		c, err := m.Calibrate(cal, sentiment.CalibrateOptions{MaxSevere: o.maxSevere, MarginZ: o.marginZ, Slang: sentiment.SlangLexicon})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "calibration: %s\n", c)
	}
	for _, d := range devs {
		fmt.Fprintf(tw, "%-10s %6d %s | %6.1f\n", strings.TrimSuffix(d.name, ".jsonl"), len(d.ex), judges.row(m, d.ex), secs)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, buf.Bytes(), 0o644); err != nil { //nolint:gosec // G306: the model is shipped in the repository, not private data
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes), trained on %d examples in %.1fs\n", o.out, buf.Len(), len(train), secs)
	for _, d := range devs {
		fmt.Fprintf(stdout, "\n%s, social model:\n", d.name)
		if err := sentiment.Evaluate(m, d.ex).WriteText(stdout); err != nil {
			return err
		}
	}
	return nil
}

// crossValidate prints k-fold cross-validated macro-recall on train, per
// fold and by source.
func crossValidate(ctx context.Context, tw io.Writer, o options, train []sentiment.Example, ids []string, judges *judges) error {
	folds := assignFolds(len(train), o.folds, o.seed)
	var sum [6]float64
	oofSocial := make([]parley.Label, len(train))
	nf := o.folds
	if o.runFolds > 0 && o.runFolds < nf {
		nf = o.runFolds
	}
	for k := 0; k < nf; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var tr, te []sentiment.Example
		for i, ex := range train {
			if folds[i] == k {
				te = append(te, ex)
			} else {
				tr = append(tr, ex)
			}
		}
		start := time.Now()
		m, err := sentiment.Train(tr, o.cfg)
		if err != nil {
			return err
		}
		row := judges.row(m, te)
		for i, ex := range train {
			if folds[i] == k {
				oofSocial[i] = m.Classify(ex.Text).Label
			}
		}
		fmt.Fprintf(tw, "%-10s %6d %s | %6.1f\n", fmt.Sprintf("fold %d/%d", k+1, o.folds), len(te), row, time.Since(start).Seconds())
		for i, v := range row.values() {
			sum[i] += v
		}
	}
	fmt.Fprintf(tw, "%-10s %6d %7.3f %7.3f %8.3f | %7s %7.3f %7.3f %8.3f |\n", "CV mean", len(train),
		sum[0]/float64(nf), sum[1]/float64(nf), sum[2]/float64(nf),
		"", sum[3]/float64(nf), sum[4]/float64(nf), sum[5]/float64(nf))
	if nf == o.folds {
		return bySource(tw, ids, train, oofSocial, judges)
	}
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// readTraining reads every FILE[:WEIGHT] of list, giving each example its
// file's weight; it returns the examples' ids (the file's name where a
// line has none) and the index of the file each came from.
func readTraining(dir, list string) ([]sentiment.Example, []string, []int, error) {
	var all []sentiment.Example
	var ids []string
	var srcs []int
	for fi, item := range splitList(list) {
		name, weight := item, 1.0
		if i := strings.LastIndexByte(item, ':'); i > 0 {
			w, err := strconv.ParseFloat(item[i+1:], 64)
			if err != nil || w <= 0 {
				return nil, nil, nil, fmt.Errorf("--train %q: weight %q: want a number > 0", item, item[i+1:])
			}
			name, weight = item[:i], w
		}
		ex, err := readFile(dir, name)
		if err != nil {
			return nil, nil, nil, err
		}
		fileIDs, err := readIDs(dir, name)
		if err != nil || len(fileIDs) != len(ex) {
			fileIDs = make([]string, len(ex))
		}
		for i := range ex {
			if weight != 1 {
				ex[i].Weight = weight
			}
			if fileIDs[i] == "" {
				fileIDs[i] = strings.TrimSuffix(filepath.Base(name), ".jsonl")
			}
			srcs = append(srcs, fi)
		}
		all = append(all, ex...)
		ids = append(ids, fileIDs...)
	}
	if len(all) == 0 {
		return nil, nil, nil, errors.New("--train names no files")
	}
	return all, ids, srcs, nil
}

// splitCalibration sets a seeded share of the examples aside to calibrate
// on; it returns the rest (in their order, with their ids) and the share,
// one set per source file, so the calibration holds on each kind of post.
func splitCalibration(ex []sentiment.Example, ids []string, srcs []int, share float64, seed uint64) (train []sentiment.Example, cal [][]sentiment.Example, trainIDs []string, trainSrcs []int) {
	if share <= 0 {
		return ex, nil, ids, srcs
	}
	perm := rand.New(rand.NewPCG(seed, 0xca1)).Perm(len(ex))
	aside := make([]bool, len(ex))
	for _, i := range perm[:int(share*float64(len(ex)))] {
		aside[i] = true
	}
	for i, e := range ex {
		if aside[i] {
			for len(cal) <= srcs[i] {
				cal = append(cal, nil)
			}
			cal[srcs[i]] = append(cal[srcs[i]], e)
		} else {
			train = append(train, e)
			trainIDs = append(trainIDs, ids[i])
			trainSrcs = append(trainSrcs, srcs[i])
		}
	}
	return train, cal, trainIDs, trainSrcs
}

// bySource prints the out-of-fold macro-recall of the social model and of
// VADER for each source of the training posts (the prefix of their "id",
// e.g. twitter-2014sarcasm), so no kind of post hides behind the mean.
func bySource(w io.Writer, ids []string, train []sentiment.Example, oof []parley.Label, j *judges) error {
	groups := map[string][]int{}
	var names []string
	for i, id := range ids {
		src, _, _ := strings.Cut(id, ":")
		if _, ok := groups[src]; !ok {
			names = append(names, src)
		}
		groups[src] = append(groups[src], i)
	}
	slices.Sort(names)
	fmt.Fprintln(w, "\nout-of-fold macro-recall by source:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "source\tn\tsocial\tvader\t\n")
	for _, src := range names {
		var ex []sentiment.Example
		var preds []parley.Label
		for _, i := range groups[src] {
			ex = append(ex, train[i])
			preds = append(preds, oof[i])
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t\n", src, len(ex), sentiment.ReportFor(ex, preds).MacroRecall, sentiment.Evaluate(j.vader, ex).MacroRecall)
	}
	return tw.Flush()
}

// readIDs reads the "id" of each example line, in order.
func readIDs(dir, name string) ([]string, error) {
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(dir, name)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: the reads report failures
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, err
		}
		ids = append(ids, v.ID)
	}
	return ids, sc.Err()
}

func readFile(dir, name string) ([]sentiment.Example, error) {
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(dir, name)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: the reads report failures
	ex, err := sentiment.ReadExamples(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(ex) == 0 {
		return nil, errors.New(path + ": no examples")
	}
	return ex, nil
}

// assignFolds gives each of n examples a fold in 0..k-1: a seeded shuffle,
// then round robin, so folds differ in size by at most one.
func assignFolds(n, k int, seed uint64) []int {
	perm := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(n)
	folds := make([]int, n)
	for pos, i := range perm {
		folds[i] = pos % k
	}
	return folds
}

// judges are the baselines every model is compared with.
type judges struct {
	vader   parley.Classifier // Parley's VADER (fixed whitespace, emoji, hearts)
	govader parley.Classifier // govader as is
}

func newJudges() *judges {
	return &judges{vader: sentiment.NewVader(), govader: govaderClassifier{govader.NewSentimentIntensityAnalyzer()}}
}

type row struct {
	social, vader, govader       float64
	emojiN                       int
	emSocial, emVader, emGovader float64
}

func (r row) values() []float64 {
	return []float64{r.social, r.vader, r.govader, r.emSocial, r.emVader, r.emGovader}
}

func (r row) String() string {
	return fmt.Sprintf("%7.3f %7.3f %8.3f | %7d %7.3f %7.3f %8.3f", r.social, r.vader, r.govader, r.emojiN, r.emSocial, r.emVader, r.emGovader)
}

func (j *judges) row(m parley.Classifier, ex []sentiment.Example) row {
	r := row{
		social:  sentiment.Evaluate(m, ex).MacroRecall,
		vader:   sentiment.Evaluate(j.vader, ex).MacroRecall,
		govader: sentiment.Evaluate(j.govader, ex).MacroRecall,
	}
	em := emojiSlice(ex)
	r.emojiN = len(em)
	if len(em) > 0 {
		r.emSocial = sentiment.Evaluate(m, em).MacroRecall
		r.emVader = sentiment.Evaluate(j.vader, em).MacroRecall
		r.emGovader = sentiment.Evaluate(j.govader, em).MacroRecall
	}
	return r
}

// govaderClassifier is VADER exactly as govader computes it, for reference.
type govaderClassifier struct {
	sia *govader.SentimentIntensityAnalyzer
}

func (g govaderClassifier) Name() string { return "govader" }

func (g govaderClassifier) Classify(text string) parley.Sentiment {
	c := g.sia.PolarityScores(text).Compound
	switch {
	case c >= 0.05:
		return parley.Sentiment{Label: parley.Positive, Score: c}
	case c <= -0.05:
		return parley.Sentiment{Label: parley.Negative, Score: c}
	}
	return parley.Sentiment{Label: parley.Neutral, Score: c}
}

// emoticonEmoji maps emoticons to the emoji people now type instead. The
// data has no emoji, so its posts with emoticons, rewritten, stand in for
// emoji-heavy posts.
var emoticonEmoji = []struct{ from, to string }{
	{":'(", "😢"}, {":-)", "🙂"}, {":-(", "😞"}, {":-D", "😀"}, {":-P", "😛"}, {":-p", "😛"},
	{";-)", "😉"}, {":-/", "😕"}, {"</3", "💔"}, {"<3", "❤️"}, {":)", "🙂"}, {"(:", "🙂"},
	{"=)", "🙂"}, {":D", "😀"}, {"xD", "😆"}, {"XD", "😆"}, {";)", "😉"}, {":(", "😞"},
	{"):", "😞"}, {":P", "😛"}, {":p", "😛"}, {":/", "😕"}, {":|", "😐"}, {":*", "😘"},
}

// emojiSlice returns the examples holding an emoticon, with every emoticon
// replaced by its emoji. URLs are left alone (":/" in "http://").
func emojiSlice(ex []sentiment.Example) []sentiment.Example {
	var out []sentiment.Example
	for _, e := range ex {
		t := strings.ReplaceAll(e.Text, "&lt;", "<")
		changed := false
		words := strings.Split(t, " ")
		for i, w := range words {
			if strings.Contains(w, "://") {
				continue
			}
			for _, m := range emoticonEmoji {
				if m.from[0] == 'x' || m.from[0] == 'X' {
					if w == m.from {
						w = m.to
						changed = true
					}
					continue
				}
				if strings.Contains(w, m.from) {
					w = strings.ReplaceAll(w, m.from, m.to)
					changed = true
				}
			}
			words[i] = w
		}
		if changed {
			out = append(out, sentiment.Example{Text: strings.Join(words, " "), Label: e.Label})
		}
	}
	return out
}
