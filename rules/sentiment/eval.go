package sentiment

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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
			Text  *string `json:"text"`
			Label string  `json:"label"`
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
		out = append(out, Example{Text: *raw.Text, Label: l})
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
}

// Evaluate classifies every example with c and compares with its label.
// Examples with an invalid label are skipped.
func Evaluate(c parley.Classifier, examples []Example) Report {
	preds := make([]parley.Label, len(examples))
	for i, ex := range examples {
		preds[i] = c.Classify(ex.Text).Label
	}
	r := ReportFor(examples, preds)
	r.Model = c.Name()
	return r
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
	return r
}

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
	return tw.Flush()
}
