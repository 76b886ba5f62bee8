package ollamatest

import (
	"hash/fnv"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/ollama/ollama/api"
)

// Vector is the fake's embedding of text: an L2-normalized, deterministic
// vector of dims numbers. Each word (lowercased, punctuation dropped) adds
// to two hashed coordinates, so texts sharing words are close in cosine
// distance; a small term hashed from the whole text keeps every vector
// non-zero and different texts apart.
func Vector(text string, dims int) []float32 {
	v := make([]float64, dims)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		h := hash64(w)
		for _, part := range []uint64{h, h >> 32} {
			sign := 1.0
			if part&(1<<20) != 0 {
				sign = -1
			}
			v[part%uint64(dims)] += sign
		}
	}
	seed := hash64("\x00" + text)
	for i := range v {
		seed = splitmix(seed)
		v[i] += 0.05 * (float64(seed>>11)/float64(1<<53)*2 - 1)
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	out := make([]float32, dims)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req api.EmbedRequest
	if !decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	s.embeds = append(s.embeds, req)
	dims := s.embedDims
	s.mu.Unlock()

	var input []string
	switch in := req.Input.(type) {
	case string:
		if in != "" {
			input = append(input, in)
		}
	case []any:
		for _, x := range in {
			str, ok := x.(string)
			if !ok {
				writeError(w, http.StatusBadRequest, "invalid input type")
				return
			}
			input = append(input, str)
		}
	default:
		if req.Input != nil {
			writeError(w, http.StatusBadRequest, "invalid input type")
			return
		}
	}
	if !s.requireModel(w, req.Model) {
		return
	}
	opts, err := parseOptions(req.Options)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if f := s.takeFault(req.Model, FaultStatus); f != nil {
		writeError(w, f.Status, f.Message)
		return
	}
	loadDur, ok := s.ensureLoaded(r.Context(), req.Model, req.Options, opts, req.KeepAlive)
	if !ok {
		return
	}
	if len(input) == 0 {
		writeJSON(w, http.StatusOK, api.EmbedResponse{Model: req.Model, Embeddings: [][]float32{}})
		return
	}
	out := make([][]float32, len(input))
	count := 0
	for i, text := range input {
		out[i] = Vector(text, dims)
		count += len(text)/4 + 1
	}
	writeJSON(w, http.StatusOK, api.EmbedResponse{Model: req.Model, Embeddings: out,
		TotalDuration: time.Since(start), LoadDuration: loadDur, PromptEvalCount: count})
}
