// Package ollamatest is the one fake Ollama server every EVO-TR test uses.
// It speaks Ollama's HTTP API as Ollama v0.6.5 does (same paths, field
// names, status codes and error bodies): streamed and single-JSON chat,
// generate, embed, tags, show, ps, version, create, blobs, delete and the
// "Ollama is running" root. Replies are deterministic (DefaultReply), so a
// test can tell which answer reached which user; timing, models and
// failures are configurable; and every request is recorded for
// assertions. Contract runs the same checks against any server, fake or
// real.
package ollamatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// DefaultModels are the models a Server has unless WithModels says
// otherwise: EVO-TR's base model and its two experts.
var DefaultModels = []string{"qwen2.5:3b-instruct", "tr_chat", "python_coder"}

// DefaultEmbedDims is the length of the fake's embedding vectors.
const DefaultEmbedDims = 64

// ReplyFunc makes the full reply text for a chat request.
type ReplyFunc func(req api.ChatRequest) string

// Request is one recorded HTTP request.
type Request struct {
	Method string
	Path   string
	// Body is the request body (nil for blob uploads, which can be large).
	Body []byte
}

// Server is a fake Ollama server on a local port. Its methods are safe for
// concurrent use.
type Server struct {
	srv     *httptest.Server
	closing chan struct{}
	close   sync.Once

	mu          sync.Mutex
	models      map[string]*fakeModel // by canonical name
	loaded      map[string]*runner    // by canonical name
	blobs       map[string]int64      // digest → size
	reply       ReplyFunc
	tokenDelay  time.Duration
	firstDelay  time.Duration
	loadDelay   time.Duration
	embedDims   int
	version     string
	faults      []*Fault
	gate        chan struct{} // non-nil while chats are held
	requests    []Request
	chats       []api.ChatRequest
	generates   []api.GenerateRequest
	embeds      []api.EmbedRequest
	creates     []api.CreateRequest
	loads       []string
	inFlight    int
	maxInFlight int
	aborted     int
	changed     chan struct{} // closed and replaced when inFlight changes
}

// Option configures a Server.
type Option func(*Server)

// WithModels sets the models the server has (replacing DefaultModels).
func WithModels(names ...string) Option {
	return func(s *Server) {
		s.models = map[string]*fakeModel{}
		for _, n := range names {
			s.addModel(n, "")
		}
	}
}

// WithReply sets the reply function (default DefaultReply).
func WithReply(f ReplyFunc) Option { return func(s *Server) { s.reply = f } }

// WithTokenDelay sleeps d before each token after the first.
func WithTokenDelay(d time.Duration) Option { return func(s *Server) { s.tokenDelay = d } }

// WithFirstTokenDelay sleeps d before the first token (a slow prompt).
func WithFirstTokenDelay(d time.Duration) Option { return func(s *Server) { s.firstDelay = d } }

// WithLoadDelay sleeps d whenever a model is loaded (first use, or a
// request with different load-time options); it shows in load_duration.
func WithLoadDelay(d time.Duration) Option { return func(s *Server) { s.loadDelay = d } }

// WithEmbedDims sets the embedding length (default DefaultEmbedDims).
func WithEmbedDims(n int) Option { return func(s *Server) { s.embedDims = n } }

// WithVersion sets what /api/version reports (default "0.6.5").
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// NewServer starts a fake Ollama server; it is closed when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		closing:   make(chan struct{}),
		models:    map[string]*fakeModel{},
		loaded:    map[string]*runner{},
		blobs:     map[string]int64{},
		reply:     DefaultReply,
		embedDims: DefaultEmbedDims,
		version:   "0.6.5",
		changed:   make(chan struct{}),
	}
	for _, n := range DefaultModels {
		s.addModel(n, "")
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s.routes())
	tb.Cleanup(s.Close)
	return s
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.srv.URL }

