package sentiment

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/parleybot/parley"
)

// TrainConfig controls Train.
type TrainConfig struct {
	// Name is recorded in the model and in each verdict.
	Name     string        `json:"name"`
	Features FeatureConfig `json:"features"`
	// L2 is the weight of the L2 penalty (λ/2·|w|²) added to the mean
	// (class-weighted) log loss; the biases are not penalised.
	L2 float64 `json:"l2"`
	// Iterations bounds the L-BFGS iterations.
	Iterations int `json:"iterations"`
	// Memory is the L-BFGS history length.
	Memory int `json:"memory"`
	// ClassWeight weights each example by (n/(3·n_class))^ClassWeight:
	// 0 is no weighting, 1 balances the classes (which serves
	// macro-averaged recall).
	ClassWeight float64 `json:"class_weight"`
	// Workers computes the gradient in that many goroutines (0: one per
	// CPU). The result does not depend on it.
	Workers int `json:"-"`
}

// DefaultTrainConfig is the configuration the shipped model is trained with.
var DefaultTrainConfig = TrainConfig{
	Name:        ModelSocial,
	Features:    DefaultFeatureConfig,
	L2:          1e-3,
	Iterations:  150,
	Memory:      10,
	ClassWeight: 1,
}

// Validate reports a configuration Train cannot use.
func (c TrainConfig) Validate() error {
	if err := c.Features.Validate(); err != nil {
		return err
	}
	switch {
	case c.Name == "":
		return fmt.Errorf("name is empty")
	case c.L2 < 0 || math.IsNaN(c.L2):
		return fmt.Errorf("l2 %v: want >= 0", c.L2)
	case c.Iterations < 1:
		return fmt.Errorf("iterations %d: want >= 1", c.Iterations)
	case c.Memory < 1:
		return fmt.Errorf("memory %d: want >= 1", c.Memory)
	case c.ClassWeight < 0 || c.ClassWeight > 2 || math.IsNaN(c.ClassWeight):
		return fmt.Errorf("class_weight %v: want 0..2", c.ClassWeight)
	}
	return nil
}

// Train fits a model to examples by L-BFGS on the class-weighted,
// L2-penalised multinomial log loss. It is deterministic: the same
// examples (in the same order) and config give the same model. It returns
// an EINVALID error for a bad config, no examples, or an invalid label.
func Train(examples []Example, cfg TrainConfig) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "train sentiment model: %w", err)
	}
	if len(examples) == 0 {
		return nil, parley.Errorf(parley.EINVALID, "train sentiment model: no examples")
	}
	f, err := newFeaturizer(cfg.Features)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "train sentiment model: %w", err)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ds, err := buildDataset(f, examples, cfg.ClassWeight, workers)
	if err != nil {
		return nil, err
	}
	x := make([]float64, 3*len(ds.buckets)+3)
	obj := &objective{ds: ds, l2: cfg.L2, workers: workers}
	lbfgs(obj, x, cfg.Iterations, cfg.Memory)

	m := &Model{f: f, w: make([]int16, 3<<cfg.Features.HashBits)}
	maxAbs := 0.0
	for _, v := range x[:len(x)-3] {
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	scale := 1.0
	if maxAbs > 0 {
		scale = maxAbs / 32767
	}
	for j, b := range ds.buckets {
		for c := 0; c < 3; c++ {
			m.w[int(b)*3+c] = int16(math.Round(x[3*j+c] / scale))
		}
	}
	m.scale = float32(scale)
	for c := 0; c < 3; c++ {
		m.bias[c] = float32(x[len(x)-3+c])
	}
	m.hdr = modelHeader{
		Format:      modelFormat,
		Name:        cfg.Name,
		Features:    cfg.Features,
		Classes:     append([]parley.Label(nil), parley.Labels...),
		Scale:       m.scale,
		Bias:        m.bias,
		Fingerprint: f.fingerprint(),
		Training: map[string]any{
			"examples":     len(examples),
			"l2":           cfg.L2,
			"iterations":   cfg.Iterations,
			"memory":       cfg.Memory,
			"class_weight": cfg.ClassWeight,
			"buckets_used": len(ds.buckets),
		},
	}
	return m, nil
}

// dataset is the training examples as a compact sparse matrix: feature
// buckets renumbered 0..len(buckets)-1 in bucket order.
type dataset struct {
	off     []int32 // example i's features are idx/val[off[i]:off[i+1]]
	idx     []int32
	val     []float32
	y       []uint8
	weight  []float64 // per example, normalised to sum to 1
	buckets []uint32  // compact id -> hash bucket
	// offset, when set, is each example's raw scores under a base model:
	// the weights learnt are changes to that model's (FineTune).
	offset [][3]float64
	// fixedBias keeps the biases where they start.
	fixedBias bool
	// frozen, when set, marks the compact ids whose weights stay where they
	// start.
	frozen []bool
}

