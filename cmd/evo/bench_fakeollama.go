package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain/ollama/ollamatest"
)

// benchOllama is the model evo bench talks to: a tiny in-process Ollama
// (/api/chat as NDJSON streams, /api/embed, /api/tags, /api/version) that
// answers at once, or at tokenRate tokens per second. It records, per
// bench tag found in the last user message, how long the model itself
// took, so that the bench can subtract it. (brain/ollama/ollamatest's
// server needs a *testing.T, so the binary carries this one; embeddings
// are ollamatest.Vector.)
type benchOllama struct {
	srv       *httptest.Server
	tokenRate float64
	dims      int
	models    []string

	mu        sync.Mutex
	modelTime map[string]time.Duration
}

// benchTag marks a bench user's message: b<user>x<message>.
var benchTag = regexp.MustCompile(`\bb\d+x\d+\b`)

// benchReplyWords is the reply before its tag: 12 tokens with the tag.
var benchReplyWords = strings.Fields("Tamam, anladım. Kısaca şöyle: bunu adım adım yapabiliriz, işte özet")

func newBenchOllama(tokenRate float64, dims int, models []string) *benchOllama {
	o := &benchOllama{tokenRate: tokenRate, dims: dims, models: models, modelTime: map[string]time.Duration{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("Ollama is running")) })
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"version": "0.6.5"})
	})
	mux.HandleFunc("GET /api/tags", o.tags)
	mux.HandleFunc("GET /api/ps", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(api.ProcessResponse{})
	})
	mux.HandleFunc("POST /api/chat", o.chat)
	mux.HandleFunc("POST /api/embed", o.embed)
	o.srv = httptest.NewServer(mux)
	return o
}

func (o *benchOllama) URL() string { return o.srv.URL }
func (o *benchOllama) Close()      { o.srv.Close() }

// took is the model's own time for the message tagged tag.
func (o *benchOllama) took(tag string) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.modelTime[tag]
}

func (o *benchOllama) tags(w http.ResponseWriter, _ *http.Request) {
	var lr api.ListResponse
	for _, m := range o.models {
		lr.Models = append(lr.Models, api.ListModelResponse{Name: m, Model: m, ModifiedAt: time.Now()})
	}
	_ = json.NewEncoder(w).Encode(lr)
}

func (o *benchOllama) chat(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req api.ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	if len(req.Messages) == 0 { // a preload (warm-up) or an unload
		_ = enc.Encode(api.ChatResponse{Model: req.Model, CreatedAt: time.Now().UTC(), Message: api.Message{Role: "assistant"},
			Done: true, DoneReason: "load"})
		return
	}
	var last string
	for _, m := range req.Messages {
		if m.Role == "user" {
			last = m.Content
		}
	}
	tag := benchTag.FindString(last)
	words := append(append([]string(nil), benchReplyWords...), tag)
	if tag == "" {
		words = words[:len(words)-1]
	}
	fl, _ := w.(http.Flusher)
	gap := time.Duration(0)
	if o.tokenRate > 0 {
		gap = time.Duration(float64(time.Second) / o.tokenRate)
	}
	for i, word := range words {
		if i > 0 {
			word = " " + word
			if gap > 0 {
				select {
				case <-time.After(gap):
				case <-r.Context().Done():
					return
				}
			}
		}
		_ = enc.Encode(api.ChatResponse{Model: req.Model, CreatedAt: time.Now().UTC(),
			Message: api.Message{Role: "assistant", Content: word}})
		if fl != nil {
			fl.Flush()
		}
	}
	_ = enc.Encode(api.ChatResponse{Model: req.Model, CreatedAt: time.Now().UTC(), Message: api.Message{Role: "assistant"},
		Done: true, DoneReason: "stop", Metrics: api.Metrics{PromptEvalCount: 20, EvalCount: len(words),
			TotalDuration: time.Since(start), EvalDuration: time.Since(start)}})
	if tag != "" {
		o.mu.Lock()
		o.modelTime[tag] += time.Since(start)
		o.mu.Unlock()
	}
}

func (o *benchOllama) embed(w http.ResponseWriter, r *http.Request) {
	var req api.EmbedRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	var input []string
	switch in := req.Input.(type) {
	case string:
		input = []string{in}
	case []any:
		for _, x := range in {
			s, _ := x.(string)
			input = append(input, s)
		}
	}
	resp := api.EmbedResponse{Model: req.Model}
	for _, s := range input {
		resp.Embeddings = append(resp.Embeddings, ollamatest.Vector(s, o.dims))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}
