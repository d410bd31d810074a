package sentiment

import (
	"fmt"
	"math"

	"github.com/parleybot/parley"
)

// Calibration turns a model's raw class scores into probabilities that
// mean what they say (a stated 0.9 is right about nine times in ten) and
// chooses the label from them. It is fitted on examples the model was not
// trained on (Calibrate) and stored in the model file.
type Calibration struct {
	// Scale multiplies the raw scores (one over the temperature) and Bias
	// is added per class (negative, neutral, positive) before the softmax;
	// both minimise the log loss on the held-out examples.
	Scale float64    `json:"scale"`
	Bias  [3]float64 `json:"bias"`
	// Decision is added to each class's log-probability to choose the
	// label. A negative value asks for more evidence before that label:
	// an unsure post is called neutral rather than risk thanking an angry
	// customer or apologising to a fan. It moves the label, never the
	// probabilities, so the confidence stays honest.
	Decision [3]float64 `json:"decision"`
	// PolarGap, when above 0, is the least log-odds of the label chosen
	// over the opposite one (negative over positive, or the reverse);
	// a post read as both praise and complaint with less between them is
	// called neutral. Severe mistakes are the posts the model cannot tell
	// praise from complaint: the gap catches those without asking every
	// post for more evidence against neutral.
	PolarGap float64 `json:"polar_gap,omitempty"`
	// Examples is how many held-out examples it was fitted on.
	Examples int `json:"examples"`
	// MaxSevere is the severe-mistake rate the decision offsets were
	// chosen to stay under on those examples.
	MaxSevere float64 `json:"max_severe"`
	// MarginZ is how many standard errors of each severe-mistake rate
	// (its sampling noise on the held-out examples) were added to the rate
	// before comparing it with MaxSevere, so that new posts stay under it
	// too and not only the held-out ones.
	MarginZ float64 `json:"margin_z,omitempty"`
	// Domains, when the model has a domain detector, replace Scale, Bias
	// and Decision for each kind of post it detects, in the detector's
	// order; each is fitted on the held-out posts detected as that kind.
	Domains []DomainCalibration `json:"domains,omitempty"`
}

// forDomain returns the calibration for posts of kind d: c itself unless
// c has one per kind.
func (c *Calibration) forDomain(d int) *Calibration {
	if c == nil || d >= len(c.Domains) {
		return c
	}
	dc := c.Domains[d]
	return &Calibration{Scale: dc.Scale, Bias: dc.Bias, Decision: dc.Decision, PolarGap: dc.PolarGap, Examples: dc.Examples, MaxSevere: c.MaxSevere}
}

// probabilities returns the calibrated class probabilities for raw
// scores z; a nil c is the plain softmax.
func (c *Calibration) probabilities(z [3]float64) [3]float64 {
	if c == nil {
		return softmax(z)
	}
	for k := range z {
		z[k] = c.Scale*z[k] + c.Bias[k]
	}
	return softmax(z)
}

// probabilitiesOff is probabilities with off added to the calibrated
// scores: a lexicon's evidence, which verdict adds after the scaling.
func (c *Calibration) probabilitiesOff(z, off [3]float64) [3]float64 {
	if c != nil {
		for k := range z {
			z[k] = c.Scale*z[k] + c.Bias[k]
		}
	}
	for k := range z {
		z[k] += off[k]
	}
	return softmax(z)
}

// offAt is off[i], or none when off is nil.
func offAt(off [][3]float64, i int) [3]float64 {
	if off == nil {
		return [3]float64{}
	}
	return off[i]
}

// CalibrateOptions say what Calibrate aims at.
type CalibrateOptions struct {
	// MaxSevere is the target for each severe-mistake rate.
	MaxSevere float64
	// MarginZ adds that many standard errors to each measured rate before
	// the comparison (see Calibration.MarginZ); 0 compares the rates as
	// measured.
	MarginZ float64
	// Slang is applied on top of the model as New applies SlangLexicon
	// (see withLexicons), so that the verdicts calibrated are the ones
	// rules will see.
	Slang Lexicon
}

// lexCapture stands in for a model under a lexicon: it records the text
// the lexicon hands on and the valence it adds.
type lexCapture struct {
	m     *Model
	text  string
	z     [3]float64
	d     int
	shift float64
}

func (c *lexCapture) Name() string { return "" }

func (c *lexCapture) Classify(text string) parley.Sentiment {
	c.text, c.shift = text, 0
	c.z, c.d = c.m.scores(text)
	return parley.Sentiment{}
}

func (c *lexCapture) classifyShifted(text string, hard, soft float64) (parley.Sentiment, bool) {
	c.text = text
	c.z, c.d = c.m.scores(text)
	var counted bool
	c.shift, counted = softShift(c.z, hard, soft)
	return parley.Sentiment{}, counted
}

// decide returns the index of the label for probabilities p.
func (c *Calibration) decide(p [3]float64) int {
	var logp [3]float64
	for k := range p {
		logp[k] = math.Log(math.Max(p[k], 1e-300))
	}
	if c == nil {
		return decideLog(logp, [3]float64{}, 0)
	}
	return decideLog(logp, c.Decision, c.PolarGap)
}

