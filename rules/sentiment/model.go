package sentiment

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/parleybot/parley"
)

// ModelSocial names the trained classifier shipped with Parley.
const ModelSocial = "social"

// Model is a trained linear classifier (multinomial logistic regression)
// over hashed features of a post (see FeatureConfig): words with negation
// scope, bigrams, prefixes, emoticons and emoji, style, and VADER's scores. It implements parley.Classifier for English text and is safe
// for concurrent use. Load one with LoadModel or DefaultModel; make one
// with Train.
type Model struct {
	hdr   modelHeader
	f     *featurizer
	w     []int16 // 3 weights per bucket, in parley.Labels order
	scale float32 // weight = int16 * scale
	bias  [3]float32
	dom   *domainDetector // nil: one calibration for every post
	deep  *deepNet        // nil: the linear model alone
	pool  sync.Pool       // *scratch
}

// modelHeader is the JSON header of a model file.
type modelHeader struct {
	Format   int            `json:"format"`
	Name     string         `json:"name"`
	Features FeatureConfig  `json:"features"`
	Classes  []parley.Label `json:"classes"`
	Scale    float32        `json:"scale"`
	Bias     [3]float32     `json:"bias"`
	// Fingerprint hashes the features of fingerprintTexts when the model
	// was trained: if the feature code changes, it no longer matches.
	Fingerprint string `json:"fingerprint"`
	// Training records how the model was made (data size, settings).
	Training map[string]any `json:"training,omitempty"`
	// Calibration maps raw scores to honest probabilities and labels; a
	// model without one uses the plain softmax and its most probable label.
	Calibration *Calibration `json:"calibration,omitempty"`
	// Domains, when set, describes the detector of the kind of post whose
	// calibration (Calibration.Domains) labels it; format 2.
	Domains *domainHeader `json:"domains,omitempty"`
	// Deep, when set, is a network whose scores add to the linear
	// model's (DeepConfig); format 2.
	Deep *deepHeader `json:"deep,omitempty"`
}

const (
	modelMagic  = "PARLEYSENT"
	modelFormat = 1
	// modelFormatSections may add, after the weights, a domain detector's
	// weights and a network's embeddings, when the header has them.
	modelFormatSections = 2
)

//go:embed model/social.model.gz
var embeddedModel []byte

var (
	defaultModelOnce sync.Once
	defaultModel     *Model
	defaultModelErr  error
)

// DefaultModel returns the model embedded in the binary, loading it on
// first use (tens of milliseconds). The error (code EINTERNAL) means the
// embedded file is corrupt, a build problem.
func DefaultModel() (*Model, error) {
	defaultModelOnce.Do(func() {
		defaultModel, defaultModelErr = LoadModel(bytes.NewReader(embeddedModel))
	})
	return defaultModel, defaultModelErr
}

// Name returns the model's name ("social").
func (m *Model) Name() string { return m.hdr.Name }

// Classify scores text as English. Score is P(positive) - P(negative);
// Label is chosen by the model's calibration (the most probable class,
// unless the calibration asks for more evidence before calling a post
// negative or positive) and Confidence is the calibrated probability of
// that label.
func (m *Model) Classify(text string) parley.Sentiment {
	z, d := m.scores(text)
	return m.verdict(z, d, 0)
}

func (m *Model) classifyShifted(text string, hard, soft float64) (parley.Sentiment, bool) {
	z, d := m.scores(text)
	shift, counted := softShift(z, hard, soft)
	s := m.verdict(z, d, shift)
	if soft == 0 || counted {
		return s, counted
	}
	// The slang is against the model's reading of the rest of the post.
	switch {
	case s.Label == parley.Neutral:
		// The rest is neutral: the slang word alone must not decide
		// against its slang sense ("Sick for smooth paths" is no complaint).
		return s, true
	case s.Confidence < slangConflictConfidence:
		// An unsure reading against the slang ("can't complain" after
		// "the deck broke"): the post says both, so it is neither.
		p := m.probabilitiesShifted(z, d, shift)
		s.Label, s.Confidence = parley.Neutral, p[1]
		return s, true
	}
	return s, false
}

// slangConflictConfidence is the confidence from which the model's
// reading of a post overrules slang that says the opposite; below it the
// post is called neutral.
const slangConflictConfidence = 0.8

// probabilitiesShifted is the calibrated probabilities verdict labels.
func (m *Model) probabilitiesShifted(z [3]float64, d int, shift float64) [3]float64 {
	cal := m.hdr.Calibration.forDomain(d)
	if cal != nil {
		for k := range z {
			z[k] = cal.Scale*z[k] + cal.Bias[k]
		}
	}
	return softmax(addOff(z, lexiconOffset(shift)))
}

