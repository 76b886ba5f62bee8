package ollamatest

import (
	"cmp"
	"context"
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
)

// ContractModels names the models Contract uses on the server under test.
type ContractModels struct {
	// Chat is a model that chats; required.
	Chat string
	// Embed is a model /api/embed accepts; default Chat.
	Embed string
	// Missing is a model the server lacks; default "evo-contract-missing".
	Missing string
	// NumCtx is the client's fixed num_ctx; default 2048.
	NumCtx int
	// Timeout bounds each check; default 60s (a CPU model can be slow).
	Timeout time.Duration
}

// Contract checks the Ollama adapter against the server at baseURL: what
// EVO-TR relies on and Ollama (v0.6.5) does, so the same checks pass on
// the fake and on a real server. It asserts nothing about reply text.
func Contract(t *testing.T, baseURL string, m ContractModels) {
	t.Helper()
	if m.Chat == "" {
		t.Fatal("ollamatest.Contract: ContractModels.Chat is required")
	}
	m.Embed = cmp.Or(m.Embed, m.Chat)
	m.Missing = cmp.Or(m.Missing, "evo-contract-missing")
	m.NumCtx = cmp.Or(m.NumCtx, 2048)
	m.Timeout = cmp.Or(m.Timeout, 60*time.Second)
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatalf("ollamatest.Contract: base URL %q: %v", baseURL, err)
	}
	c := ollama.New(u, nil, ollama.Options{NumCtx: m.NumCtx, NumPredict: 32, KeepAlive: -1}, tbLogger(t))
	ctxFor := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), m.Timeout)
		t.Cleanup(cancel)
		return ctx
	}
	prompt := []brain.ChatMessage{
		{Role: brain.RoleSystem, Content: "Sen yardımsever bir asistansın. Kısa cevap ver."},
		{Role: brain.RoleUser, Content: "Merhaba, bugün hava nasıl?"},
	}

	t.Run("ping and version", func(t *testing.T) {
		ctx := ctxFor(t)
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		v, err := c.Version(ctx)
		if err != nil || v == "" {
			t.Fatalf("Version = %q, %v; want a version", v, err)
		}
	})

	t.Run("models are listed", func(t *testing.T) {
		missing, err := c.Missing(ctxFor(t), m.Chat, m.Embed, m.Missing)
		if err != nil {
			t.Fatalf("Missing: %v", err)
		}
		if len(missing) != 1 || missing[0] != m.Missing {
			t.Fatalf("Missing = %q, want only %q", missing, m.Missing)
		}
	})

	t.Run("preload loads the model", func(t *testing.T) {
		ctx := ctxFor(t)
		d, err := c.Preload(ctx, m.Chat)
		if err != nil {
			t.Fatalf("Preload: %v", err)
		}
		if d < 0 {
			t.Errorf("Preload took %v, want >= 0", d)
		}
		loaded, err := c.Loaded(ctx)
		if err != nil {
			t.Fatalf("Loaded: %v", err)
		}
		if !containsModel(loaded, m.Chat) {
			t.Errorf("Loaded = %q, want it to include %q", loaded, m.Chat)
		}
	})

	t.Run("chat streams deltas and returns stats", func(t *testing.T) {
		var deltas []string
		stats, err := c.Chat(ctxFor(t), brain.ChatRequest{Model: m.Chat, Messages: prompt}, func(d string) error {
			deltas = append(deltas, d)
			return nil
		})
		if err != nil {
			t.Fatalf("Chat: %v", err)
		}
		text := strings.Join(deltas, "")
		if text == "" || !utf8.ValidString(text) {
			t.Errorf("reply = %q, want non-empty valid UTF-8", text)
		}
		for i, d := range deltas {
			if d == "" {
				t.Errorf("delta %d is empty; empty pieces must not reach the callback", i)
			}
		}
		if stats.PromptTokens <= 0 || stats.ReplyTokens <= 0 || stats.Total <= 0 {
			t.Errorf("stats = %+v, want prompt and reply tokens and a total duration", stats)
		}
		if stats.DoneReason != "stop" && stats.DoneReason != "length" {
			t.Errorf("done reason = %q, want stop or length", stats.DoneReason)
		}
		if len(deltas) > stats.ReplyTokens {
			t.Errorf("%d deltas for %d reply tokens, want at most one delta a token", len(deltas), stats.ReplyTokens)
		}
		if stats.ReplyTokens > 1 && len(deltas) < 2 {
			t.Errorf("reply of %d tokens came in %d delta(s), want it streamed in pieces", stats.ReplyTokens, len(deltas))
		}
	})

	t.Run("expert num_predict lowers the reply limit", func(t *testing.T) {
		stats, err := c.Chat(ctxFor(t), brain.ChatRequest{Model: m.Chat, Messages: prompt,
			Options: map[string]any{"num_predict": 3}}, func(string) error { return nil })
		if err != nil {
			t.Fatalf("Chat: %v", err)
		}
		if stats.ReplyTokens > 3 {
			t.Errorf("reply tokens = %d, want <= 3", stats.ReplyTokens)
		}
	})

	t.Run("callback error ends the call", func(t *testing.T) {
		stop := errors.New("stop here")
		calls := 0
		_, err := c.Chat(ctxFor(t), brain.ChatRequest{Model: m.Chat, Messages: prompt}, func(string) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) {
			t.Errorf("err = %v, want the callback's error", err)
		}
		if calls != 1 {
			t.Errorf("callback called %d times, want 1", calls)
		}
	})

	t.Run("cancel ends the call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctxFor(t))
		calls := 0
		_, err := c.Chat(ctx, brain.ChatRequest{Model: m.Chat, Messages: prompt}, func(string) error {
			calls++
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if calls != 1 {
			t.Errorf("callback called %d times after cancel, want 1", calls)
		}
	})

	t.Run("model still answers after abandoned replies", func(t *testing.T) {
		// Ollama v0.6.5 can wedge a model when a client disconnects
		// mid-reply; the client drains abandoned replies to avoid it.
		stats, err := c.Chat(ctxFor(t), brain.ChatRequest{Model: m.Chat, Messages: prompt}, func(string) error { return nil })
		if err != nil || stats.ReplyTokens <= 0 {
			t.Fatalf("Chat after aborts = %+v, %v; want a reply", stats, err)
		}
	})

	t.Run("embed returns normalized vectors in order", func(t *testing.T) {
		ctx := ctxFor(t)
		texts := []string{"merhaba dünya", "python ile liste sıralama", "merhaba dünya"}
		vs, err := c.Embed(ctx, m.Embed, texts)
		if err != nil {
			t.Fatalf("Embed: %v", err)
		}
		if len(vs) != len(texts) {
			t.Fatalf("got %d vectors, want %d", len(vs), len(texts))
		}
		for i, v := range vs {
			if len(v) == 0 || len(v) != len(vs[0]) {
				t.Fatalf("vector %d has %d dims, want %d > 0", i, len(v), len(vs[0]))
			}
			if n := norm(v); math.Abs(n-1) > 1e-3 {
				t.Errorf("vector %d has norm %.5f, want 1", i, n)
			}
		}
		if cos := dot(vs[0], vs[2]); cos < 0.999 {
			t.Errorf("same text embedded twice: cosine %.5f, want ~1", cos)
		}
		one, err := c.Embed(ctx, m.Embed, texts[1:2])
		if err != nil {
			t.Fatalf("Embed one: %v", err)
		}
		if cos := dot(one[0], vs[1]); cos < 0.999 {
			t.Errorf("text alone vs in a batch: cosine %.5f, want ~1 (order kept)", cos)
		}
	})

	t.Run("missing model is ErrModelNotFound", func(t *testing.T) {
		ctx := ctxFor(t)
		calls := []struct {
			name string
			call func() error
		}{
			{"chat", func() error {
				_, err := c.Chat(ctx, brain.ChatRequest{Model: m.Missing, Messages: prompt}, func(string) error { return nil })
				return err
			}},
			{"embed", func() error { _, err := c.Embed(ctx, m.Missing, []string{"x"}); return err }},
			{"preload", func() error { _, err := c.Preload(ctx, m.Missing); return err }},
		}
		for _, tc := range calls {
			err := tc.call()
			if !errors.Is(err, brain.ErrModelNotFound) {
				t.Errorf("%s: err = %v, want ErrModelNotFound", tc.name, err)
				continue
			}
			var nf *ollama.NotFoundError
			if !errors.As(err, &nf) || nf.Model != m.Missing || !strings.Contains(err.Error(), m.Missing) {
				t.Errorf("%s: err = %v, want a NotFoundError naming %q", tc.name, err, m.Missing)
			}
		}
	})
}

func containsModel(names []string, model string) bool {
	for _, n := range names {
		if ollama.SameModel(n, model) {
			return true
		}
	}
	return false
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func norm(v []float32) float64 { return math.Sqrt(dot(v, v)) }
