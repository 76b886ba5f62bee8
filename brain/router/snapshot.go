package router

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/evo-tr/evo/brain"
)

// A snapshot is a trained router's weights on disk, so that a restart with
// unchanged experts skips training: start-up goes from seconds to
// milliseconds, and the features of every example (the biggest part of
// the service's memory at start-up) are never built.
//
// Layout, little-endian: snapshotMagic; the 32-byte fingerprint of what
// was trained (Fingerprint); k; the final model's temperature; the number
// of models (the final one, then the fold models); each model's weights
// (a count, then bfloat16s); the probes (a count, then for each the index
// of an example and its k probabilities). Loading recomputes the probes
// with the features of the running code: a snapshot made by a featurizer
// that is not this one is refused even when the caller's salt is the
// same.
const snapshotMagic = "evo-router-snapshot\x00\x03"

// probes is how many examples a snapshot keeps the probabilities of.
const probes = 16

// ErrStale is returned by Load when a snapshot was made for other experts
// or examples, another salt, or other features: train anew with New.
var ErrStale = errors.New("router snapshot is stale")

// Fingerprint identifies what a router trains on: the format, salt (the
// caller's, such as a hash of its own program, so that new code never
// loads old weights), and every expert's name, examples and keywords, in
// order. Equal fingerprints train equal routers.
func Fingerprint(experts []brain.Expert, salt []byte) [32]byte {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		io.WriteString(h, s)
	}
	field(snapshotMagic)
	field(string(salt))
	field(fmt.Sprint(len(experts)))
	for _, x := range experts {
		field(x.Name)
		field(fmt.Sprint(len(x.Examples)))
		for _, ex := range x.Examples {
			field(ex)
		}
		field(fmt.Sprint(len(x.Keywords)))
		for _, kw := range x.Keywords {
			field(kw)
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Save writes r's trained weights to w, fingerprinted with salt; Load
// with the same experts and salt restores r.
func (r *Router) Save(w io.Writer, salt []byte) error {
	bw := bufio.NewWriter(w)
	put := func(v any) { _ = binary.Write(bw, binary.LittleEndian, v) } // bufio keeps the first error
	bw.WriteString(snapshotMagic)
	fp := Fingerprint(r.experts, salt)
	bw.Write(fp[:])
	k := len(r.experts)
	put(uint32(k))
	if r.model != nil { // nil: one expert, nothing trained
		put(r.model.temp)
		models := append([]*model{r.model}, r.model.bag...)
		put(uint32(len(models)))
		for _, m := range models {
			put(uint32(len(m.w)))
			bw.Write(weightBytes(m.w))
		}
		texts, ids := r.probeTexts()
		put(uint32(len(ids)))
		p := make([]float64, 2*k)
		for i, id := range ids {
			r.model.predict(r.fz.extract(texts[i], &scratch{}), p[:k], p[k:])
			put(uint32(id))
			put(p[:k])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("save router: %w", err)
	}
	return nil
}

// probeTexts picks up to probes examples spread over all of them, and
// their indices in the experts' examples taken in order.
func (r *Router) probeTexts() ([]string, []int) {
	var all []string
	for _, x := range r.experts {
		for _, ex := range x.Examples {
			all = append(all, ex)
		}
	}
	var texts []string
	var ids []int
	for i := 0; i < len(all) && len(ids) < probes; i += max(1, len(all)/probes) {
		if strings.TrimSpace(all[i]) != "" {
			texts = append(texts, all[i])
			ids = append(ids, i)
		}
	}
	return texts, ids
}

// Load restores a router that Save wrote for the same experts and salt.
// It returns an error wrapping ErrStale when the snapshot is for anything
// else, and another error when it cannot be read; either way the caller
// trains with New.
func Load(rd io.Reader, salt []byte, experts []brain.Expert, base brain.Expert, threshold float64, opts ...Option) (*Router, error) {
	r, err := prepare(experts, base, threshold, opts)
	if err != nil {
		return nil, fmt.Errorf("load router: %w", err)
	}
	br := bufio.NewReader(rd)
	get := func(v any) error { return binary.Read(br, binary.LittleEndian, v) }
	head := make([]byte, len(snapshotMagic)+32)
	if _, err := io.ReadFull(br, head); err != nil {
		return nil, fmt.Errorf("load router: header: %w", err)
	}
	if string(head[:len(snapshotMagic)]) != snapshotMagic {
		return nil, fmt.Errorf("load router: not a snapshot of this format: %w", ErrStale)
	}
	if fp := Fingerprint(experts, salt); !slices.Equal(head[len(snapshotMagic):], fp[:]) {
		return nil, fmt.Errorf("load router: made for other experts, examples or code: %w", ErrStale)
	}
	var k uint32
	if err := get(&k); err != nil || int(k) != len(experts) {
		return nil, fmt.Errorf("load router: expert count: %w", errors.Join(err, ErrStale))
	}
	if len(experts) == 1 {
		return r, nil
	}
	var temp float64
	var n uint32
	if err := errors.Join(get(&temp), get(&n)); err != nil {
		return nil, fmt.Errorf("load router: %w", err)
	}
	if n == 0 || n > folds+1 || !(temp > 0) || math.IsInf(temp, 0) {
		return nil, fmt.Errorf("load router: %d models at temperature %v: %w", n, temp, ErrStale)
	}
	var models []*model
	for range n {
		m := newModel(len(experts), nil)
		var size uint32
		if err := get(&size); err != nil {
			return nil, fmt.Errorf("load router: %w", err)
		}
		if int(size) != len(m.w) {
			return nil, fmt.Errorf("load router: %d weights, want %d: %w", size, len(m.w), ErrStale)
		}
		if err := readWeights(br, m.w); err != nil {
			return nil, fmt.Errorf("load router: weights: %w", err)
		}
		m.temp = temp
		models = append(models, m)
	}
	r.model = models[0]
	r.model.bag = models[1:]
	if err := r.checkProbes(br, get); err != nil {
		return nil, fmt.Errorf("load router: %w", err)
	}
	return r, nil
}

// checkProbes reads the snapshot's probes and recomputes them with this
// code's features: any difference means the features changed.
func (r *Router) checkProbes(br *bufio.Reader, get func(any) error) error {
	texts, ids := r.probeTexts()
	var n uint32
	if err := get(&n); err != nil {
		return fmt.Errorf("probes: %w", err)
	}
	if int(n) != len(ids) {
		return fmt.Errorf("%d probes, want %d: %w", n, len(ids), ErrStale)
	}
	k := len(r.experts)
	want := make([]float64, k)
	got := make([]float64, 2*k)
	for i, id := range ids {
		var at uint32
		if err := errors.Join(get(&at), get(want)); err != nil {
			return fmt.Errorf("probes: %w", err)
		}
		if int(at) != id {
			return fmt.Errorf("probe %d is example %d, want %d: %w", i, at, id, ErrStale)
		}
		r.model.predict(r.fz.extract(texts[i], &scratch{}), got[:k], got[k:])
		for c := range want {
			if math.Abs(got[c]-want[c]) > 1e-9 {
				return fmt.Errorf("probe %d gives %v, the snapshot %v: %w", i, got[:k], want, ErrStale)
			}
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return fmt.Errorf("bytes after the probes: %w", ErrStale)
	}
	return nil
}

// weightBytes returns w little-endian.
func weightBytes(w []bf16) []byte {
	b := make([]byte, 2*len(w))
	for i, h := range w {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(h))
	}
	return b
}

// readWeights fills w from little-endian bytes of r.
func readWeights(r io.Reader, w []bf16) error {
	buf := make([]byte, 64<<10)
	for len(w) > 0 {
		n := min(len(buf)/2, len(w))
		if _, err := io.ReadFull(r, buf[:2*n]); err != nil {
			return err
		}
		for i := range n {
			w[i] = bf16(binary.LittleEndian.Uint16(buf[2*i:]))
		}
		w = w[n:]
	}
	return nil
}
