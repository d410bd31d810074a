package sentiment

import (
	"fmt"
	"math"
	"strconv"
)

// FeatureConfig fixes how a text becomes features. It is stored in the
// model file, so a model is always read with the features it was trained
// with.
type FeatureConfig struct {
	// HashBits: features are hashed into 2^HashBits buckets.
	HashBits int `json:"hash_bits"`
	// CharMin, CharMax: lengths of the character n-grams taken from each
	// word padded with '^' and '$'; CharMax 0 turns them off.
	CharMin int `json:"char_min"`
	CharMax int `json:"char_max"`
	// Bigrams adds word bigrams.
	Bigrams bool `json:"bigrams"`
	// CharWeight scales each character n-gram feature.
	CharWeight float64 `json:"char_weight"`
	// Lexicon adds VADER scores and lexicon counts as features.
	Lexicon bool `json:"lexicon"`
	// LexiconScale multiplies the VADER features (a larger scale is a
	// weaker penalty on them). 0 means 1.
	LexiconScale float64 `json:"lexicon_scale,omitempty"`
	// LexiconTokens adds, for each word in VADER's lexicon, a token for its
	// rounded valence and whether it is negated, so rare words share what
	// common words of the same valence learned.
	LexiconTokens bool `json:"lexicon_tokens,omitempty"`
	// Prefix adds each longer word's first Prefix letters (a crude stem);
	// 0 turns it off.
	Prefix int `json:"prefix,omitempty"`
	// Trigrams adds word trigrams.
	Trigrams bool `json:"trigrams,omitempty"`
	// AfterBut marks the words after "but" with their own unigrams.
	AfterBut bool `json:"after_but,omitempty"`
}

// DefaultFeatureConfig is the configuration the shipped model uses.
var DefaultFeatureConfig = FeatureConfig{
	HashBits:      20,
	Bigrams:       true,
	Lexicon:       true,
	LexiconScale:  2,
	LexiconTokens: true,
	Prefix:        4,
	AfterBut:      true,
}

// Validate reports a configuration the featurizer cannot use (EINVALID
// wrapped by the caller).
func (c FeatureConfig) Validate() error {
	if c.HashBits < 8 || c.HashBits > 26 {
		return fmt.Errorf("hash_bits %d: want 8..26", c.HashBits)
	}
	if c.CharMax != 0 && (c.CharMin < 1 || c.CharMin > c.CharMax || c.CharMax > 8) {
		return fmt.Errorf("char n-grams %d..%d: want 1 <= min <= max <= 8", c.CharMin, c.CharMax)
	}
	if c.Prefix < 0 || c.Prefix > 16 {
		return fmt.Errorf("prefix %d: want 0..16", c.Prefix)
	}
	if math.IsNaN(c.LexiconScale) || c.LexiconScale < 0 {
		return fmt.Errorf("lexicon_scale %v: want >= 0", c.LexiconScale)
	}
	if math.IsNaN(c.CharWeight) || c.CharWeight < 0 {
		return fmt.Errorf("char_weight %v: want >= 0", c.CharWeight)
	}
	return nil
}

// feature is one hashed feature of a text and its value.
type feature struct {
	idx uint32
	val float32
}

// featurizer turns texts into hashed features. It is read-only after
// newFeaturizer and safe for concurrent use (callers bring their own
// scratch).
type featurizer struct {
	cfg   FeatureConfig
	shift uint
	vt    *vaderTables
	dense [numDense]uint32
}

// Dense (named) features.
const (
	dCompound = iota
	dPos
	dNeg
	dNumPos
	dNumNeg
	dMax
	dMin
	dLast
	dNegHits
	dEmoPos
	dEmoNeg
	dCaps
	dElong
	dExcl
	dQuest
	dLastExcl
	dLastQuest
	dCompoundBin // numCompoundBins consecutive named bins
	numDense     = dCompoundBin + numCompoundBins
)

const numCompoundBins = 10

// Hash namespaces, so a word and a bigram with the same bytes differ.
const (
	nsUni uint64 = iota + 1
	nsUniNeg
	nsBi
	nsChar
	nsHashtag
	nsDense
	nsLexTok
	nsPrefix
	nsTri
	nsAfterBut
)

func newFeaturizer(cfg FeatureConfig) (*featurizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := &featurizer{cfg: cfg, shift: uint(64 - cfg.HashBits), vt: loadVaderTables()}
	for i := range f.dense {
		f.dense[i] = f.index(hashBytes(nsDense, []byte("dense:"+strconv.Itoa(i))))
	}
	return f, nil
}