// softShift returns the valence a lexicon moves raw scores z by: hard,
// plus soft unless z moved by hard favours the class opposite soft's sign
// (see withLexicons), and whether soft counted.
func softShift(z [3]float64, hard, soft float64) (float64, bool) {
	if soft == 0 {
		return hard, false
	}
	z = addOff(z, lexiconOffset(hard))
	best := 0
	for k := range z {
		if z[k] > z[best] {
			best = k
		}
	}
	if soft > 0 && best == 0 || soft < 0 && best == 2 {
		return hard, false
	}
	return hard + soft, true
}

// lexiconOffset is the evidence a lexicon valence adds to the class
// scores: to the positive one for a positive valence, else to the
// negative one.
func lexiconOffset(valence float64) [3]float64 {
	if valence > 0 {
		return [3]float64{0, 0, valence * lexiconLogitsPerValence}
	}
	return [3]float64{-valence * lexiconLogitsPerValence, 0, 0}
}

// verdict labels raw scores z of a post of kind d (see domainDetector)
// after moving them by shift (a brand lexicon's valence, on VADER's scale)
// toward positive or negative.
func (m *Model) verdict(z [3]float64, d int, shift float64) parley.Sentiment {
	cal := m.hdr.Calibration.forDomain(d)
	if cal != nil {
		for k := range z {
			z[k] = cal.Scale*z[k] + cal.Bias[k]
		}
		cal = &Calibration{Scale: 1, Decision: cal.Decision, PolarGap: cal.PolarGap}
	}
	p := softmax(addOff(z, lexiconOffset(shift)))
	best := cal.decide(p)
	return parley.Sentiment{
		Label:      parley.Labels[best],
		Score:      p[2] - p[0],
		Confidence: p[best],
		Model:      m.hdr.Name,
	}
}

// lexiconLogitsPerValence converts a lexicon valence into evidence for
// the class of its sign: "sick" at 2.5 adds 7.5 to the positive log-odds,
// enough to outweigh most of what the rest of a post says ("still
// waiting" must make "I'm still waiting for my order", which the model
// reads as mildly hopeful, a confident complaint).
const lexiconLogitsPerValence = 3.0

// Calibration returns the model's calibration, or nil if it has none.
func (m *Model) Calibration() *Calibration { return m.hdr.Calibration }

// Probabilities returns the calibrated P(negative), P(neutral),
// P(positive) for text.
func (m *Model) Probabilities(text string) [3]float64 {
	z, d := m.scores(text)
	return m.hdr.Calibration.forDomain(d).probabilities(z)
}

func softmax(z [3]float64) [3]float64 {
	mx := math.Max(z[0], math.Max(z[1], z[2]))
	var p [3]float64
	sum := 0.0
	for c := range z {
		p[c] = math.Exp(z[c] - mx)
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
	return p
}

// WriteTo writes the model in its file format: gzip of a magic string,
// a JSON header and the int16 weights, little-endian.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestCompression)
	if err != nil {
		return cw.n, err
	}
	hdr, err := json.Marshal(m.hdr)
	if err != nil {
		return cw.n, err
	}
	// bufio.Writer keeps its first write error and Flush returns it.
	bw := bufio.NewWriterSize(zw, 1<<16)
	_, _ = bw.WriteString(modelMagic)
	_ = binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
	_, _ = bw.Write(hdr)
	var b [2]byte
	for _, q := range m.w {
		binary.LittleEndian.PutUint16(b[:], uint16(q))
		_, _ = bw.Write(b[:])
	}
	if m.dom != nil {
		for _, q := range m.dom.w {
			binary.LittleEndian.PutUint16(b[:], uint16(q))
			_, _ = bw.Write(b[:])
		}
	}
	if m.deep != nil {
		for _, q := range m.deep.emb {
			_ = bw.WriteByte(byte(q))
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	if err := zw.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// LoadModel reads a model written by WriteTo. A malformed file gives an
// error with code EINVALID saying what is wrong.
func LoadModel(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: not gzip: %w", err)
	}
	defer zr.Close() //nolint:errcheck // read side: a bad stream fails the reads below
	br := bufio.NewReaderSize(zr, 1<<16)
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != modelMagic {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: not a Parley sentiment model")
	}
	var n uint32
	if err := binary.Read(br, binary.LittleEndian, &n); err != nil || n > 1<<20 {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: bad header length")
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: header: %w", err)
	}
	m := &Model{}
	if err := json.Unmarshal(hb, &m.hdr); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: header: %w", err)
	}
	sections := m.hdr.Domains != nil || m.hdr.Deep != nil
	if m.hdr.Format != modelFormat && m.hdr.Format != modelFormatSections || sections != (m.hdr.Format == modelFormatSections) {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: format %d, want %d, or %d with a domain detector or network", m.hdr.Format, modelFormat, modelFormatSections)
	}
	if len(m.hdr.Classes) != 3 || m.hdr.Classes[0] != parley.Negative || m.hdr.Classes[1] != parley.Neutral || m.hdr.Classes[2] != parley.Positive {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: classes %v, want negative, neutral, positive", m.hdr.Classes)
	}
	if m.f, err = newFeaturizer(m.hdr.Features); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: features: %w", err)
	}
	m.w = make([]int16, 3<<m.hdr.Features.HashBits)
	raw := make([]byte, 2*len(m.w))
	if _, err := io.ReadFull(br, raw); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: weights: %w", err)
	}
	for i := range m.w {
		m.w[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	if dh := m.hdr.Domains; dh != nil {
		if len(dh.Names) != 2 || dh.Bits < 1 || dh.Bits > m.hdr.Features.HashBits {
			return nil, parley.Errorf(parley.EINVALID, "sentiment model: domain detector with %d names and %d bits: want 2 names and 1..%d bits", len(dh.Names), dh.Bits, m.hdr.Features.HashBits)
		}
		m.dom = &domainDetector{shift: uint(m.hdr.Features.HashBits - dh.Bits), w: make([]int16, 1<<dh.Bits), scale: dh.Scale, bias: dh.Bias}
		raw := make([]byte, 2*len(m.dom.w))
		if _, err := io.ReadFull(br, raw); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "sentiment model: domain weights: %w", err)
		}
		for i := range m.dom.w {
			m.dom.w[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	}
	if dh := m.hdr.Deep; dh != nil {
		if err := checkDeep(dh, m.hdr.Features.HashBits); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "sentiment model: %w", err)
		}
		raw := make([]byte, (1<<dh.Config.Bits)*dh.Config.Dim)
		if _, err := io.ReadFull(br, raw); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "sentiment model: network embeddings: %w", err)
		}
		m.deep = &deepNet{hdr: dh, shift: uint(m.hdr.Features.HashBits - dh.Config.Bits), emb: make([]int8, len(raw))}
		for i, b := range raw {
			m.deep.emb[i] = int8(b)
		}
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model: data after the weights")
	}
	m.scale = m.hdr.Scale
	m.bias = m.hdr.Bias
	return m, nil
}

