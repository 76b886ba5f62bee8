package ollamatest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// FaultKind is a way the fake fails.
type FaultKind int

// Fault kinds.
const (
	// FaultStatus answers Status (default 500) with Message as Ollama's
	// error body, before any token.
	FaultStatus FaultKind = iota + 1
	// FaultStreamError sends AfterTokens tokens, then an {"error":...}
	// line: what Ollama does when its runner dies mid-reply.
	FaultStreamError
	// FaultDrop sends AfterTokens tokens, then cuts the connection.
	FaultDrop
	// FaultGarbage sends AfterTokens tokens, then a line that is not JSON
	// and not valid UTF-8, and ends the response.
	FaultGarbage
)

// Fault makes chat and generate requests fail (embed requests too, for
// FaultStatus).
type Fault struct {
	Kind FaultKind
	// Model limits the fault to one model; "" hits every model.
	Model string
	// Status is FaultStatus's HTTP status (default 500).
	Status int
	// Message is the error text (a runner crash by default).
	Message string
	// AfterTokens is how many tokens are sent before the stream breaks.
	AfterTokens int
	// Times is how many requests the fault hits; 0 means every one.
	Times int
}

// Inject adds a fault; the first matching fault hits a request.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Message = cmp.Or(f.Message, "llama runner process has terminated: exit status 2")
	f.Status = cmp.Or(f.Status, http.StatusInternalServerError)
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the fault hitting a request for model, if any.
func (s *Server) takeFault(model string, kinds ...FaultKind) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Model != "" && canonical(f.Model) != canonical(model) {
			continue
		}
		if len(kinds) > 0 && !contains(kinds, f.Kind) {
			continue
		}
		hit := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &hit
	}
	return nil
}

func contains(ks []FaultKind, k FaultKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// generation is one chat or generate request after its checks.
type generation struct {
	model    string
	stream   bool
	msgs     []api.Message
	options  map[string]any
	keep     *api.Duration
	start    time.Time
	asChat   api.ChatRequest // what the reply function sees
	generate bool            // answer with /api/generate's lines
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req api.ChatRequest
	if !decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	s.chats = append(s.chats, req)
	s.mu.Unlock()

	if len(req.Messages) == 0 && req.KeepAlive != nil && int(req.KeepAlive.Seconds()) == 0 {
		s.unload(w, req.Model, func() any {
			return api.ChatResponse{Model: req.Model, CreatedAt: time.Now().UTC(),
				Message: api.Message{Role: "assistant"}, Done: true, DoneReason: "unload"}
		})
		return
	}
	if !s.requireModel(w, req.Model) {
		return
	}
	g := generation{model: req.Model, stream: req.Stream == nil || *req.Stream, msgs: req.Messages,
		options: req.Options, keep: req.KeepAlive, start: start, asChat: req}
	if len(req.Messages) == 0 {
		s.preload(w, r, g, func() any {
			return api.ChatResponse{Model: req.Model, CreatedAt: time.Now().UTC(),
				Message: api.Message{Role: "assistant"}, Done: true, DoneReason: "load"}
		})
		return
	}
	s.answer(w, r, g)
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req api.GenerateRequest
	if !decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	s.generates = append(s.generates, req)
	s.mu.Unlock()
	if s.model(req.Model) == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", req.Model))
		return
	}
	if req.Prompt == "" && req.KeepAlive != nil && int(req.KeepAlive.Seconds()) == 0 {
		s.unload(w, req.Model, func() any {
			return api.GenerateResponse{Model: req.Model, CreatedAt: time.Now().UTC(), Done: true, DoneReason: "unload"}
		})
		return
	}
	var msgs []api.Message
	if req.System != "" {
		msgs = append(msgs, api.Message{Role: "system", Content: req.System})
	}
	msgs = append(msgs, api.Message{Role: "user", Content: req.Prompt})
	g := generation{model: req.Model, stream: req.Stream == nil || *req.Stream, msgs: msgs,
		options: req.Options, keep: req.KeepAlive, start: start, generate: true,
		asChat: api.ChatRequest{Model: req.Model, Messages: msgs, Options: req.Options}}
	if req.Prompt == "" {
		s.preload(w, r, g, func() any {
			return api.GenerateResponse{Model: req.Model, CreatedAt: time.Now().UTC(), Done: true, DoneReason: "load"}
		})
		return
	}
	s.answer(w, r, g)
}