func buildDataset(f *featurizer, examples []Example, classWeight float64, workers int) (*dataset, error) {
	var counts [3]int
	ys := make([]uint8, len(examples))
	for i, ex := range examples {
		c := labelIndex(ex.Label)
		if c < 0 {
			return nil, parley.Errorf(parley.EINVALID, "train sentiment model: example %d: label %q: want negative, neutral or positive", i+1, ex.Label)
		}
		ys[i] = uint8(c)
		counts[c]++
	}
	// Featurize in parallel; each example's features land in its own slot.
	per := make([][]feature, len(examples))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var sc scratch
			for i := w; i < len(examples); i += workers {
				per[i] = mergeFeatures(f.featurize(examples[i].Text, &sc))
			}
		}(w)
	}
	wg.Wait()
	used := make([]int32, 1<<f.cfg.HashBits)
	total := 0
	for _, fs := range per {
		for _, ft := range fs {
			used[ft.idx] = 1
		}
		total += len(fs)
	}
	ds := &dataset{off: make([]int32, 0, len(examples)+1), idx: make([]int32, 0, total), val: make([]float32, 0, total), y: ys}
	for b, u := range used {
		if u != 0 {
			used[b] = int32(len(ds.buckets))
			ds.buckets = append(ds.buckets, uint32(b))
		}
	}
	ds.off = append(ds.off, 0)
	for _, fs := range per {
		for _, ft := range fs {
			ds.idx = append(ds.idx, used[ft.idx])
			ds.val = append(ds.val, ft.val)
		}
		ds.off = append(ds.off, int32(len(ds.idx)))
	}
	var cw [3]float64
	for c := range cw {
		if counts[c] > 0 {
			cw[c] = math.Pow(float64(len(examples))/(3*float64(counts[c])), classWeight)
		}
	}
	ds.weight = make([]float64, len(examples))
	sum := 0.0
	for i, y := range ys {
		w := cw[y]
		if ew := examples[i].Weight; ew > 0 {
			w *= ew
		}
		ds.weight[i] = w
		sum += w
	}
	for i := range ds.weight {
		ds.weight[i] /= sum
	}
	return ds, nil
}

// mergeFeatures returns a copy of fs with features in the same bucket
// summed, in bucket order.
func mergeFeatures(fs []feature) []feature {
	out := append([]feature(nil), fs...)
	sortFeatures(out)
	j := 0
	for i := range out {
		if j > 0 && out[j-1].idx == out[i].idx {
			out[j-1].val += out[i].val
			continue
		}
		out[j] = out[i]
		j++
	}
	return out[:j]
}

func sortFeatures(fs []feature) {
	// Shell sort by idx: deterministic, allocation-free.
	for gap := len(fs) / 2; gap > 0; gap /= 2 {
		for i := gap; i < len(fs); i++ {
			t := fs[i]
			j := i
			for ; j >= gap && fs[j-gap].idx > t.idx; j -= gap {
				fs[j] = fs[j-gap]
			}
			fs[j] = t
		}
	}
}

func labelIndex(l parley.Label) int {
	for i, c := range parley.Labels {
		if c == l {
			return i
		}
	}
	return -1
}

// objective is the class-weighted mean log loss plus the L2 penalty. The
// per-example sums run in float32 (half the memory traffic); the totals
// are float64.
type objective struct {
	ds      *dataset
	l2      float64
	workers int
	xf      []float32
	grads   [][]float32
	losses  []float64
	evals   int
}

// eval returns the objective at x and writes its gradient into g.
func (o *objective) eval(x, g []float64) float64 {
	o.evals++
	if o.grads == nil {
		o.grads = make([][]float32, gradChunks)
		for w := range o.grads {
			o.grads[w] = make([]float32, len(x))
		}
		o.losses = make([]float64, gradChunks)
		o.xf = make([]float32, len(x))
	}
	for j, v := range x {
		o.xf[j] = float32(v)
	}
	nb := len(x) - 3
	// The examples are cut into gradChunks fixed chunks, each summed in
	// its own buffer and the buffers added in order, so the result does
	// not depend on the number of workers.
	var wg sync.WaitGroup
	next := make(chan int, gradChunks)
	for w := 0; w < gradChunks; w++ {
		next <- w
	}
	close(next)
	for range min(o.workers, gradChunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range next {
				o.chunk(w, x, nb)
			}
		}()
	}
	wg.Wait()
	for j := range g {
		g[j] = 0
	}
	loss := 0.0
	for w := 0; w < gradChunks; w++ {
		for j, v := range o.grads[w] {
			g[j] += float64(v)
		}
		loss += o.losses[w]
	}
	if o.ds.frozen != nil {
		for id, f := range o.ds.frozen {
			if f {
				g[3*id], g[3*id+1], g[3*id+2] = 0, 0, 0
			}
		}
	}
	reg := 0.0
	for j := 0; j < nb; j++ {
		reg += x[j] * x[j]
		g[j] += o.l2 * x[j]
	}
	return loss + o.l2/2*reg
}