// fingerprintTexts exercise every kind of token; their features, hashed,
// identify the feature code a model was trained with.
var fingerprintTexts = []string{
	"I LOVE this sooo much!!! :) #bestday @friend http://example.com/x",
	"not good at all, but the staff were kind of nice... 3 stars?",
	"can’t believe it &lt;3 😍😍 💔 ❤️ 👍🏽",
	"Worst. Service. Ever. I'm never coming back :( smh",
	"no problems, very happy",
	"",
}

// Fingerprint hashes the features f produces for fingerprintTexts.
func (f *featurizer) fingerprint() string {
	h := uint64(fnvOffset)
	var sc scratch
	var b [8]byte
	for _, t := range fingerprintTexts {
		for _, ft := range f.featurize(t, &sc) {
			binary.LittleEndian.PutUint32(b[:4], ft.idx)
			// Rounded, so that fused multiply-adds on some CPUs do not matter.
			binary.LittleEndian.PutUint32(b[4:], uint32(int32(math.Round(float64(ft.val)*1e4))))
			h = hashMore(h, b[:])
		}
		h = hashMore(h, []byte{0xff})
	}
	return fmt.Sprintf("%016x", h)
}

// CheckFingerprint reports whether the current feature code still
// produces the features m was trained with; an error says to retrain.
func (m *Model) CheckFingerprint() error {
	if got := m.f.fingerprint(); got != m.hdr.Fingerprint {
		return fmt.Errorf("sentiment model %q was trained with feature fingerprint %s, the code now gives %s: retrain it (go run ./rules/sentiment/cmd/train)", m.hdr.Name, m.hdr.Fingerprint, got)
	}
	return nil
}

// logits returns the model's raw class scores for text.
func (m *Model) logits(text string) [3]float64 {
	z, _ := m.scores(text)
	return z
}

// scores returns the model's raw class scores for text and the kind of
// post it is (0 without a domain detector).
func (m *Model) scores(text string) ([3]float64, int) {
	sc, _ := m.pool.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	feats := m.f.featurize(text, sc)
	d := 0
	if m.dom != nil {
		d = m.dom.domain(feats)
	}
	var s [3]float32
	w := m.w
	for _, ft := range feats {
		i := int(ft.idx) * 3
		s[0] += ft.val * float32(w[i])
		s[1] += ft.val * float32(w[i+1])
		s[2] += ft.val * float32(w[i+2])
	}
	var zd [3]float32
	if m.deep != nil {
		zd = m.deep.scores(feats)
	}
	m.pool.Put(sc)
	var z [3]float64
	for c := range z {
		z[c] = float64(s[c]*m.scale + m.bias[c] + zd[c])
	}
	return z, d
}
