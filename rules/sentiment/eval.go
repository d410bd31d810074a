package sentiment

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/parleybot/parley"
)

// Example is one labelled text, as in the training JSONL format
// ({"text": "...", "label": "negative|neutral|positive"}, other keys
// ignored).
type Example struct {
	Text  string       `json:"text"`
	Label parley.Label `json:"label"`
	// Weight scales the example's share of the training loss (0 means 1):
	// a person's correction can count for more than a crowd label.
	Weight float64 `json:"weight,omitempty"`
}

// maxLine bounds one JSONL line.
const maxLine = 1 << 20

// ReadExamples reads JSONL examples, one object a line; blank lines are
// skipped. An error (code EINVALID) names the line: bad JSON, a missing
// text, or a label other than negative, neutral or positive (any case).
func ReadExamples(r io.Reader) ([]Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var out []Example
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if strings.TrimSpace(string(b)) == "" {
			continue
		}
		var raw struct {
			Text   *string `json:"text"`
			Label  string  `json:"label"`
			Weight float64 `json:"weight"`
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "line %d: %w", line, err)
		}
		if raw.Text == nil {
			return nil, parley.Errorf(parley.EINVALID, "line %d: no \"text\"", line)
		}
		l, err := parley.ParseLabel(raw.Label)
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "line %d: %w", line, err)
		}
		if raw.Weight < 0 || math.IsNaN(raw.Weight) || math.IsInf(raw.Weight, 0) {
			return nil, parley.Errorf(parley.EINVALID, "line %d: weight %v: want a number >= 0", line, raw.Weight)
		}
		out = append(out, Example{Text: *raw.Text, Label: l, Weight: raw.Weight})
	}
	if err := sc.Err(); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "line %d: %w", line+1, err)
	}
	return out, nil
}

// ClassReport holds one class's figures.
type ClassReport struct {
	Label     parley.Label `json:"label"`
	Support   int          `json:"support"` // examples with this true label
	Predicted int          `json:"predicted"`
	Precision float64      `json:"precision"`
	Recall    float64      `json:"recall"`
	F1        float64      `json:"f1"`
}

// Report is a classifier's performance on labelled examples.
type Report struct {
	Model    string  `json:"model"`
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	// MacroRecall is the mean recall over the three classes (SemEval's
	// measure); MacroF1 the mean F1.
	MacroRecall float64 `json:"macro_recall"`
	MacroF1     float64 `json:"macro_f1"`
	// Classes are in parley.Labels order: negative, neutral, positive.
	Classes [3]ClassReport `json:"classes"`
	// Confusion[i][j] counts examples of true class i predicted as j.
	Confusion [3][3]int `json:"confusion"`
	// The severe mistakes, each as a share of its true class: a positive
	// post called negative (the product apologises to a fan) and a
	// negative post called positive (it thanks an angry customer).
	PositiveAsNegative float64 `json:"positive_as_negative"`
	NegativeAsPositive float64 `json:"negative_as_positive"`
	// NegativePrecision is the share of posts called negative that are:
	// how often an apology is owed.
	NegativePrecision float64 `json:"negative_precision"`
	// Reliability bins the verdicts by stated confidence; ECE is the
	// expected calibration error (the mean gap between stated confidence
	// and accuracy, weighted by bin size). Both are empty when the
	// classifier states no confidence.
	Reliability []ReliabilityBin `json:"reliability,omitempty"`
	ECE         float64          `json:"ece"`
}

// ReliabilityBin is one row of a reliability table: the verdicts whose
// confidence lies in [Low, High).
type ReliabilityBin struct {
	Low            float64 `json:"low"`
	High           float64 `json:"high"`
	N              int     `json:"n"`
	MeanConfidence float64 `json:"mean_confidence"`
	Accuracy       float64 `json:"accuracy"`
}

// Evaluate classifies every example with c and compares with its label.
// Examples with an invalid label are skipped.
func Evaluate(c parley.Classifier, examples []Example) Report {
	preds := make([]parley.Label, len(examples))
	conf := make([]float64, len(examples))
	for i, ex := range examples {
		s := c.Classify(ex.Text)
		preds[i], conf[i] = s.Label, s.Confidence
	}
	r := ReportFor(examples, preds)
	r.Model = c.Name()
	r.Reliability, r.ECE = reliability(examples, preds, conf)
	return r
}

// reliabilityEdges are the bin edges of a reliability table: a verdict
// among three classes is at least a third sure.
var reliabilityEdges = []float64{0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0000001}