// unload frees a model (empty request with keep_alive 0).
func (s *Server) unload(w http.ResponseWriter, model string, resp func() any) {
	s.mu.Lock()
	_, ok := s.models[canonical(model)]
	delete(s.loaded, canonical(model))
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model '%s' not found", model))
		return
	}
	writeJSON(w, http.StatusOK, resp())
}

// preload loads a model and answers at once, without load_duration, as
// Ollama v0.6.5 does.
func (s *Server) preload(w http.ResponseWriter, r *http.Request, g generation, resp func() any) {
	opts, err := parseOptions(g.options)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if _, ok := s.ensureLoaded(r.Context(), g.model, g.options, opts, g.keep); !ok {
		return
	}
	writeJSON(w, http.StatusOK, resp())
}

// answer runs one generation: load, reply, stream.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, g generation) {
	ctx := r.Context()
	opts, err := parseOptions(g.options)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if f := s.takeFault(g.model, FaultStatus); f != nil {
		writeError(w, f.Status, f.Message)
		return
	}
	fault := s.takeFault(g.model, FaultStreamError, FaultDrop, FaultGarbage)

	s.enter()
	defer s.leave()
	defer func() {
		if ctx.Err() != nil {
			s.mu.Lock()
			s.aborted++
			s.mu.Unlock()
		}
	}()
	loadDur, ok := s.ensureLoaded(ctx, g.model, g.options, opts, g.keep)
	if !ok || !s.waitGate(ctx) {
		return
	}
	s.mu.Lock()
	reply, firstDelay, tokenDelay := s.reply, s.firstDelay, s.tokenDelay
	s.mu.Unlock()
	if !s.sleep(ctx, firstDelay) {
		return
	}
	genStart := time.Now()
	text := reply(g.asChat)
	reason := "stop"
	for _, stop := range opts.Stop {
		if i := strings.Index(text, stop); stop != "" && i >= 0 {
			text = text[:i]
		}
	}
	tokens := Tokens(text)
	if opts.NumPredict > 0 && len(tokens) > opts.NumPredict {
		tokens, reason = tokens[:opts.NumPredict], "length"
	}
	metrics := func() api.Metrics {
		return api.Metrics{
			TotalDuration:      time.Since(g.start),
			LoadDuration:       loadDur,
			PromptEvalCount:    promptTokens(g.msgs),
			PromptEvalDuration: genStart.Sub(g.start) - loadDur,
			EvalCount:          len(tokens),
			EvalDuration:       time.Since(genStart),
		}
	}
	line := func(content string, done bool) any {
		if g.generate {
			resp := api.GenerateResponse{Model: g.model, CreatedAt: time.Now().UTC(), Response: content, Done: done}
			if done {
				resp.DoneReason, resp.Metrics = reason, metrics()
			}
			return resp
		}
		resp := api.ChatResponse{Model: g.model, CreatedAt: time.Now().UTC(),
			Message: api.Message{Role: "assistant", Content: content}, Done: done}
		if done {
			resp.DoneReason, resp.Metrics = reason, metrics()
		}
		return resp
	}

	if !g.stream {
		for i := range tokens {
			if i > 0 && !s.sleep(ctx, tokenDelay) {
				return
			}
		}
		if fault != nil {
			writeError(w, http.StatusInternalServerError, fault.Message)
			return
		}
		writeJSON(w, http.StatusOK, line(strings.Join(tokens, ""), true))
		return
	}

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	// Each line is flushed as soon as it is written, as Ollama does, except
	// when tokens come without delay: then only the first is, and the rest
	// go out as the buffer fills (the client sees the same lines, sooner).
	send := func(v any, flush bool) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return false
		}
		if flush && flusher != nil {
			flusher.Flush()
		}
		return true
	}
	for i, tok := range tokens {
		if fault != nil && i == fault.AfterTokens {
			s.breakStream(w, flusher, fault)
			return
		}
		if i > 0 && !s.sleep(ctx, tokenDelay) {
			return
		}
		if !send(line(tok, false), i == 0 || tokenDelay > 0) {
			return
		}
	}
	if fault != nil {
		s.breakStream(w, flusher, fault)
		return
	}
	send(line("", true), true)
}

