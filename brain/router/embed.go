package router

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/evo-tr/evo/brain"
)

// Embedding vote settings.
const (
	// neighbours is how many nearest examples vote.
	neighbours = 7
	// embedBatch is how many examples go in one embedding request.
	embedBatch = 64
	// embedTimeout bounds the embedding of one routed text; past it the
	// classifier decides alone.
	embedTimeout = 2 * time.Second
)

// embedIndex holds the experts' examples as unit vectors.
type embedIndex struct {
	e      brain.Embedder
	model  string
	weight float64
	vecs   [][]float32
	labels []int
}

// UseEmbeddings embeds every intent example with model through e and from
// then on blends a vote of the nearest examples into each decision:
// p = (1-weight)*classifier + weight*vote. It is optional: without it, or
// when embedding a routed text fails, the in-process classifier decides
// alone. On error nothing changes. Safe to call while Route runs.
func (r *Router) UseEmbeddings(ctx context.Context, e brain.Embedder, model string, weight float64) error {
	if e == nil || model == "" {
		return errors.New("use embeddings: no embedder or model")
	}
	if weight <= 0 || weight > 1 {
		return fmt.Errorf("use embeddings: weight %v is not in (0, 1]", weight)
	}
	var texts []string
	var labels []int
	for c, x := range r.experts {
		for _, ex := range x.Examples {
			if strings.TrimSpace(ex) != "" {
				texts = append(texts, clip(ex))
				labels = append(labels, c)
			}
		}
	}
	if len(texts) == 0 {
		return errors.New("use embeddings: no examples to embed")
	}
	vecs := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += embedBatch {
		batch := texts[start:min(start+embedBatch, len(texts))]
		got, err := e.Embed(ctx, model, batch)
		if err != nil {
			return fmt.Errorf("use embeddings: embed examples with %s: %w", model, err)
		}
		if len(got) != len(batch) {
			return fmt.Errorf("use embeddings: %s returned %d vectors for %d texts", model, len(got), len(batch))
		}
		for _, v := range got {
			if len(v) == 0 || (len(vecs) > 0 && len(v) != len(vecs[0])) {
				return fmt.Errorf("use embeddings: %s returned vectors of unequal or zero length", model)
			}
			vecs = append(vecs, unit(v))
		}
	}
	r.emb.Store(&embedIndex{e: e, model: model, weight: weight, vecs: vecs, labels: labels})
	return nil
}

// unit returns v scaled to length 1 (v itself when it is all zero).
func unit(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(ss))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * inv
	}
	return out
}

// blend mixes the nearest examples' vote into p. When the text cannot be
// embedded in time it leaves p as it is and says why.
func (ix *embedIndex) blend(ctx context.Context, text string, p []float64) error {
	ctx, cancel := context.WithTimeout(ctx, embedTimeout)
	defer cancel()
	got, err := ix.e.Embed(ctx, ix.model, []string{clip(text)})
	if err != nil {
		return fmt.Errorf("embed text: %w", err)
	}
	if len(got) != 1 || len(got[0]) != len(ix.vecs[0]) {
		return fmt.Errorf("embed text: got %d vectors, want 1 of length %d", len(got), len(ix.vecs[0]))
	}
	q := unit(got[0])
	type hit struct {
		sim   float64
		label int
	}
	var top [neighbours]hit
	n := 0
	for i, v := range ix.vecs {
		var dot float32
		for j, x := range v {
			dot += x * q[j]
		}
		h := hit{float64(dot), ix.labels[i]}
		if n < len(top) {
			top[n] = h
			n++
		} else if h.sim > top[n-1].sim {
			top[n-1] = h
		} else {
			continue
		}
		for j := n - 1; j > 0 && top[j].sim > top[j-1].sim; j-- { // keep top sorted
			top[j], top[j-1] = top[j-1], top[j]
		}
	}
	vote := make([]float64, len(p))
	var total float64
	for _, h := range top[:n] {
		w := math.Max(h.sim, 0)
		vote[h.label] += w
		total += w
	}
	if total == 0 {
		return nil
	}
	for c := range p {
		p[c] = (1-ix.weight)*p[c] + ix.weight*vote[c]/total
	}
	return nil
}