// reliability bins verdicts by confidence and returns the bins that hold
// any, and the expected calibration error. No confidence at all (every
// one zero) gives no table.
func reliability(examples []Example, preds []parley.Label, conf []float64) ([]ReliabilityBin, float64) {
	bins := make([]ReliabilityBin, len(reliabilityEdges)-1)
	sumConf, correct := make([]float64, len(bins)), make([]int, len(bins))
	total, anyConf := 0, false
	for i, ex := range examples {
		if !ex.Label.Valid() || !preds[i].Valid() {
			continue
		}
		c := math.Max(0, math.Min(1, conf[i]))
		anyConf = anyConf || c > 0
		b := 0
		for b < len(bins)-1 && c >= reliabilityEdges[b+1] {
			b++
		}
		bins[b].N++
		sumConf[b] += c
		if preds[i] == ex.Label {
			correct[b]++
		}
		total++
	}
	if !anyConf || total == 0 {
		return nil, 0
	}
	var out []ReliabilityBin
	ece := 0.0
	for b := range bins {
		if bins[b].N == 0 {
			continue
		}
		bins[b].Low, bins[b].High = reliabilityEdges[b], math.Min(1, reliabilityEdges[b+1])
		bins[b].MeanConfidence = sumConf[b] / float64(bins[b].N)
		bins[b].Accuracy = float64(correct[b]) / float64(bins[b].N)
		ece += float64(bins[b].N) / float64(total) * math.Abs(bins[b].Accuracy-bins[b].MeanConfidence)
		out = append(out, bins[b])
	}
	return out, ece
}

// ReportFor computes a Report from labelled examples and predictions
// (preds[i] for examples[i]); pairs with an invalid label are skipped.
func ReportFor(examples []Example, preds []parley.Label) Report {
	var r Report
	for i, ex := range examples {
		t, p := labelIndex(ex.Label), -1
		if i < len(preds) {
			p = labelIndex(preds[i])
		}
		if t < 0 || p < 0 {
			continue
		}
		r.Confusion[t][p]++
		r.N++
	}
	correct := 0
	for i, l := range parley.Labels {
		cr := ClassReport{Label: l}
		for j := 0; j < 3; j++ {
			cr.Support += r.Confusion[i][j]
			cr.Predicted += r.Confusion[j][i]
		}
		tp := r.Confusion[i][i]
		correct += tp
		if cr.Predicted > 0 {
			cr.Precision = float64(tp) / float64(cr.Predicted)
		}
		if cr.Support > 0 {
			cr.Recall = float64(tp) / float64(cr.Support)
		}
		if cr.Precision+cr.Recall > 0 {
			cr.F1 = 2 * cr.Precision * cr.Recall / (cr.Precision + cr.Recall)
		}
		r.Classes[i] = cr
		r.MacroRecall += cr.Recall / 3
		r.MacroF1 += cr.F1 / 3
	}
	if r.N > 0 {
		r.Accuracy = float64(correct) / float64(r.N)
	}
	if n := r.Classes[2].Support; n > 0 {
		r.PositiveAsNegative = float64(r.Confusion[2][0]) / float64(n)
	}
	if n := r.Classes[0].Support; n > 0 {
		r.NegativeAsPositive = float64(r.Confusion[0][2]) / float64(n)
	}
	r.NegativePrecision = r.Classes[0].Precision
	return r
}

// SevereTarget is the most severe mistakes Parley accepts of its
// classifier on casual social posts: each rate at or under 5%.
const SevereTarget = 0.05

// WriteText prints r as a small table: totals, per-class precision,
// recall and F1, and the confusion matrix.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	if r.Model != "" {
		fmt.Fprintf(tw, "model\t%s\t\n", r.Model)
	}
	fmt.Fprintf(tw, "n\t%d\t\n", r.N)
	fmt.Fprintf(tw, "accuracy\t%.3f\t\n", r.Accuracy)
	fmt.Fprintf(tw, "macro-recall\t%.3f\t\n", r.MacroRecall)
	fmt.Fprintf(tw, "macro-F1\t%.3f\t\n", r.MacroF1)
	fmt.Fprintf(tw, "positive called negative\t%.1f%%\t%s\n", 100*r.PositiveAsNegative, severeMark(r.PositiveAsNegative))
	fmt.Fprintf(tw, "negative called positive\t%.1f%%\t%s\n", 100*r.NegativeAsPositive, severeMark(r.NegativeAsPositive))
	fmt.Fprintf(tw, "negative precision\t%.3f\t\n", r.NegativePrecision)
	fmt.Fprintf(tw, "\t\t\n")
	fmt.Fprintf(tw, "class\tn\tprecision\trecall\tF1\t\n")
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t\n", c.Label, c.Support, c.Precision, c.Recall, c.F1)
	}
	fmt.Fprintf(tw, "\t\t\n")
	fmt.Fprintf(tw, "true \\ predicted\tnegative\tneutral\tpositive\t\n")
	for i, l := range parley.Labels {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", l, r.Confusion[i][0], r.Confusion[i][1], r.Confusion[i][2])
	}
	if len(r.Reliability) > 0 {
		fmt.Fprintf(tw, "\t\t\n")
		fmt.Fprintf(tw, "confidence\tn\tstated\tright\t\n")
		for _, b := range r.Reliability {
			fmt.Fprintf(tw, "%.1f-%.1f\t%d\t%.3f\t%.3f\t\n", b.Low, b.High, b.N, b.MeanConfidence, b.Accuracy)
		}
		fmt.Fprintf(tw, "calibration error (ECE)\t%.3f\t\n", r.ECE)
	}
	return tw.Flush()
}

// severeMark flags a severe-mistake rate above SevereTarget.
func severeMark(rate float64) string {
	if rate > SevereTarget {
		return "  over the 5% target"
	}
	return ""
}
