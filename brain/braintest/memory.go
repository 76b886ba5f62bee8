package braintest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
)

// LongTermMemory is what a long-term memory store serves: recall for the
// brain, writes for the night job and deletion for /wipe.
type LongTermMemory interface {
	brain.Recall
	brain.Memorizer
	brain.Forgetter
	brain.MemoryLister
}

// MemMemory is a LongTermMemory in memory. It behaves like the ChromaDB
// store: the distance of a memory is 1 − the cosine of its vector and the
// query's (vectors from the Embedder), Time is kept to the second, and
// what that store refuses is refused. It is safe for concurrent use.
type MemMemory struct {
	embed brain.Embedder
	model string

	mu    sync.Mutex
	users map[userKey]map[string]memEntry
}

// memEntry is one stored memory with its vector.
type memEntry struct {
	m   brain.Memory
	vec []float32
}

var (
	_ LongTermMemory = (*MemMemory)(nil)
	_ brain.Embedder = HashEmbedder{}
)

// NewMemMemory returns an empty MemMemory that embeds texts with e and
// model; a nil e embeds with HashEmbedder.
func NewMemMemory(e brain.Embedder, model string) *MemMemory {
	if e == nil {
		e = HashEmbedder{}
	}
	return &MemMemory{embed: e, model: model, users: map[userKey]map[string]memEntry{}}
}

// Remember stores copies of ms; a memory whose ID the user has already
// replaces it. Nothing is stored when one memory is invalid.
func (s *MemMemory) Remember(ctx context.Context, p brain.Platform, userID string, ms []brain.Memory) error {
	if err := brain.ValidateMemories(p, userID, ms); err != nil {
		return fmt.Errorf("remember: %w", err)
	}
	if len(ms) == 0 {
		return nil
	}
	texts := make([]string, len(ms))
	for i, m := range ms {
		texts[i] = m.Text
	}
	vecs, err := s.embed.Embed(ctx, s.model, texts)
	if err != nil {
		return fmt.Errorf("embed memories: %w", err)
	}
	if len(vecs) != len(ms) {
		return fmt.Errorf("embed memories: got %d vectors for %d texts", len(vecs), len(ms))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := userKey{p, userID}
	if s.users[k] == nil {
		s.users[k] = map[string]memEntry{}
	}
	for i, m := range ms {
		m.Tags = slices.Clone(m.Tags)
		m.Time = m.Time.Truncate(time.Second).UTC()
		m.Distance = 0
		s.users[k][m.ID] = memEntry{m: m, vec: slices.Clone(vecs[i])}
	}
	return nil
}

// Top returns up to k memories of the user nearest to text, nearest first.
func (s *MemMemory) Top(ctx context.Context, p brain.Platform, userID, text string, k int) ([]brain.Memory, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, fmt.Errorf("recall: %w", err)
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("recall: text is not valid UTF-8")
	}
	if k <= 0 || strings.TrimSpace(text) == "" {
		return nil, nil
	}
	s.mu.Lock()
	n := len(s.users[userKey{p, userID}])
	s.mu.Unlock()
	if n == 0 {
		return nil, nil
	}
	vecs, err := s.embed.Embed(ctx, s.model, []string{text})
	if err != nil {
		return nil, fmt.Errorf("embed query: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("embed query: got %d vectors for 1 text", len(vecs))
	}
	s.mu.Lock()
	out := make([]brain.Memory, 0, len(s.users[userKey{p, userID}]))
	for _, e := range s.users[userKey{p, userID}] {
		m := e.m
		m.Tags = slices.Clone(m.Tags)
		m.Distance = CosineDistance(vecs[0], e.vec)
		out = append(out, m)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b brain.Memory) int {
		if a.Distance != b.Distance {
			if a.Distance < b.Distance {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// ForgetUser deletes every memory of the user.
func (s *MemMemory) ForgetUser(_ context.Context, p brain.Platform, userID string) error {
	if err := brain.ValidateUser(p, userID); err != nil {
		return fmt.Errorf("forget user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, userKey{p, userID})
	return nil
}

// List implements brain.MemoryLister.
func (s *MemMemory) List(_ context.Context, p brain.Platform, userID string, limit int) ([]brain.Memory, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, fmt.Errorf("list memories: %w", err)
	}
	if limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	out := make([]brain.Memory, 0, len(s.users[userKey{p, userID}]))
	for _, e := range s.users[userKey{p, userID}] {
		m := e.m
		m.Tags = slices.Clone(m.Tags)
		out = append(out, m)
	}
	s.mu.Unlock()
	brain.SortNewestFirst(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Len returns how many memories the user has.
func (s *MemMemory) Len(p brain.Platform, userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users[userKey{p, userID}])
}

// CosineDistance is 1 − the cosine of a and b, as ChromaDB's cosine space
// measures it; 1 when either is zero or their lengths differ.
func CosineDistance(a, b []float32) float64 {
	if len(a) != len(b) {
		return 1
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 1
	}
	return 1 - dot/math.Sqrt(na*nb)
}

// HashEmbedder is a deterministic brain.Embedder for tests: a bag of the
// text's lowercased words (Turkish casing), each hashed into one of Dims
// dimensions, L2-normalized. Texts sharing words are near; a text with no
// words gets a fixed vector. The model is ignored.
type HashEmbedder struct {
	// Dims is the vector length; 0 means 64.
	Dims int
}

// Embed returns one vector per text.
func (h HashEmbedder) Embed(ctx context.Context, _ string, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dims := h.Dims
	if dims <= 0 {
		dims = 64
	}
	out := make([][]float32, len(texts))
	for i, text := range texts {
		v := make([]float32, dims)
		words := strings.FieldsFunc(strings.ToLowerSpecial(unicode.TurkishCase, text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
		if len(words) == 0 {
			words = []string{""}
		}
		for _, w := range words {
			f := fnv.New32a()
			_, _ = f.Write([]byte(w))
			v[f.Sum32()%uint32(dims)]++
		}
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		norm = math.Sqrt(norm)
		for j := range v {
			v[j] = float32(float64(v[j]) / norm)
		}
		out[i] = v
	}
	return out, nil
}
