package brain_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

// fakeLLM answers by a reply function and records every request.
type fakeLLM struct {
	mu       sync.Mutex
	requests []brain.ChatRequest
	inFlight int
	maxSeen  int
	// reply computes the answer; nil echoes the last user message.
	reply func(req brain.ChatRequest) (string, error)
	delay time.Duration
}

var _ brain.LLM = (*fakeLLM)(nil)

func (f *fakeLLM) Chat(ctx context.Context, req brain.ChatRequest, fn func(string) error) (brain.ChatStats, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.inFlight++
	f.maxSeen = max(f.maxSeen, f.inFlight)
	reply := f.reply
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return brain.ChatStats{}, ctx.Err()
		}
	}
	text := "cevap: " + req.Messages[len(req.Messages)-1].Content
	var err error
	if reply != nil {
		text, err = reply(req)
	}
	for _, w := range strings.SplitAfter(text, " ") {
		if w == "" {
			continue
		}
		if ferr := fn(w); ferr != nil {
			return brain.ChatStats{}, ferr
		}
	}
	return brain.ChatStats{PromptTokens: 10, ReplyTokens: len(strings.Fields(text)), DoneReason: "stop"}, err
}

func (f *fakeLLM) calls() []brain.ChatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]brain.ChatRequest(nil), f.requests...)
}

// fakeRouter routes by keyword: "python" → python_coder, "belki" → a
// low-confidence fallback, anything else → tr_chat.
type fakeRouter struct{}

func (fakeRouter) Route(_ context.Context, text string) brain.Decision {
	switch {
	case strings.Contains(text, "python"):
		return brain.Decision{Expert: "python_coder", Model: "python_coder", Confidence: 0.95, RunnerUp: "tr_chat", RunnerUpConfidence: 0.05}
	case strings.Contains(text, "belki"):
		return brain.Decision{Expert: brain.BaseExpert, Model: "base-model", Confidence: 0.4, Candidate: "tr_chat", Fallback: true}
	}
	return brain.Decision{Expert: "tr_chat", Model: "tr_chat", Confidence: 0.9, RunnerUp: "python_coder", RunnerUpConfidence: 0.1}
}

// fixedClock always says the same time.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var testNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// flakyHistory wraps a History and fails with ErrStoreUnavailable while down.
type flakyHistory struct {
	brain.History
	mu   sync.Mutex
	down bool
}

func (f *flakyHistory) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }

func (f *flakyHistory) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return fmt.Errorf("dial: %w", brain.ErrStoreUnavailable)
	}
	return nil
}

func (f *flakyHistory) Append(ctx context.Context, r *brain.Record) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.History.Append(ctx, r)
}

func (f *flakyHistory) Recent(ctx context.Context, k brain.ConvKey, n int) ([]brain.Record, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.History.Recent(ctx, k, n)
}

type testBrain struct {
	*brain.Brain
	history brain.History
	llm     *fakeLLM
}

func newTestBrain(tb testing.TB, cfg brain.Config, llm *fakeLLM, h brain.History, opts ...brain.Option) testBrain {
	tb.Helper()
	if h == nil {
		h = braintest.NewMemHistory()
	}
	if llm == nil {
		llm = &fakeLLM{}
	}
	if cfg.Base.Model == "" {
		cfg.Base = brain.Expert{Name: brain.BaseExpert, Model: "base-model", SystemPrompt: "Temel sistem."}
	}
	if cfg.Experts == nil {
		cfg.Experts = []brain.Expert{
			{Name: "tr_chat", Model: "tr_chat", SystemPrompt: "Türkçe sohbet uzmanısın."},
			{Name: "python_coder", Model: "python_coder", SystemPrompt: "Python uzmanısın.", Options: map[string]any{"temperature": 0.2}},
		}
	}
	b, err := brain.New(cfg, h, llm, fakeRouter{}, fixedClock{testNow}, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	if err != nil {
		tb.Fatalf("brain.New: %v", err)
	}
	return testBrain{Brain: b, history: h, llm: llm}
}

func msg(user, text string) brain.Message {
	return brain.Message{Platform: brain.PlatformTelegram, ChatID: "c1", ChatKind: brain.ChatPrivate,
		UserID: user, UserName: user, Text: text, Time: testNow}
}

// ask sends one message and waits for its reply.
func (tb testBrain) ask(t testing.TB, m brain.Message) (brain.Reply, string) {
	t.Helper()
	c := brain.NewCollector()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tb.Submit(ctx, m, c)
	r, err := c.Wait(ctx)
	if err != nil {
		t.Fatalf("no reply to %q: %v", m.Text, err)
	}
	return r, c.Streamed()
}

func recent(t testing.TB, h brain.History, user string) []brain.Record {
	t.Helper()
	recs, err := h.Recent(context.Background(), msg(user, "").Key(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

var errBoom = errors.New("boom")

func newMem() brain.History { return braintest.NewMemHistory() }