// Client is an *http.Client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close releases held chats, ends streams in progress and stops the
// server. It is safe to call more than once.
func (s *Server) Close() {
	s.close.Do(func() {
		close(s.closing)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Ollama is running")
	})
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		v := s.version
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"version": v})
	})
	mux.HandleFunc("POST /api/chat", s.handleChat)
	mux.HandleFunc("POST /api/generate", s.handleGenerate)
	mux.HandleFunc("POST /api/embed", s.handleEmbed)
	mux.HandleFunc("GET /api/tags", s.handleTags)
	mux.HandleFunc("POST /api/show", s.handleShow)
	mux.HandleFunc("GET /api/ps", s.handlePs)
	mux.HandleFunc("POST /api/create", s.handleCreate)
	mux.HandleFunc("DELETE /api/delete", s.handleDelete)
	mux.HandleFunc("POST /api/blobs/{digest}", s.handleCreateBlob)
	mux.HandleFunc("HEAD /api/blobs/{digest}", s.handleHeadBlob)
	return s.record(mux)
}

// record keeps every request (method, path, body) before routing it.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{Method: r.Method, Path: r.URL.Path}
		isBlob := len(r.URL.Path) > len("/api/blobs/") && r.URL.Path[:len("/api/blobs/")] == "/api/blobs/"
		if r.Body != nil && !isBlob {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
				return
			}
			rec.Body = body
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Requests returns every request so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ChatRequests returns every decoded /api/chat request (preloads
// included), in arrival order.
func (s *Server) ChatRequests() []api.ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]api.ChatRequest(nil), s.chats...)
}

// GenerateRequests returns every decoded /api/generate request.
func (s *Server) GenerateRequests() []api.GenerateRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]api.GenerateRequest(nil), s.generates...)
}

// EmbedRequests returns every decoded /api/embed request.
func (s *Server) EmbedRequests() []api.EmbedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]api.EmbedRequest(nil), s.embeds...)
}

// CreateRequests returns every decoded /api/create request.
func (s *Server) CreateRequests() []api.CreateRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]api.CreateRequest(nil), s.creates...)
}

// Loads returns the models loaded so far, once per load, in order: a
// model appears again when a request with different load-time options
// (num_ctx, ...) made the server reload it.
func (s *Server) Loads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.loads...)
}

// ResetRecords forgets the recorded requests and loads (not the models
// loaded now).
func (s *Server) ResetRecords() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.chats, s.generates, s.embeds, s.creates, s.loads = nil, nil, nil, nil, nil, nil
	s.maxInFlight = s.inFlight
	s.aborted = 0
}

// SetReply replaces the reply function.
func (s *Server) SetReply(f ReplyFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = f
}

// SetTokenDelay changes the delay between tokens.
func (s *Server) SetTokenDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenDelay = d
}

// InFlight is the number of chats being answered now.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// MaxInFlight is the most chats answered at the same time so far.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Aborted is the number of chats whose client went away before the
// reply's final line.
func (s *Server) Aborted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aborted
}

// WaitInFlight blocks until exactly n chats are being answered, or ctx
// ends.
func (s *Server) WaitInFlight(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		cur, ch := s.inFlight, s.changed
		s.mu.Unlock()
		if cur == n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("ollamatest: chats in flight: want %d, have %d: %w", n, cur, ctx.Err())
		}
	}
}

// Hold makes chats wait before their first token (they count as in
// flight) until release is called. release is idempotent.
func (s *Server) Hold() (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.gate == gate {
				s.gate = nil
			}
			s.mu.Unlock()
			close(gate)
		})
	}
}

func (s *Server) enter() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	close(s.changed)
	s.changed = make(chan struct{})
}

// sleep waits d, or returns false when the request or the server ends.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// waitGate blocks while chats are held.
func (s *Server) waitGate(ctx context.Context) bool {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate == nil {
		return true
	}
	select {
	case <-gate:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// writeJSON writes v the way gin's c.JSON does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"marshal: `+err.Error()+`"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// writeError writes Ollama's error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// decode reads a JSON body as the real server does, answering 400 with
// "missing request body" or the decoder's message.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	err := json.NewDecoder(r.Body).Decode(v)
	switch {
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "missing request body")
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}
