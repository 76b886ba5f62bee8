package router

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Training settings: fixed, so that the same examples always give the same
// model.
const (
	epochs       = 8
	learningRate = 0.4
	l2           = 1e-6
	folds        = 5
	seed         = 20251202
	// dropout is the share of an example's features each training pass
	// leaves out (chosen by hash, so training stays deterministic). It
	// makes the model spread its weight over the words of an example
	// instead of one telling word. With 8 passes instead of 4 it turned
	// fallbacks into right answers: over the 2,868 evaluation lines of
	// the time, exact 98.1 → 98.5 %, wrong 0.52 → 0.56 %.
	dropout = 0.3
)

// dropCut is dropout as a threshold on a feature's 53-bit hash: a feature
// stays when its hash is at least dropCut.
var dropCut = uint64(math.Ceil(dropout * (1 << 53)))

// sample is one training example: where its features (duplicates merged)
// lie in the arena, and its class. It takes 24 bytes: the shipped
// examples number tens of thousands, and at start-up every byte counts.
type sample struct {
	// key is a hash of the example's text: it orders the training passes
	// and picks the sample's fold, so that adding an example moves only
	// that example and the model changes little.
	key   uint64
	feats ref
	y     uint16
}

// textHash is FNV-1a (64 bits) over s.
func textHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// mix64 scrambles x (splitmix64's finaliser).
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// model is a multinomial logistic regression over hashed features with a
// temperature fitted on held-out predictions.
//
// With two classes softmax(s0, s1) depends on s1-s0 only, so the model
// keeps one weight per slot (class 0's logit is 0): binary logistic
// regression, at half the memory and half the work.
type model struct {
	k    int
	cols int    // weights per slot: k, or 1 when k == 2
	w    []bf16 // numSlots*cols, class-minor
	temp float64
	// bag holds the models trained on the cross-validation folds. When
	// set, predict averages their calibrated probabilities with this
	// model's: where the members disagree (a text unlike every example)
	// the confidence drops, so an unsure text falls back instead of going
	// to the wrong expert.
	bag []*model
}

// weightCols is how many weights a model of k classes keeps per slot.
func weightCols(k int) int {
	if k == 2 {
		return 1
	}
	return k
}

// newModel returns an untrained model of k classes with weights w (nil:
// all zero).
func newModel(k int, w []bf16) *model {
	cols := weightCols(k)
	if w == nil {
		w = make([]bf16, numSlots*cols)
	}
	return &model{k: k, cols: cols, w: w, temp: 1}
}

// scores writes the logits of feats into out (len k). It is left out of
// the race detector's instrumentation: it reads only m and feats and
// writes only out.
//
//go:norace
func (m *model) scores(feats []feature, out []float64) {
	if m.cols == 1 {
		var s float32
		for _, f := range feats {
			s += f.val * m.w[f.idx].float()
		}
		out[0], out[1] = 0, float64(s)
		return
	}
	clear(out)
	k := m.k
	for _, f := range feats {
		w := m.w[int(f.idx)*k : int(f.idx)*k+k]
		for c := range w {
			out[c] += float64(f.val * w[c].float())
		}
	}
}

// trainScores is scores over the float32 weights w of a model in training
// (cols weights per slot, as in model).
//
//go:norace
func trainScores(w []float32, cols int, feats []feature, out []float64) {
	if cols == 1 {
		var s float32
		for _, f := range feats {
			s += f.val * w[f.idx]
		}
		out[0], out[1] = 0, float64(s)
		return
	}
	clear(out)
	for _, f := range feats {
		ws := w[int(f.idx)*cols : int(f.idx)*cols+cols]
		for c := range ws {
			out[c] += float64(f.val * ws[c])
		}
	}
}

// predict writes the calibrated class probabilities of feats into out;
// tmp is scratch space of len k.
func (m *model) predict(feats []feature, out, tmp []float64) {
	m.scores(feats, out)
	softmax(out, m.temp)
	if len(m.bag) == 0 {
		return
	}
	for _, b := range m.bag {
		b.scores(feats, tmp)
		softmax(tmp, m.temp)
		for c, v := range tmp {
			out[c] += v
		}
	}
	n := float64(len(m.bag) + 1)
	for c := range out {
		out[c] /= n
	}
}

// softmax turns logits into probabilities in place, dividing them by temp.
func softmax(x []float64, temp float64) {
	hi := math.Inf(-1)
	for _, v := range x {
		hi = max(hi, v)
	}
	var sum float64
	for i, v := range x {
		x[i] = math.Exp((v - hi) / temp)
		sum += x[i]
	}
	for i := range x {
		x[i] /= sum
	}
}

// merge sorts feats by index and sums duplicates in place, for training,
// and returns the merged prefix.
func merge(feats []feature) []feature {
	slices.SortFunc(feats, func(a, b feature) int { return int(a.idx) - int(b.idx) })
	n := 0
	for _, f := range feats {
		if n > 0 && feats[n-1].idx == f.idx {
			feats[n-1].val += f.val
			continue
		}
		feats[n] = f
		n++
	}
	return feats[:n]
}

