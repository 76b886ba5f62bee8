// Package router decides which expert answers a message. It learns from
// the experts' intent examples at start-up (logistic regression over
// Turkish-aware character and word n-grams, Turkish stems, the experts'
// keywords, the stems again tagged with the experts whose keywords the
// text holds, and code-shape features; trained with feature dropout, so
// that no single feature carries an example, and with a temperature
// calibrated on held-out folds; the fold models vote with the final one,
// so a text they disagree on gets a low confidence) and decides in
// microseconds, with no model server. Below the confidence threshold the base model answers.
// Evaluate scores a labelled set, with a reliability table and the
// expected calibration error. Optionally (UseEmbeddings) a vote of the
// nearest examples under an embedding model is blended in.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/evo-tr/evo/brain"
)

// Router routes texts to experts; it is safe for concurrent use.
type Router struct {
	experts   []brain.Expert
	base      brain.Expert
	threshold float64
	model     *model
	fz        *featurizer
	pool      sync.Pool // *scratch
	emb       atomic.Pointer[embedIndex]
	log       *slog.Logger // nil: silent
}

var _ brain.Router = (*Router)(nil)

// Option configures a Router.
type Option func(*settings)

type settings struct {
	log *slog.Logger
}

// WithLogger makes the router log what goes wrong with the optional
// embedding vote (the classifier never fails). Without it the router is
// silent.
func WithLogger(log *slog.Logger) Option {
	return func(s *settings) { s.log = log }
}

// maxExperts is the most experts a router tells apart (a sample's class
// is 16 bits).
const maxExperts = 1<<16 - 1

// New trains a router on the experts' examples. Texts whose best expert
// has a confidence under threshold go to base, marked as a fallback.
// Training is deterministic: the same experts give the same decisions.
func New(experts []brain.Expert, base brain.Expert, threshold float64, opts ...Option) (*Router, error) {
	r, err := prepare(experts, base, threshold, opts)
	if err != nil {
		return nil, fmt.Errorf("new router: %w", err)
	}
	total := 0
	for _, x := range experts {
		total += len(x.Examples)
	}
	samples := make([]sample, 0, total)
	var store arena
	sc := &scratch{}
	for c, x := range experts {
		n := 0
		for _, ex := range x.Examples {
			if strings.TrimSpace(ex) == "" {
				continue
			}
			samples = append(samples, sample{feats: store.add(merge(r.fz.extract(ex, sc))), y: uint16(c), key: textHash(ex)})
			n++
		}
		if n == 0 && len(experts) > 1 {
			return nil, fmt.Errorf("new router: expert %q has no examples", x.Name)
		}
	}
	if len(experts) > 1 {
		r.model = train(samples, &store, len(experts))
	}
	return r, nil
}

// prepare checks the settings and builds a router with no model yet: what
// New and Load share.
func prepare(experts []brain.Expert, base brain.Expert, threshold float64, opts []Option) (*Router, error) {
	var st settings
	for _, o := range opts {
		o(&st)
	}
	if len(experts) == 0 {
		return nil, errors.New("no experts")
	}
	if len(experts) > maxExperts {
		return nil, fmt.Errorf("%d experts, at most %d", len(experts), maxExperts)
	}
	if threshold < 0 || threshold > 1 {
		return nil, fmt.Errorf("threshold %v is not between 0 and 1", threshold)
	}
	if base.Model == "" {
		return nil, errors.New("base model not set")
	}
	if base.Name == "" {
		base.Name = brain.BaseExpert
	}
	seen := map[string]bool{}
	for c, x := range experts {
		if x.Name == "" || x.Model == "" {
			return nil, fmt.Errorf("expert %d has no name or model", c)
		}
		if seen[x.Name] {
			return nil, fmt.Errorf("expert %q listed twice", x.Name)
		}
		seen[x.Name] = true
	}
	r := &Router{
		experts:   experts,
		base:      base,
		threshold: threshold,
		fz:        &featurizer{lex: newLexicon(experts), k: len(experts)},
		log:       st.log,
	}
	r.pool.New = func() any { return &scratch{} }
	return r, nil
}

// Route decides which expert answers text. It never fails: an empty text,
// or one the router is unsure of, goes to the base model.
func (r *Router) Route(ctx context.Context, text string) brain.Decision {
	fallback := brain.Decision{Expert: r.base.Name, Model: r.base.Model, Fallback: true}
	if strings.TrimSpace(text) == "" {
		return fallback
	}
	if r.model == nil { // a single expert answers everything
		x := r.experts[0]
		return brain.Decision{Expert: x.Name, Model: x.Model, Confidence: 1, Candidate: x.Name}
	}
	sc := r.pool.Get().(*scratch)
	defer r.pool.Put(sc)
	k := len(r.experts)
	if cap(sc.probs) < 2*k {
		sc.probs = make([]float64, 2*k)
	}
	p := sc.probs[:k]
	r.model.predict(r.fz.extract(text, sc), p, sc.probs[k:2*k])
	if ix := r.emb.Load(); ix != nil {
		if err := ix.blend(ctx, text, p); err != nil && r.log != nil {
			r.log.Warn("router: embedding vote skipped, the classifier decides alone", "model", ix.model, "err", err)
		}
	}

	best, second := 0, -1
	for c := 1; c < len(p); c++ {
		switch {
		case p[c] > p[best]:
			best, second = c, best
		case second < 0 || p[c] > p[second]:
			second = c
		}
	}
	d := brain.Decision{
		Expert:     r.experts[best].Name,
		Model:      r.experts[best].Model,
		Confidence: p[best],
		Candidate:  r.experts[best].Name,
	}
	if second >= 0 {
		d.RunnerUp = r.experts[second].Name
		d.RunnerUpConfidence = p[second]
	}
	if d.Confidence < r.threshold {
		d.Expert, d.Model, d.Fallback = r.base.Name, r.base.Model, true
	}
	return d
}

// Threshold returns the confidence under which the base model answers.
func (r *Router) Threshold() float64 { return r.threshold }

// Experts returns the names of the experts the router chooses from, in
// order.
func (r *Router) Experts() []string {
	names := make([]string, len(r.experts))
	for i, x := range r.experts {
		names[i] = x.Name
	}
	return names
}