// breakStream ends a stream the way the fault says.
func (s *Server) breakStream(w http.ResponseWriter, flusher http.Flusher, f *Fault) {
	switch f.Kind {
	case FaultStreamError:
		b, _ := json.Marshal(map[string]string{"error": f.Message})
		w.Write(append(b, '\n'))
	case FaultGarbage:
		w.Write([]byte("\xff\xfe not json \xc3\x28\n"))
	case FaultDrop:
		if flusher != nil {
			flusher.Flush()
		}
		// Abort the response: net/http closes the connection without
		// ending the chunked body, as a crashed server would.
		panic(http.ErrAbortHandler)
	}
	if flusher != nil {
		flusher.Flush()
	}
}

// ensureLoaded loads a model unless it is loaded with the same load-time
// options, waiting the load delay; it returns how long the request waited.
func (s *Server) ensureLoaded(ctx context.Context, model string, raw map[string]any, opts api.Options, keep *api.Duration) (time.Duration, bool) {
	start := time.Now()
	c := canonical(model)
	key := runnerKey(raw)
	s.mu.Lock()
	rn := s.loaded[c]
	if rn == nil || rn.key != key {
		rn = &runner{name: display(model), key: key, numCtx: cmp.Or(opts.NumCtx, 2048), ready: make(chan struct{})}
		s.loaded[c] = rn
		s.loads = append(s.loads, display(model))
		if s.loadDelay <= 0 {
			close(rn.ready)
		} else {
			go func(d time.Duration, ready chan struct{}) {
				s.sleep(context.Background(), d)
				close(ready)
			}(s.loadDelay, rn.ready)
		}
	}
	rn.expires = expiry(keep)
	ready := rn.ready
	s.mu.Unlock()
	select {
	case <-ready:
		return time.Since(start), true
	case <-ctx.Done():
		return 0, false
	case <-s.closing:
		return 0, false
	}
}

// optionFields maps each option name of Ollama's API to whether it is a
// load-time (runner) option.
var optionFields = func() map[string]bool {
	out := map[string]bool{}
	isRunner := map[string]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[api.Runner]()) {
		isRunner[strings.Split(f.Tag.Get("json"), ",")[0]] = true
	}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[api.Options]()) {
		if tag := strings.Split(f.Tag.Get("json"), ",")[0]; tag != "" {
			out[tag] = isRunner[tag]
		}
	}
	return out
}()

// parseOptions checks option types as Ollama does (a wrong type is a 500);
// unknown options are ignored, as Ollama ignores them with a warning.
func parseOptions(raw map[string]any) (api.Options, error) {
	known := map[string]any{}
	for k, v := range raw {
		if _, ok := optionFields[k]; ok {
			known[k] = v
		}
	}
	var opts api.Options
	err := opts.FromMap(known)
	return opts, err
}

// runnerKey identifies the load-time options of a request.
func runnerKey(raw map[string]any) string {
	m := map[string]any{}
	for k, v := range raw {
		if optionFields[k] {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// requireModel answers a request for a model it does not have as the real
// /api/chat and /api/embed do (400 without a name, 404 for an unknown one)
// and reports whether the request may go on.
func (s *Server) requireModel(w http.ResponseWriter, name string) bool {
	if strings.TrimSpace(name) == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return false
	}
	if s.model(name) == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", name))
		return false
	}
	return true
}
