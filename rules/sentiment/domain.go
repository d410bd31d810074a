package sentiment

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/parleybot/parley"
)

// domainDetector tells two kinds of post apart (tweets from chat comments,
// say) from the model's own features, so that each kind is labelled by the
// calibration fitted on it: the same raw scores do not mean the same in a
// news-like tweet and in a Reddit reply, and one set of decision offsets
// for both holds tweets far under the severe-mistake target.
type domainDetector struct {
	shift uint    // a model feature's bucket >> shift is the detector's
	w     []int16 // weight per bucket: the log-odds of the second kind
	scale float32
	bias  float32
}

// domainHeader describes the detector in the model file; its weights
// follow the model's.
type domainHeader struct {
	// Names of the two kinds, as the training files were called.
	Names []string `json:"names"`
	// Bits: the detector hashes into 2^Bits buckets (at most the model's).
	Bits     int            `json:"bits"`
	Scale    float32        `json:"scale"`
	Bias     float32        `json:"bias"`
	Training map[string]any `json:"training,omitempty"`
}

// DomainBits is the size (log2 buckets) of the detector TrainDomains fits:
// telling the kinds apart needs far fewer weights than sentiment.
const DomainBits = 16

// domain returns the index of the kind of post feats come from (0 or 1).
func (d *domainDetector) domain(feats []feature) int {
	s := float32(0)
	for _, ft := range feats {
		s += ft.val * float32(d.w[ft.idx>>d.shift])
	}
	if s*d.scale+d.bias > 0 {
		return 1
	}
	return 0
}

// TrainDomains fits m's domain detector: a logistic regression on m's
// features telling examples with domain[i] == 0 from those with 1 (names
// are the two kinds), each kind weighted equally. A Calibrate afterwards
// fits a calibration per kind. Deterministic for the same inputs. Errors
// (EINVALID): lengths that differ, not two names, a kind without examples.
func (m *Model) TrainDomains(ex []Example, domain []int, names []string) error {
	if len(ex) != len(domain) || len(names) != 2 {
		return parley.Errorf(parley.EINVALID, "train domains: %d examples, %d domains, %d names: want as many domains as examples and two names", len(ex), len(domain), len(names))
	}
	bits := min(DomainBits, m.hdr.Features.HashBits)
	var counts [2]int
	for _, d := range domain {
		if d != 0 && d != 1 {
			return parley.Errorf(parley.EINVALID, "train domains: domain %d: want 0 or 1", d)
		}
		counts[d]++
	}
	if counts[0] == 0 || counts[1] == 0 {
		return parley.Errorf(parley.EINVALID, "train domains: %d and %d examples of the two kinds: want some of each", counts[0], counts[1])
	}
	shift := uint(m.hdr.Features.HashBits - bits)
	feats := make([][]feature, len(ex))
	var sc scratch
	for i, e := range ex {
		fs := mergeFeatures(m.f.featurize(e.Text, &sc))
		for k := range fs {
			fs[k].idx >>= shift
		}
		feats[i] = mergeFeatures(fs)
	}
	w := make([]float64, 1<<bits)
	g2 := make([]float64, len(w))
	bias, bg2 := 0.0, 0.0
	cw := [2]float64{float64(len(ex)) / (2 * float64(counts[0])), float64(len(ex)) / (2 * float64(counts[1]))}
	const (
		epochs = 5
		lr     = 0.2
		l2     = 1e-6
	)
	r := rand.New(rand.NewPCG(7, 0xd0))
	for range epochs {
		for _, i := range r.Perm(len(ex)) {
			s := bias
			for _, ft := range feats[i] {
				s += float64(ft.val) * w[ft.idx]
			}
			g := (1/(1+math.Exp(-s)) - float64(domain[i])) * cw[domain[i]]
			for _, ft := range feats[i] {
				gi := g*float64(ft.val) + l2*w[ft.idx]
				g2[ft.idx] += gi * gi
				w[ft.idx] -= lr * gi / math.Sqrt(g2[ft.idx]+1e-8)
			}
			bg2 += g * g
			bias -= lr * g / math.Sqrt(bg2+1e-8)
		}
	}
	maxAbs := 0.0
	for _, v := range w {
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	scale := 1.0
	if maxAbs > 0 {
		scale = maxAbs / 32767
	}
	d := &domainDetector{shift: shift, w: make([]int16, len(w)), scale: float32(scale), bias: float32(bias)}
	for i, v := range w {
		d.w[i] = int16(math.Round(v / scale))
	}
	// feats are already in the detector's buckets: read them unshifted.
	check := domainDetector{w: d.w, scale: d.scale, bias: d.bias}
	right := 0
	for i := range ex {
		if check.domain(feats[i]) == domain[i] {
			right++
		}
	}
	m.dom = d
	m.hdr.Format = modelFormatSections
	m.hdr.Domains = &domainHeader{Names: append([]string(nil), names...), Bits: bits, Scale: d.scale, Bias: d.bias,
		Training: map[string]any{"examples": len(ex), "epochs": epochs, "training_accuracy": math.Round(1e4*float64(right)/float64(len(ex))) / 1e4}}
	return nil
}

// Domain returns the kind of post the model takes text for (one of the
// names its detector was trained with), or "" if it has no detector.
func (m *Model) Domain(text string) string {
	if m.dom == nil {
		return ""
	}
	sc, _ := m.pool.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	d := m.dom.domain(m.f.featurize(text, sc))
	m.pool.Put(sc)
	return m.hdr.Domains.Names[d]
}

// domainCalibrations fits a calibration for each kind of post, on the
// held-out examples the detector assigns to it (as it will at use).
func domainCalibrations(names []string, z, off [][3]float64, y, dom []int, maxSevere, marginZ float64) ([]DomainCalibration, error) {
	out := make([]DomainCalibration, len(names))
	for d, name := range names {
		var zd, od [][3]float64
		var yd, set []int
		var counts [3]int
		for i := range z {
			if dom[i] == d {
				zd, od, yd, set = append(zd, z[i]), append(od, off[i]), append(yd, y[i]), append(set, 0)
				counts[y[i]]++
			}
		}
		for c, n := range counts {
			if n < minCalibrationPerClass {
				return nil, parley.Errorf(parley.EINVALID, "calibrate sentiment model for %s posts: %d %s examples, want at least %d", name, n, parley.Labels[c], minCalibrationPerClass)
			}
		}
		cal := fitScale(zd, od, yd)
		cal.Decision, cal.PolarGap = fitDecision(&cal, zd, od, yd, set, 1, maxSevere, marginZ)
		out[d] = DomainCalibration{Name: name, Scale: cal.Scale, Bias: cal.Bias, Decision: cal.Decision, PolarGap: cal.PolarGap, Examples: len(zd)}
	}
	return out, nil
}

// DomainCalibration is the calibration of one kind of post (see
// Calibration.Domains).
type DomainCalibration struct {
	Name     string     `json:"name"`
	Scale    float64    `json:"scale"`
	Bias     [3]float64 `json:"bias"`
	Decision [3]float64 `json:"decision"`
	PolarGap float64    `json:"polar_gap,omitempty"`
	Examples int        `json:"examples"`
}

func (d DomainCalibration) String() string {
	return fmt.Sprintf("%s: scale %.3f, bias %.3f/%.3f/%.3f, decision %.2f/%.2f/%.2f, polar gap %.1f, %d examples",
		d.Name, d.Scale, d.Bias[0], d.Bias[1], d.Bias[2], d.Decision[0], d.Decision[1], d.Decision[2], d.PolarGap, d.Examples)
}