// decideLog picks the label for log-probabilities logp: the largest
// logp[k]+d[k], unless that is negative or positive by less than gap
// (when gap > 0) over the opposite label, which makes it neutral.
func decideLog(logp, d [3]float64, gap float64) int {
	best := 1
	if v := logp[0] + d[0]; v > logp[best]+d[best] {
		best = 0
	}
	if v := logp[2] + d[2]; v > logp[best]+d[best] {
		best = 2
	}
	if gap > 0 && best != 1 && logp[best]-logp[2-best] < gap {
		return 1
	}
	return best
}

// Calibrate fits m's calibration on held-out examples (ones m was not
// trained on), in one or more sets (one per kind of post, say tweets and
// Reddit comments): first the scale and class biases by log loss on all
// of them, then the decision offsets that keep both severe mistakes
// (positive called negative, negative called positive, each as a share of
// its class) at or under maxSevere in every set, with the best mean
// macro-averaged recall. When no offsets reach maxSevere it takes those
// with the smallest worst rate. It replaces m's calibration and returns
// it; an error (EINVALID) means too few examples of some class to fit on.
func (m *Model) Calibrate(sets [][]Example, o CalibrateOptions) (Calibration, error) {
	maxSevere, marginZ := o.MaxSevere, o.MarginZ
	var z, off [][3]float64
	var y, set, dom []int
	var counts [3]int
	capture := &lexCapture{m: m}
	lex := withLexicons(capture, o.Slang, nil)
	for si, examples := range sets {
		for _, ex := range examples {
			c := labelIndex(ex.Label)
			if c < 0 {
				continue
			}
			lex.Classify(ex.Text)
			z, dom, off = append(z, capture.z), append(dom, capture.d), append(off, lexiconOffset(capture.shift))
			y = append(y, c)
			set = append(set, si)
			counts[c]++
		}
	}
	for c, n := range counts {
		if n < minCalibrationPerClass {
			return Calibration{}, parley.Errorf(parley.EINVALID, "calibrate sentiment model: %d %s examples, want at least %d", n, parley.Labels[c], minCalibrationPerClass)
		}
	}
	cal := fitScale(z, off, y)
	cal.Examples = len(z)
	cal.MaxSevere, cal.MarginZ = maxSevere, marginZ
	cal.Decision, cal.PolarGap = fitDecision(&cal, z, off, y, set, len(sets), maxSevere, marginZ)
	if m.dom != nil {
		var err error
		if cal.Domains, err = domainCalibrations(m.hdr.Domains.Names, z, off, y, dom, maxSevere, marginZ); err != nil {
			return Calibration{}, err
		}
	}
	m.hdr.Calibration = &cal
	return cal, nil
}

// fitScale minimises the mean log loss of softmax(a·z + b) over a and b
// (b[neutral] = 0) by damped Newton steps: the problem is convex and has
// three parameters.
// off[i] (nil: none) is added after the scaling.
func fitScale(z, off [][3]float64, y []int) Calibration {
	theta := [3]float64{1, 0, 0} // a, b[negative], b[positive]
	loss := func(t [3]float64) float64 {
		s := 0.0
		for i := range z {
			p := softmax(addOff(scaled(z[i], t), offAt(off, i)))
			s -= math.Log(math.Max(p[y[i]], 1e-300))
		}
		return s / float64(len(z))
	}
	f := loss(theta)
	for it := 0; it < 50; it++ {
		var g [3]float64
		var h [3][3]float64
		for i := range z {
			p := softmax(addOff(scaled(z[i], theta), offAt(off, i)))
			// d logit_k / d theta_j
			jac := [3][3]float64{{z[i][0], 1, 0}, {z[i][1], 0, 0}, {z[i][2], 0, 1}}
			r := p
			r[y[i]]--
			for j := 0; j < 3; j++ {
				for k := 0; k < 3; k++ {
					g[j] += jac[k][j] * r[k]
				}
			}
			// H += J^T (diag(p) - p p^T) J
			for a := 0; a < 3; a++ {
				for b := 0; b < 3; b++ {
					s := 0.0
					for k := 0; k < 3; k++ {
						for l := 0; l < 3; l++ {
							cov := -p[k] * p[l]
							if k == l {
								cov += p[k]
							}
							s += jac[k][a] * cov * jac[l][b]
						}
					}
					h[a][b] += s
				}
			}
		}
		n := float64(len(z))
		for a := range g {
			g[a] /= n
			for b := range h[a] {
				h[a][b] /= n
			}
			h[a][a] += 1e-6
		}
		d, ok := solve3(h, g)
		if !ok {
			d = g
		}
		step := 1.0
		improved := false
		for ls := 0; ls < 30; ls++ {
			var t [3]float64
			for j := range t {
				t[j] = theta[j] - step*d[j]
			}
			if fn := loss(t); fn <= f {
				improved = f-fn > 1e-10
				theta, f = t, fn
				break
			}
			step /= 2
		}
		if !improved {
			break
		}
	}
	return Calibration{Scale: theta[0], Bias: [3]float64{theta[1], 0, theta[2]}}
}