// gradChunks is the number of example chunks the gradient is summed in.
const gradChunks = 8

// chunk sums the loss and gradient of the w-th chunk of examples into
// o.grads[w] and o.losses[w].
func (o *objective) chunk(w int, x []float64, nb int) {
	ds := o.ds
	n := len(ds.y)
	gw := o.grads[w]
	clear(gw)
	xf := o.xf
	loss := 0.0
	var gb [3]float64
	for i := n * w / gradChunks; i < n*(w+1)/gradChunks; i++ {
		var zf [3]float32
		a, b := ds.off[i], ds.off[i+1]
		idx, val := ds.idx[a:b], ds.val[a:b]
		for k, id := range idx {
			j := int(id) * 3
			v := val[k]
			zf[0] += v * xf[j]
			zf[1] += v * xf[j+1]
			zf[2] += v * xf[j+2]
		}
		z := [3]float64{x[nb] + float64(zf[0]), x[nb+1] + float64(zf[1]), x[nb+2] + float64(zf[2])}
		if ds.offset != nil {
			for c := range z {
				z[c] += ds.offset[i][c]
			}
		}
		p := softmax(z)
		y := ds.y[i]
		wt := ds.weight[i]
		loss -= wt * math.Log(math.Max(p[y], 1e-300))
		p[y]--
		for c := range p {
			p[c] *= wt
			gb[c] += p[c]
		}
		p0, p1, p2 := float32(p[0]), float32(p[1]), float32(p[2])
		for k, id := range idx {
			j := int(id) * 3
			v := val[k]
			gw[j] += v * p0
			gw[j+1] += v * p1
			gw[j+2] += v * p2
		}
	}
	if !ds.fixedBias {
		gw[nb], gw[nb+1], gw[nb+2] = float32(gb[0]), float32(gb[1]), float32(gb[2])
	}
	o.losses[w] = loss
}

// lbfgs minimises obj from x (updated in place) for at most iters
// iterations, with a backtracking (Armijo) line search.
func lbfgs(obj *objective, x []float64, iters, mem int) {
	n := len(x)
	g := make([]float64, n)
	f := obj.eval(x, g)
	s := make([][]float64, 0, mem)
	y := make([][]float64, 0, mem)
	rho := make([]float64, 0, mem)
	alpha := make([]float64, mem)
	d := make([]float64, n)
	xn := make([]float64, n)
	gn := make([]float64, n)
	for it := 0; it < iters; it++ {
		// Two-loop recursion: d = -H g.
		for i := range d {
			d[i] = -g[i]
		}
		for k := len(s) - 1; k >= 0; k-- {
			alpha[k] = rho[k] * dot(s[k], d)
			axpy(-alpha[k], y[k], d)
		}
		if k := len(s) - 1; k >= 0 {
			gamma := dot(s[k], y[k]) / dot(y[k], y[k])
			for i := range d {
				d[i] *= gamma
			}
		}
		for k := 0; k < len(s); k++ {
			beta := rho[k] * dot(y[k], d)
			axpy(alpha[k]-beta, s[k], d)
		}
		gd := dot(g, d)
		if gd >= 0 { // not a descent direction: restart from the gradient
			s, y, rho = s[:0], y[:0], rho[:0]
			for i := range d {
				d[i] = -g[i]
			}
			gd = dot(g, d)
		}
		step := 1.0
		if len(s) == 0 {
			step = 1 / math.Sqrt(dot(g, g)+1e-300)
		}
		var fn float64
		ok := false
		for ls := 0; ls < 30; ls++ {
			for i := range xn {
				xn[i] = x[i] + step*d[i]
			}
			fn = obj.eval(xn, gn)
			if fn <= f+1e-4*step*gd {
				ok = true
				break
			}
			step /= 2
		}
		if !ok {
			return
		}
		var sk, yk []float64
		if len(s) == mem {
			sk, yk = s[0], y[0]
			s, y, rho = s[1:], y[1:], rho[1:]
		} else {
			sk, yk = make([]float64, n), make([]float64, n)
		}
		for i := range sk {
			sk[i] = xn[i] - x[i]
			yk[i] = gn[i] - g[i]
		}
		sy := dot(sk, yk)
		copy(x, xn)
		copy(g, gn)
		conv := math.Abs(f-fn) <= 1e-9*math.Max(1, math.Abs(f))
		f = fn
		if sy > 1e-12 {
			s, y, rho = append(s, sk), append(y, yk), append(rho, 1/sy)
		}
		if conv {
			return
		}
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}