// scratch holds one call's buffers; pooled by the model.
type scratch struct {
	ts    tokens
	feats []feature
	pos   []int32
	sents []float64
	pad   []byte
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(ns uint64, b []byte) uint64 {
	h := uint64(fnvOffset) ^ ns*0x9e3779b97f4a7c15
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func hashMore(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func (f *featurizer) index(h uint64) uint32 {
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return uint32(h >> f.shift)
}

// featurize appends the features of text to sc.feats (which it resets)
// and returns them.
func (f *featurizer) featurize(text string, sc *scratch) []feature {
	sc.feats = sc.feats[:0]
	ts := &sc.ts
	f.vt.tokenize(text, ts)
	add := func(h uint64, v float32) {
		sc.feats = append(sc.feats, feature{idx: f.index(h), val: v})
	}
	prev := []byte("<s>")
	prev2 := []byte("<s>")
	afterBut := false
	cw := float32(f.cfg.CharWeight)
	emoPos, emoNeg, caps, elong := 0, 0, 0, 0
	for i := range ts.toks {
		t := &ts.toks[i]
		w := ts.norm(t)
		ns := nsUni
		if t.neg {
			ns = nsUniNeg
		}
		add(hashBytes(ns, w), 1)
		if t.kind == tkHashtag {
			add(hashBytes(nsHashtag, w), 1)
		}
		if f.cfg.AfterBut {
			if afterBut {
				add(hashBytes(nsAfterBut, w), 1)
			}
			if t.kind == tkWord && string(w) == "but" {
				afterBut = true
			}
		}
		if f.cfg.LexiconTokens && t.val != 0 {
			b := [3]byte{'p', byte('0' + min(4, int(math.Abs(t.val)+0.5))), 'a'}
			if t.val < 0 {
				b[0] = 'n'
			}
			if t.neg {
				b[2] = 'n'
			}
			add(hashBytes(nsLexTok, b[:]), 1)
		}
		if f.cfg.Prefix > 0 && t.kind == tkWord && len(w) > f.cfg.Prefix {
			add(hashBytes(nsPrefix, w[:f.cfg.Prefix]), 1)
		}
		if f.cfg.Trigrams {
			add(hashMore(hashMore(hashMore(hashMore(hashBytes(nsTri, prev2), []byte{' '}), prev), []byte{' '}), w), 1)
		}
		if f.cfg.Bigrams || f.cfg.Trigrams {
			if f.cfg.Bigrams {
				add(hashMore(hashMore(hashBytes(nsBi, prev), []byte{' '}), w), 1)
			}
			prev2, prev = prev, w
		}
		if f.cfg.CharMax > 0 && (t.kind == tkWord || t.kind == tkHashtag) {
			sc.pad = append(append(append(sc.pad[:0], '^'), w...), '$')
			for n := f.cfg.CharMin; n <= f.cfg.CharMax; n++ {
				for s := 0; s+n <= len(sc.pad); s++ {
					add(hashBytes(nsChar, sc.pad[s:s+n]), cw)
				}
			}
		}
		switch t.kind {
		case tkEmoticon, tkEmoji:
			if t.val >= 0.5 {
				emoPos++
			} else if t.val <= -0.5 {
				emoNeg++
			}
		case tkWord, tkHashtag:
			if t.caps {
				caps++
			}
			if t.elong {
				elong++
			}
		}
	}
	if f.cfg.Bigrams && len(ts.toks) > 0 {
		add(hashMore(hashMore(hashBytes(nsBi, prev), []byte{' '}), []byte("</s>")), 1)
	}
	dense := func(k int, v float64) {
		if v != 0 {
			sc.feats = append(sc.feats, feature{idx: f.dense[k], val: float32(v)})
		}
	}
	dense(dEmoPos, math.Min(float64(emoPos), 3))
	dense(dEmoNeg, math.Min(float64(emoNeg), 3))
	dense(dCaps, math.Min(float64(caps), 3)/3)
	dense(dElong, math.Min(float64(elong), 2)/2)
	dense(dExcl, math.Min(float64(ts.excl), 4)/4)
	dense(dQuest, math.Min(float64(ts.quest), 4)/4)
	if n := len(ts.toks); n > 0 && ts.toks[n-1].kind == tkPunct {
		switch string(ts.norm(&ts.toks[n-1])) {
		case "!":
			dense(dLastExcl, 1)
		case "?", "?!":
			dense(dLastQuest, 1)
		}
	}
	if f.cfg.Lexicon {
		ls := f.cfg.LexiconScale
		if ls == 0 {
			ls = 1
		}
		dense := func(k int, v float64) { dense(k, v*ls) }
		var st lexStats
		f.vt.score(sc, &st)
		dense(dCompound, st.compound)
		dense(dPos, st.pos)
		dense(dNeg, st.neg)
		dense(dNumPos, math.Min(float64(st.nPos), 4)/4)
		dense(dNumNeg, math.Min(float64(st.nNeg), 4)/4)
		dense(dMax, st.maxV/4)
		dense(dMin, st.minV/4)
		dense(dLast, st.lastV/4)
		dense(dNegHits, math.Min(float64(st.negHits), 2)/2)
		bin := int((st.compound + 1) / 2 * numCompoundBins)
		bin = max(0, min(numCompoundBins-1, bin))
		dense(dCompoundBin+bin, 1)
	}
	return sc.feats
}

// lexStats are VADER's scores of a text and lexicon counts.
type lexStats struct {
	compound, pos, neg float64
	nPos, nNeg         int
	maxV, minV, lastV  float64
	negHits            int // lexicon words inside a negation scope
}

// score computes VADER's scores over the tokens in sc.ts: lexicon
// valences, ALL CAPS emphasis, boosters, negation within three words,
// "but", and '!'/'?' emphasis, as in Hutto & Gilbert's VADER.
func (vt *vaderTables) score(sc *scratch, st *lexStats) {
	ts := &sc.ts
	sc.pos = sc.pos[:0]
	caps := 0
	for i := range ts.toks {
		if ts.toks[i].kind != tkPunct {
			sc.pos = append(sc.pos, int32(i))
			if ts.toks[i].caps {
				caps++
			}
		}
	}
	n := len(sc.pos)
	if n == 0 {
		return
	}
	capDiff := caps > 0 && caps < n
	sc.sents = sc.sents[:0]
	but := -1
	for p, ti := range sc.pos {
		t := &ts.toks[ti]
		w := ts.norm(t)
		if but < 0 && string(w) == "but" {
			but = p
		}
		v := t.val
		if v == 0 {
			sc.sents = append(sc.sents, 0)
			continue
		}
		if _, ok := boosters[string(w)]; ok {
			sc.sents = append(sc.sents, 0)
			continue
		}
		if string(w) == "kind" && p+1 < n && string(ts.norm(&ts.toks[sc.pos[p+1]])) == "of" {
			sc.sents = append(sc.sents, 0)
			continue
		}
		if string(w) == "no" && p+1 < n && ts.toks[sc.pos[p+1]].val != 0 {
			v = 0
		}
		if t.caps && capDiff {
			if v > 0 {
				v += vCapsIncr
			} else {
				v -= vCapsIncr
			}
		}
		for j := 1; j <= 3 && p-j >= 0; j++ {
			pt := &ts.toks[sc.pos[p-j]]
			if pt.val != 0 {
				continue
			}
			pw := ts.norm(pt)
			if b, ok := boosters[string(pw)]; ok {
				if v < 0 {
					b = -b
				}
				if pt.caps && capDiff {
					if v > 0 {
						b += vCapsIncr
					} else {
						b -= vCapsIncr
					}
				}
				switch j {
				case 2:
					b *= vBoostScale1
				case 3:
					b *= vBoostScale2
				}
				v += b
			}
			if isNegationBytes(pw) {
				v *= negationScalar
			}
		}
		if p >= 1 && string(ts.norm(&ts.toks[sc.pos[p-1]])) == "no" ||
			p >= 2 && string(ts.norm(&ts.toks[sc.pos[p-2]])) == "no" {
			v = t.val * negationScalar
		}
		if t.neg {
			st.negHits++
		}
		sc.sents = append(sc.sents, v)
	}
	sum := 0.0
	for p := range sc.sents {
		if but >= 0 {
			if p < but {
				sc.sents[p] *= vButBefore
			} else if p > but {
				sc.sents[p] *= vButAfter
			}
		}
		sum += sc.sents[p]
	}
	emph := float64(min(ts.excl, vMaxExcl)) * vExclIncr
	if ts.quest > 1 {
		if ts.quest <= 3 {
			emph += float64(ts.quest) * vQuestIncr
		} else {
			emph += vQuestMax
		}
	}
	if sum > 0 {
		sum += emph
	} else if sum < 0 {
		sum -= emph
	}
	st.compound = normalize(sum)
	posSum, negSum, neu := 0.0, 0.0, 0
	for _, v := range sc.sents {
		switch {
		case v > 0:
			posSum += v + 1
			st.nPos++
			st.maxV = math.Max(st.maxV, v)
			st.lastV = v
		case v < 0:
			negSum += v - 1
			st.nNeg++
			st.minV = math.Min(st.minV, v)
			st.lastV = v
		default:
			neu++
		}
	}
	if posSum > -negSum {
		posSum += emph
	} else if posSum < -negSum {
		negSum -= emph
	}
	total := posSum - negSum + float64(neu)
	if total > 0 {
		st.pos = posSum / total
		st.neg = -negSum / total
	}
	st.maxV = math.Min(st.maxV, 4)
	st.minV = math.Max(st.minV, -4)
	st.lastV = math.Max(-4, math.Min(4, st.lastV))
}
