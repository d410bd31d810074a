package sentiment

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/parleybot/parley"
)

// DeepConfig controls TrainDeep: a small network in the style of
// fastText, over the linear model's own features, whose class scores are
// added to the linear model's. Each feature has an embedding (features
// share DeepConfig.Bits buckets); a post's embeddings are summed (scaled
// by one over the square root of their number), go through one hidden
// layer of rectified units, then to the three class scores. The linear
// model sees each word on its own; the hidden layer sees combinations
// ("not" with "bad", praise in a complaint thread), which is what the two
// kinds of post disagree on.
type DeepConfig struct {
	// Bits: the embedding table has 2^Bits rows (at most the model's
	// HashBits).
	Bits int `json:"bits"`
	// Dim is the embedding size, Hidden the hidden layer's.
	Dim    int `json:"dim"`
	Hidden int `json:"hidden"`
	// Epochs over the examples, by stochastic gradient descent from rate
	// LearningRate down to 0, class-weighted as TrainConfig.ClassWeight 1.
	Epochs       int     `json:"epochs"`
	LearningRate float64 `json:"learning_rate"`
	// Weight multiplies the network's scores before they are added to the
	// linear model's.
	Weight float64 `json:"weight"`
	// Seed fixes the initial weights and the order of the examples.
	Seed uint64 `json:"seed"`
}

// DefaultDeepConfig is the network shipped in the model: 2 MB of
// embeddings, chosen on the held-out share of the training files.
var DefaultDeepConfig = DeepConfig{Bits: 17, Dim: 16, Hidden: 32, Epochs: 3, LearningRate: 0.03, Weight: 1, Seed: 3}

// Validate reports a configuration TrainDeep cannot use.
func (c DeepConfig) Validate() error {
	switch {
	case c.Bits < 4 || c.Bits > 24:
		return fmt.Errorf("deep bits %d: want 4..24", c.Bits)
	case c.Dim < 1 || c.Dim > 256 || c.Hidden < 1 || c.Hidden > 1024:
		return fmt.Errorf("deep dim %d, hidden %d: want 1..256 and 1..1024", c.Dim, c.Hidden)
	case c.Epochs < 1 || c.Epochs > 100:
		return fmt.Errorf("deep epochs %d: want 1..100", c.Epochs)
	case !(c.LearningRate > 0 && c.LearningRate < 10):
		return fmt.Errorf("deep learning rate %v: want 0 < rate < 10", c.LearningRate)
	case !(c.Weight > 0 && c.Weight <= 10):
		return fmt.Errorf("deep weight %v: want 0 < weight <= 10", c.Weight)
	}
	return nil
}

// deepHeader is the network in the model file: the small layers are in
// the JSON header, the embeddings (int8, times EmbedScale) follow the
// other weights.
type deepHeader struct {
	Config     DeepConfig `json:"config"`
	EmbedScale float32    `json:"embed_scale"`
	W1         []float32  `json:"w1"` // Hidden rows of Dim
	B1         []float32  `json:"b1"`
	W2         []float32  `json:"w2"` // 3 rows of Hidden
	B2         [3]float32 `json:"b2"`
}

// deepNet is a trained network, read-only and safe for concurrent use.
type deepNet struct {
	hdr   *deepHeader
	shift uint // a model feature's bucket >> shift is its embedding row
	emb   []int8
}

// maxDeepWidth bounds Dim and Hidden so the forward pass needs no heap.
const maxDeepWidth = 1024

// scores returns the network's class scores (times its weight) for a
// post's features.
func (n *deepNet) scores(feats []feature) [3]float32 {
	c := &n.hdr.Config
	var h0buf, h1buf [maxDeepWidth]float32
	h0, h1 := h0buf[:c.Dim], h1buf[:c.Hidden]
	norm := n.hdr.EmbedScale / float32(math.Sqrt(float64(len(feats))+1))
	for _, ft := range feats {
		e := n.emb[int(ft.idx>>n.shift)*c.Dim:][:c.Dim]
		v := ft.val * norm
		for k, q := range e {
			h0[k] += v * float32(q)
		}
	}
	return n.hdr.output(h0, h1)
}

// output runs the hidden and output layers on the summed embeddings h0,
// leaving the hidden activations in h1.
func (h *deepHeader) output(h0, h1 []float32) [3]float32 {
	d := len(h0)
	for j := range h1 {
		s := h.B1[j]
		for k, w := range h.W1[j*d : (j+1)*d] {
			s += w * h0[k]
		}
		h1[j] = max(s, 0)
	}
	var z [3]float32
	for c := range z {
		s := h.B2[c]
		for j, w := range h.W2[c*len(h1) : (c+1)*len(h1)] {
			s += w * h1[j]
		}
		z[c] = s * float32(h.Config.Weight)
	}
	return z
}

