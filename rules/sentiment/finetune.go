package sentiment

import (
	"math"
	"runtime"
	"strings"

	"github.com/parleybot/parley"
)

// FineTuneConfig controls FineTune.
type FineTuneConfig struct {
	// Name of the new model (recorded in each verdict); "" keeps the
	// base model's name with "+corrections".
	Name string
	// Weight counts each correction this many times (an example's own
	// Weight multiplies it); 0 means 1.
	Weight float64
	// L2 holds the new weights near the base model's: the larger, the less
	// the corrections move it; 0 means 0.05.
	L2 float64
	// Iterations bounds the L-BFGS iterations; 0 means 60.
	Iterations int
}

// FineTune returns a copy of base with its weights moved to agree with
// corrections (labelled posts, usually a brand's own corrections of the
// model): the change to every weight the corrections touch is fitted by
// L-BFGS on their log loss, held near zero by an L2 penalty, so the rest
// of what the base model knows stays. The biases and the calibration are
// the base model's. No training data beyond the corrections is needed,
// so it works from the model embedded in the binary. Errors (EINVALID):
// no corrections, a bad label.
func FineTune(base *Model, corrections []Example, cfg FineTuneConfig) (*Model, error) {
	if len(corrections) == 0 {
		return nil, parley.Errorf(parley.EINVALID, "fine-tune sentiment model: no corrections")
	}
	if cfg.Weight <= 0 {
		cfg.Weight = 1
	}
	if cfg.L2 <= 0 {
		cfg.L2 = 0.05
	}
	if cfg.Iterations <= 0 {
		cfg.Iterations = 60
	}
	if cfg.Name == "" {
		cfg.Name = base.hdr.Name + "+corrections"
	}
	ex := make([]Example, len(corrections))
	for i, c := range corrections {
		ex[i] = c
		ex[i].Weight = cfg.Weight
		if c.Weight > 0 {
			ex[i].Weight *= c.Weight
		}
	}
	workers := runtime.GOMAXPROCS(0)
	ds, err := buildDataset(base.f, ex, 0, workers)
	if err != nil {
		return nil, err
	}
	ds.fixedBias = true
	// The dense features (VADER scores, style) are in every post: moving
	// them for a few corrections would move every verdict.
	frozen := map[uint32]bool{}
	for _, b := range base.f.dense {
		frozen[b] = true
	}
	// So are the features of the common English words ("the", "is", "as
	// heck"): a few corrections would teach them a sentiment they lack.
	var sc scratch
	for _, e := range ex {
		kept := map[uint32]bool{}
		for _, ft := range base.f.featurize(withoutStopwords(e.Text), &sc) {
			kept[ft.idx] = true
		}
		for _, ft := range base.f.featurize(e.Text, &sc) {
			if !kept[ft.idx] {
				frozen[ft.idx] = true
			}
		}
	}
	ds.frozen = make([]bool, len(ds.buckets))
	for j, b := range ds.buckets {
		ds.frozen[j] = frozen[b]
	}
	// The changes are learnt on the scale the verdicts are decided on: the
	// calibrated scores plus the decision offsets, so a correction comes
	// out with its label however much the calibration shrinks the raw
	// scores; each change is then divided by the calibration's scale.
	ds.offset = make([][3]float64, len(ex))
	scale := 1.0
	if c := base.hdr.Calibration; c != nil && c.Scale > 0 {
		scale = c.Scale
	}
	for i, e := range ex {
		z, d := base.scores(e.Text)
		if c := base.hdr.Calibration.forDomain(d); c != nil {
			for k := range z {
				z[k] = c.Scale*z[k] + c.Bias[k] + c.Decision[k]
			}
		}
		ds.offset[i] = z
	}
	x := make([]float64, 3*len(ds.buckets)+3)
	lbfgs(&objective{ds: ds, l2: cfg.L2, workers: workers}, x, cfg.Iterations, 10)

	m := &Model{f: base.f, hdr: base.hdr, scale: base.scale, bias: base.bias, w: append([]int16(nil), base.w...), dom: base.dom, deep: base.deep}
	m.hdr.Name = cfg.Name
	if base.hdr.Calibration != nil {
		c := *base.hdr.Calibration
		m.hdr.Calibration = &c
	}
	changed := 0
	for j, b := range ds.buckets {
		for c := 0; c < 3; c++ {
			i := int(b)*3 + c
			v := float64(m.w[i]) + math.Round(x[3*j+c]/scale/float64(m.scale))
			v = math.Max(math.MinInt16, math.Min(math.MaxInt16, v))
			if int16(v) != m.w[i] {
				changed++
			}
			m.w[i] = int16(v)
		}
	}
	m.hdr.Training = map[string]any{
		"base":            base.hdr.Name,
		"fine_tuned_on":   len(ex),
		"weight":          cfg.Weight,
		"l2":              cfg.L2,
		"iterations":      cfg.Iterations,
		"weights_changed": changed,
	}
	return m, nil
}

// withoutStopwords returns text without its common English words.
func withoutStopwords(text string) string {
	var b strings.Builder
	prev := 0
	for _, t := range lexTokens(text) {
		if stopwordLangs[t.text]&1 != 0 { // stopwords[0] is English
			b.WriteString(text[prev:t.start])
			prev = t.end
		}
	}
	b.WriteString(text[prev:])
	return b.String()
}

// BaseModel returns the trained model New would use for name, to fine-tune
// it: the embedded model for "", "default" and "social", or a model file.
// VADER has no weights to tune (EINVALID).
func BaseModel(name string) (*Model, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", ModelDefault, ModelSocial:
		m, err := DefaultModel()
		if err != nil {
			return nil, parley.Errorf(parley.EINTERNAL, "sentiment model %q: %w", ModelSocial, err)
		}
		return m, nil
	case ModelVader:
		return nil, parley.Errorf(parley.EINVALID, "sentiment model %q has no weights to retrain: use %q or a model file", ModelVader, ModelDefault)
	}
	if !IsModelFile(name) {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model %q: want %s, %s or a model file", name, ModelDefault, ModelSocial)
	}
	return LoadModelFile(name)
}