// fit trains logistic regression with AdaGrad on the samples whose
// indices are in use (every sample when use is nil), each class weighted
// by the inverse of its size, in float32 in buf, and returns the model
// with its weights rounded to bfloat16; it reorders use. The folds pass
// indices, not copies of their samples: at start-up every byte counts.
//
// fit is left out of the race detector's instrumentation (go:norace): it
// touches only its own buffers and model and reads samples and an arena
// no one writes while it runs, and instrumented, its inner loops made training the shipped
// examples take a minute under go test -race (a fifth of that without).
// train, which runs the fits concurrently, is still checked.
//
//go:norace
func fit(samples []sample, store *arena, use []int32, k int, buf *fitBuffers) *model {
	cols := weightCols(k)
	w, g2, rank := buf.reset(numSlots*cols, len(samples))
	order := use
	if order == nil {
		order = make([]int32, len(samples))
		for i := range order {
			order[i] = int32(i)
		}
	}
	counts := make([]int, k)
	for _, i := range order {
		counts[samples[i].y]++
	}
	cw := make([]float64, k)
	for c, n := range counts {
		if n > 0 {
			cw[c] = float64(len(order)) / float64(k*n)
		}
	}
	p := make([]float64, k)
	grad := make([]float32, k)
	var kept []feature
	// The columns' classes: every class, or class 1 alone (binary).
	first := k - cols
	for e := range epochs {
		// Each pass visits the samples in an order of their keys, so that
		// one more example does not reshuffle all the others.
		for i, s := range samples {
			rank[i] = mix64(s.key ^ uint64(seed+e)*0x9e3779b97f4a7c15)
		}
		slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(rank[a], rank[b]) })
		for _, i := range order {
			s := &samples[i]
			// Drop features at random (by hash: deterministic) so that no
			// single feature carries an example alone.
			salt := mix64(s.key ^ uint64(e+1)*0xd1b54a32d192ed03)
			feats := store.coded(s.feats).decodeDrop(kept[:0], salt, dropCut, 1/(1-dropout))
			kept = feats
			trainScores(w, cols, feats, p)
			softmax(p, 1)
			for c := range grad {
				t := 0.0
				if c == int(s.y) {
					t = 1
				}
				grad[c] = float32((p[c] - t) * cw[s.y])
			}
			if cols == 1 { // binary: one weight per slot, class 1's
				gr := grad[1]
				for _, f := range feats {
					j := f.idx
					g := gr*f.val + l2*w[j]
					g2[j] += g * g
					w[j] -= learningRate * g / float32(math.Sqrt(float64(g2[j])+1e-8))
				}
				continue
			}
			for _, f := range feats {
				base := int(f.idx) * cols
				for c := first; c < k; c++ {
					j := base + c - first
					g := grad[c]*f.val + l2*w[j]
					g2[j] += g * g
					w[j] -= learningRate * g / float32(math.Sqrt(float64(g2[j])+1e-8))
				}
			}
		}
	}
	return newModel(k, quantize(w))
}

// fitBuffers is the scratch of one fit: its float32 weights, their
// AdaGrad sums and the samples' ranks in a pass. The fits of one training
// take turns with a few of them, so that the heap does not grow by two
// slot-sized slices a fit (and the garbage collector, pacing by the
// heap's growth, does not let it double).
type fitBuffers struct {
	w, g2 []float32
	rank  []uint64 // by sample index
}

// reset returns the buffers sized for slots weights and n samples, the
// weights and sums zero.
func (b *fitBuffers) reset(slots, n int) (w, g2 []float32, rank []uint64) {
	if len(b.w) != slots {
		b.w, b.g2 = make([]float32, slots), make([]float32, slots)
	} else {
		clear(b.w)
		clear(b.g2)
	}
	if len(b.rank) != n {
		b.rank = make([]uint64, n)
	}
	return b.w, b.g2, b.rank
}

// train fits the final model on every sample and calibrates its
// temperature on out-of-fold predictions, training the folds in parallel.
func train(samples []sample, store *arena, k int) *model {
	n := len(samples)
	folded := make([]float64, n*k) // out-of-fold logits, k per sample
	var final *model
	var bag []*model
	if n >= 2*folds {
		bag = make([]*model, folds)
	}
	// At most one model per CPU trains at a time, each with a set of
	// buffers it hands on when done: more at once would not finish sooner.
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), folds+1)
	bufs := make(chan *fitBuffers, workers)
	for range workers {
		bufs <- &fitBuffers{}
	}
	run := func(f func(*fitBuffers)) {
		wg.Go(func() {
			b := <-bufs
			defer func() { bufs <- b }()
			f(b)
		})
	}
	run(func(b *fitBuffers) { final = fit(samples, store, nil, k, b) })
	if n >= 2*folds {
		assign := foldOf(samples)
		for f := range folds {
			run(func(b *fitBuffers) {
				held := make([]int32, 0, n/folds+1)
				tr := make([]int32, 0, n-n/folds+1)
				for i := range samples {
					if assign[i] == f {
						held = append(held, int32(i))
					} else {
						tr = append(tr, int32(i))
					}
				}
				m := fit(samples, store, tr, k, b)
				var buf []feature
				bag[f] = m
				for _, i := range held {
					buf = store.coded(samples[i].feats).decode(buf[:0])
					m.scores(buf, folded[int(i)*k:int(i)*k+k])
				}
			})
		}
	}
	wg.Wait()
	if n >= 2*folds {
		final.temp = fitTemperature(folded, k, samples)
		final.bag = bag
	}
	return final
}

// foldOf assigns each sample to a fold by its key: an added example
// leaves the others in their folds.
func foldOf(samples []sample) []int {
	assign := make([]int, len(samples))
	for i, s := range samples {
		assign[i] = int(mix64(s.key^seed) % folds)
	}
	return assign
}

// fitTemperature finds the temperature that minimises the negative log
// likelihood of the held-out logits, k per sample (golden-section search
// on log T).
func fitTemperature(logits []float64, k int, samples []sample) float64 {
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		var sum float64
		p := make([]float64, k)
		for i := range samples {
			copy(p, logits[i*k:i*k+k])
			softmax(p, t)
			sum -= math.Log(max(p[samples[i].y], 1e-12))
		}
		return sum
	}
	lo, hi := math.Log(0.05), math.Log(20)
	const phi = 0.6180339887498949
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := nll(a), nll(b)
	for range 60 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = nll(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}