// TrainDeep fits m's network (see DeepConfig) on examples, with the
// linear weights as they are; Calibrate afterwards so the calibration sees
// the sum. Deterministic for the same inputs and config. Errors
// (EINVALID): a bad config, no examples, a bad label.
func (m *Model) TrainDeep(ex []Example, cfg DeepConfig) error {
	if err := cfg.Validate(); err != nil {
		return parley.Errorf(parley.EINVALID, "train sentiment network: %w", err)
	}
	if cfg.Bits > m.hdr.Features.HashBits {
		return parley.Errorf(parley.EINVALID, "train sentiment network: %d bits, more than the model's %d", cfg.Bits, m.hdr.Features.HashBits)
	}
	if len(ex) == 0 {
		return parley.Errorf(parley.EINVALID, "train sentiment network: no examples")
	}
	shift := uint(m.hdr.Features.HashBits - cfg.Bits)
	feats := make([][]feature, len(ex))
	ys := make([]int, len(ex))
	var counts [3]int
	var sc scratch
	for i, e := range ex {
		if ys[i] = labelIndex(e.Label); ys[i] < 0 {
			return parley.Errorf(parley.EINVALID, "train sentiment network: example %d: label %q", i+1, e.Label)
		}
		counts[ys[i]]++
		// Not merged: the sum is the same, and the count that scales it
		// must be the one Classify sees.
		feats[i] = append([]feature(nil), m.f.featurize(e.Text, &sc)...)
	}
	var cw [3]float32
	for c := range cw {
		if counts[c] > 0 {
			cw[c] = float32(float64(len(ex)) / (3 * float64(counts[c])))
		}
	}
	t := newDeepTrainer(cfg, rand.New(rand.NewPCG(cfg.Seed, 0xdee9)))
	total := cfg.Epochs * len(ex)
	for ep := 0; ep < cfg.Epochs; ep++ {
		for _, i := range t.r.Perm(len(ex)) {
			lr := float32(cfg.LearningRate * (1 - float64(t.step)/float64(total)))
			t.step++
			t.example(feats[i], shift, ys[i], cw[ys[i]], lr)
		}
	}
	m.deep = t.quantize(shift)
	m.hdr.Deep = m.deep.hdr
	m.hdr.Format = modelFormatSections
	return nil
}

// deepTrainer holds the network in float32 while it learns.
type deepTrainer struct {
	cfg              DeepConfig
	r                *rand.Rand
	step             int
	emb              []float32
	h                deepHeader
	h0, h1, gh0, gh1 []float32
}

func newDeepTrainer(cfg DeepConfig, r *rand.Rand) *deepTrainer {
	d, hd := cfg.Dim, cfg.Hidden
	t := &deepTrainer{cfg: cfg, r: r, emb: make([]float32, (1<<cfg.Bits)*d),
		h:  deepHeader{Config: cfg, W1: make([]float32, hd*d), B1: make([]float32, hd), W2: make([]float32, 3*hd)},
		h0: make([]float32, d), h1: make([]float32, hd), gh0: make([]float32, d), gh1: make([]float32, hd)}
	t.h.Config.Weight = 1 // while training; the real weight is set on quantizing
	for i := range t.emb {
		t.emb[i] = float32((r.Float64()*2 - 1) * 0.1)
	}
	for i := range t.h.W1 {
		t.h.W1[i] = float32(r.NormFloat64() * math.Sqrt(2/float64(d)))
	}
	for i := range t.h.W2 {
		t.h.W2[i] = float32(r.NormFloat64() * math.Sqrt(1/float64(hd)))
	}
	return t
}

// example takes one gradient step on one post (class y, weight wt).
func (t *deepTrainer) example(fs []feature, shift uint, y int, wt, lr float32) {
	d, hd := t.cfg.Dim, t.cfg.Hidden
	clear(t.h0)
	norm := float32(1 / math.Sqrt(float64(len(fs))+1))
	for _, ft := range fs {
		e := t.emb[int(ft.idx>>shift)*d:][:d]
		v := ft.val * norm
		for k := range t.h0 {
			t.h0[k] += v * e[k]
		}
	}
	z := t.h.output(t.h0, t.h1)
	p := softmax([3]float64{float64(z[0]), float64(z[1]), float64(z[2])})
	var gz [3]float32
	for c := range gz {
		gz[c] = float32(p[c]) * wt
	}
	gz[y] -= wt
	clear(t.gh1)
	for c := 0; c < 3; c++ {
		w := t.h.W2[c*hd:][:hd]
		for j := range w {
			t.gh1[j] += gz[c] * w[j]
			w[j] -= lr * gz[c] * t.h1[j]
		}
		t.h.B2[c] -= lr * gz[c]
	}
	clear(t.gh0)
	for j := 0; j < hd; j++ {
		if t.h1[j] <= 0 {
			continue
		}
		g := t.gh1[j]
		w := t.h.W1[j*d:][:d]
		for k := range w {
			t.gh0[k] += g * w[k]
			w[k] -= lr * g * t.h0[k]
		}
		t.h.B1[j] -= lr * g
	}
	for _, ft := range fs {
		e := t.emb[int(ft.idx>>shift)*d:][:d]
		v := ft.val * norm * lr
		for k := range e {
			e[k] -= v * t.gh0[k]
		}
	}
}

// quantize turns the embeddings into int8 (one scale for the table).
func (t *deepTrainer) quantize(shift uint) *deepNet {
	maxAbs := 0.0
	for _, v := range t.emb {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	scale := 1.0
	if maxAbs > 0 {
		scale = maxAbs / 127
	}
	n := &deepNet{shift: shift, emb: make([]int8, len(t.emb))}
	for i, v := range t.emb {
		n.emb[i] = int8(math.Round(float64(v) / scale))
	}
	h := t.h
	h.Config = t.cfg
	h.EmbedScale = float32(scale)
	n.hdr = &h
	return n
}

// checkDeep reports a network header LoadModel cannot use.
func checkDeep(h *deepHeader, hashBits int) error {
	c := h.Config
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Bits > hashBits || c.Dim > maxDeepWidth || c.Hidden > maxDeepWidth ||
		len(h.W1) != c.Dim*c.Hidden || len(h.B1) != c.Hidden || len(h.W2) != 3*c.Hidden {
		return fmt.Errorf("network layers do not match its config %+v", c)
	}
	return nil
}