func addOff(z, off [3]float64) [3]float64 {
	return [3]float64{z[0] + off[0], z[1] + off[1], z[2] + off[2]}
}

func scaled(z [3]float64, t [3]float64) [3]float64 {
	return [3]float64{t[0]*z[0] + t[1], t[0] * z[1], t[0]*z[2] + t[2]}
}

// solve3 solves h·x = g by Cramer's rule.
func solve3(h [3][3]float64, g [3]float64) ([3]float64, bool) {
	det := func(m [3][3]float64) float64 {
		return m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
			m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
			m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	}
	d := det(h)
	if math.Abs(d) < 1e-18 {
		return g, false
	}
	var x [3]float64
	for j := 0; j < 3; j++ {
		m := h
		for i := 0; i < 3; i++ {
			m[i][j] = g[i]
		}
		x[j] = det(m) / d
	}
	return x, true
}

// fitDecision searches the negative and positive decision offsets (the
// neutral one stays 0) and the polar gap on a grid; set[i] names example
// i's set.
func fitDecision(cal *Calibration, z, off [][3]float64, y, set []int, nsets int, maxSevere, marginZ float64) ([3]float64, float64) {
	logp := make([][3]float64, len(z))
	for i := range z {
		p := cal.probabilitiesOff(z[i], offAt(off, i))
		for k := range p {
			logp[i][k] = math.Log(math.Max(p[k], 1e-300))
		}
	}
	var best *decisionCandidate
	conf := make([][3][3]int, nsets)
	for _, gap := range polarGaps {
		for dn := -3.0; dn <= 1.0001; dn += 0.05 {
			for dp := -3.0; dp <= 1.0001; dp += 0.05 {
				d := [3]float64{dn, 0, dp}
				clear(conf)
				for i := range logp {
					conf[set[i]][y[i]][decideLog(logp[i], d, gap)]++
				}
				c := decisionCandidate{d: d, gap: gap}
				for _, cf := range conf {
					c.recall += macroRecall(cf) / float64(nsets)
					c.worst = math.Max(c.worst, math.Max(rateUpper(cf[2], 0, marginZ), rateUpper(cf[0], 2, marginZ)))
				}
				if best == nil || c.better(best, maxSevere) {
					cc := c
					best = &cc
				}
			}
		}
	}
	return best.d, best.gap
}

// polarGaps are the polar gaps fitDecision tries (0: none).
var polarGaps = []float64{0, 0.5, 1, 1.5, 2, 2.5, 3, 4}

// decisionCandidate is one point of fitDecision's grid and what it
// scores on the held-out examples.
type decisionCandidate struct {
	d             [3]float64
	gap           float64
	recall, worst float64
}

// better prefers candidates within maxSevere, then the smaller worst rate
// (when neither is within), the higher recall, and the smaller offsets
// and gap.
func (a *decisionCandidate) better(b *decisionCandidate, maxSevere float64) bool {
	fa, fb := a.worst <= maxSevere, b.worst <= maxSevere
	switch {
	case fa != fb:
		return fa
	case !fa && math.Abs(a.worst-b.worst) > 1e-9:
		return a.worst < b.worst
	case math.Abs(a.recall-b.recall) > 1e-9:
		return a.recall > b.recall
	}
	return math.Abs(a.d[0])+math.Abs(a.d[2])+a.gap < math.Abs(b.d[0])+math.Abs(b.d[2])+b.gap
}

// macroRecall is the mean recall of a confusion matrix's classes that
// have examples.
func macroRecall(cf [3][3]int) float64 {
	sum, n := 0.0, 0
	for k := range cf {
		if cf[k][0]+cf[k][1]+cf[k][2] > 0 {
			sum += rate(cf[k], k)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// rate is the share of row that went to column k.
func rate(row [3]int, k int) float64 {
	n := row[0] + row[1] + row[2]
	if n == 0 {
		return 0
	}
	return float64(row[k]) / float64(n)
}

// rateUpper is rate(row, k) plus z standard errors of it (binomial, with
// the rate kept at least 1/n so that a clean sample still has a margin).
func rateUpper(row [3]int, k int, z float64) float64 {
	r := rate(row, k)
	n := float64(row[0] + row[1] + row[2])
	if z == 0 || n == 0 {
		return r
	}
	p := math.Max(r, 1/n)
	return r + z*math.Sqrt(p*(1-p)/n)
}

// String describes the calibration in one line.
func (c Calibration) String() string {
	s := fmt.Sprintf("scale %.3f, bias %.3f/%.3f/%.3f, decision %.2f/%.2f/%.2f, polar gap %.1f, fitted on %d examples for severe mistakes <= %.1f%% (margin %.1f standard errors)",
		c.Scale, c.Bias[0], c.Bias[1], c.Bias[2], c.Decision[0], c.Decision[1], c.Decision[2], c.PolarGap, c.Examples, 100*c.MaxSevere, c.MarginZ)
	for _, d := range c.Domains {
		s += "; " + d.String()
	}
	return s
}

// minCalibrationPerClass is the fewest examples of each class Calibrate
// fits on.
const minCalibrationPerClass = 10
