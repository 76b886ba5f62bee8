package ollama_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
)

// watchdog bounds a call that must return promptly; hitting it means a
// hang, not slowness.
const watchdog = 10 * time.Second

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func userMsg(text string) []brain.ChatMessage {
	return []brain.ChatMessage{
		{Role: brain.RoleSystem, Content: "Sen EVO-TR'sin."},
		{Role: brain.RoleUser, Content: text},
	}
}

func collect(t *testing.T, c *ollama.Client, req brain.ChatRequest) ([]string, brain.ChatStats, error) {
	t.Helper()
	var deltas []string
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	stats, err := c.Chat(ctx, req, func(d string) error {
		deltas = append(deltas, d)
		return nil
	})
	return deltas, stats, err
}

func TestContractAgainstFake(t *testing.T) {
	srv := ollamatest.NewServer(t)
	ollamatest.Contract(t, srv.URL(), ollamatest.ContractModels{Chat: "tr_chat", Embed: "qwen2.5:3b-instruct"})
}

func TestChatStreamsTheReplyInOrder(t *testing.T) {
	srv, c := ollamatest.Start(t, ollamatest.WithLoadDelay(5*time.Millisecond), ollamatest.WithFirstTokenDelay(5*time.Millisecond))
	req := brain.ChatRequest{Model: "tr_chat", Messages: userMsg("Bana İstanbul'u anlat")}
	deltas, stats, err := collect(t, c, req)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	sent := srv.ChatRequests()
	if len(sent) != 1 {
		t.Fatalf("server saw %d chats, want 1", len(sent))
	}
	want := ollamatest.Tokens(ollamatest.DefaultReply(sent[0]))
	if !slices.Equal(deltas, want) {
		t.Errorf("deltas = %q, want %q", deltas, want)
	}
	if got := strings.Join(deltas, ""); !strings.Contains(got, "Bana İstanbul'u anlat") || !strings.Contains(got, "tr_chat") {
		t.Errorf("reply %q does not echo the user's message and model", got)
	}
	if stats.ReplyTokens != len(want) || stats.PromptTokens <= 0 || stats.DoneReason != "stop" {
		t.Errorf("stats = %+v, want %d reply tokens, prompt tokens, done reason stop", stats, len(want))
	}
	if stats.LoadDuration < 5*time.Millisecond || stats.Total < stats.LoadDuration+5*time.Millisecond {
		t.Errorf("stats = %+v, want load >= 5ms (first use) and total >= load + 5ms (slow first token)", stats)
	}
}

func TestOptionsOnEveryRequest(t *testing.T) {
	fixed := ollama.Options{NumCtx: 4096, NumPredict: 256, KeepAlive: -1}
	tests := []struct {
		name      string
		opts      ollama.Options
		expert    map[string]any
		want      map[string]any // options the server must see
		absent    []string
		keepAlive time.Duration // decoded by the server; 0 = not sent
	}{
		{name: "fixed only", opts: fixed,
			want: map[string]any{"num_ctx": 4096.0, "num_predict": 256.0}, keepAlive: math.MaxInt64},
		{name: "expert options merged", opts: fixed,
			expert:    map[string]any{"temperature": 0.2, "top_p": 0.9, "stop": []string{"\n\n"}},
			want:      map[string]any{"num_ctx": 4096.0, "num_predict": 256.0, "temperature": 0.2, "top_p": 0.9},
			keepAlive: math.MaxInt64},
		{name: "num_ctx and other load-time options cannot be overridden", opts: fixed,
			expert: map[string]any{"num_ctx": 32768, "num_thread": 8, "num_gpu": 0, "use_mmap": false},
			want:   map[string]any{"num_ctx": 4096.0}, absent: []string{"num_thread", "num_gpu", "use_mmap"},
			keepAlive: math.MaxInt64},
		{name: "expert may lower num_predict", opts: fixed, expert: map[string]any{"num_predict": 100},
			want: map[string]any{"num_predict": 100.0}, keepAlive: math.MaxInt64},
		{name: "expert may not raise num_predict", opts: fixed, expert: map[string]any{"num_predict": 10000},
			want: map[string]any{"num_predict": 256.0}, keepAlive: math.MaxInt64},
		{name: "expert num_predict -1 (unlimited) is capped", opts: fixed, expert: map[string]any{"num_predict": -1},
			want: map[string]any{"num_predict": 256.0}, keepAlive: math.MaxInt64},
		{name: "non-numeric num_predict ignored", opts: fixed, expert: map[string]any{"num_predict": "çok"},
			want: map[string]any{"num_predict": 256.0}, keepAlive: math.MaxInt64},
		{name: "YAML float num_predict accepted", opts: fixed, expert: map[string]any{"num_predict": 64.0},
			want: map[string]any{"num_predict": 64.0}, keepAlive: math.MaxInt64},
		{name: "keep_alive duration", opts: ollama.Options{NumCtx: 2048, KeepAlive: 10 * time.Minute},
			want: map[string]any{"num_ctx": 2048.0}, absent: []string{"num_predict"}, keepAlive: 10 * time.Minute},
		{name: "zero options leave server defaults", opts: ollama.Options{},
			absent: []string{"num_ctx", "num_predict"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := ollamatest.NewServer(t)
			c := srv.NewClient(t, tc.opts)
			if _, _, err := collect(t, c, brain.ChatRequest{Model: "tr_chat", Messages: userMsg("selam"), Options: tc.expert}); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			got := srv.ChatRequests()[0]
			for k, want := range tc.want {
				if got.Options[k] != want {
					t.Errorf("option %s = %v (%T), want %v", k, got.Options[k], got.Options[k], want)
				}
			}
			for _, k := range tc.absent {
				if v, ok := got.Options[k]; ok {
					t.Errorf("option %s = %v, want it absent", k, v)
				}
			}
			switch {
			case tc.keepAlive == 0 && got.KeepAlive != nil:
				t.Errorf("keep_alive = %v, want absent", got.KeepAlive.Duration)
			case tc.keepAlive != 0 && (got.KeepAlive == nil || got.KeepAlive.Duration != tc.keepAlive):
				t.Errorf("keep_alive = %v, want %v", got.KeepAlive, tc.keepAlive)
			}
			if stop, ok := tc.expert["stop"]; ok && len(got.Options["stop"].([]any)) != len(stop.([]string)) {
				t.Errorf("stop = %v, want %v", got.Options["stop"], stop)
			}
		})
	}
}

// TestSameNumCtxNoReload: whatever experts ask, every request (chat,
// preload, embed) carries the same num_ctx, so each model loads once.
func TestSameNumCtxNoReload(t *testing.T) {
	srv, c := ollamatest.Start(t)
	ctx := context.Background()
	if _, err := c.Preload(ctx, "tr_chat"); err != nil {
		t.Fatalf("Preload: %v", err)
	}
	experts := []map[string]any{nil, {"num_ctx": 1024, "temperature": 0.1}, {"num_ctx": 65536, "num_batch": 8}}
	for i, opts := range experts {
		if _, _, err := collect(t, c, brain.ChatRequest{Model: "tr_chat", Messages: userMsg("soru"), Options: opts}); err != nil {
			t.Fatalf("chat %d: %v", i, err)
		}
	}
	if _, err := c.Embed(ctx, "tr_chat", []string{"metin"}); err != nil {
		t.Fatalf("Embed: %v", err)
	}
	for i, r := range srv.ChatRequests() {
		if n, _ := ollamatest.OptionInt(r.Options, "num_ctx"); n != ollamatest.NumCtx {
			t.Errorf("chat request %d num_ctx = %d, want %d", i, n, ollamatest.NumCtx)
		}
	}
	if n, _ := ollamatest.OptionInt(srv.EmbedRequests()[0].Options, "num_ctx"); n != ollamatest.NumCtx {
		t.Errorf("embed num_ctx = %d, want %d", n, ollamatest.NumCtx)
	}
	if got := srv.Loads(); !slices.Equal(got, []string{"tr_chat:latest"}) {
		t.Errorf("loads = %q, want tr_chat loaded once", got)
	}
}

func TestChatErrors(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(*ollamatest.Server)
		model       string
		wantIs      error // nil: neither ErrModelNotFound nor ErrModelUnavailable
		wantText    string
		wantDeltas  int
		notFoundFor string
	}{
		{name: "404 model", model: "yok_model", wantIs: brain.ErrModelNotFound, notFoundFor: "yok_model"},
		{name: "removed model", setup: func(s *ollamatest.Server) { s.RemoveModel("tr_chat") },
			model: "tr_chat", wantIs: brain.ErrModelNotFound, notFoundFor: "tr_chat"},
		{name: "500 before streaming", model: "tr_chat",
			setup: func(s *ollamatest.Server) {
				s.Inject(ollamatest.Fault{Kind: ollamatest.FaultStatus, Message: "out of memory"})
			}, wantText: "out of memory"},
		{name: "503 busy is unavailable", model: "tr_chat",
			setup: func(s *ollamatest.Server) {
				s.Inject(ollamatest.Fault{Kind: ollamatest.FaultStatus, Status: 503, Message: "server busy, please try again.  maximum pending requests exceeded"})
			}, wantIs: brain.ErrModelUnavailable},
		{name: "error line mid-stream", model: "tr_chat",
			setup: func(s *ollamatest.Server) {
				s.Inject(ollamatest.Fault{Kind: ollamatest.FaultStreamError, AfterTokens: 3})
			}, wantText: "llama runner process has terminated", wantDeltas: 3},
		{name: "connection dropped mid-stream", model: "tr_chat",
			setup: func(s *ollamatest.Server) {
				s.Inject(ollamatest.Fault{Kind: ollamatest.FaultDrop, AfterTokens: 2})
			}, wantText: "chat tr_chat", wantDeltas: 2},
		{name: "garbage line mid-stream", model: "tr_chat",
			setup: func(s *ollamatest.Server) {
				s.Inject(ollamatest.Fault{Kind: ollamatest.FaultGarbage, AfterTokens: 1})
			}, wantText: "chat tr_chat", wantDeltas: 1},
		{name: "fault for another model does not hit", model: "tr_chat",
			setup: func(s *ollamatest.Server) {
				s.Inject(ollamatest.Fault{Kind: ollamatest.FaultStatus, Model: "python_coder"})
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := ollamatest.Start(t)
			if tc.setup != nil {
				tc.setup(srv)
			}
			deltas, _, err := collect(t, c, brain.ChatRequest{Model: tc.model, Messages: userMsg("merhaba")})
			if tc.wantIs == nil && tc.wantText == "" {
				if err != nil {
					t.Fatalf("Chat: %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Chat succeeded, want an error")
			}
			t.Logf("err: %v", err)
			if !utf8.ValidString(err.Error()) {
				t.Errorf("err = %q, want valid UTF-8 text", err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want %v", err, tc.wantIs)
			}
			if tc.wantIs == nil && (errors.Is(err, brain.ErrModelNotFound) || errors.Is(err, brain.ErrModelUnavailable)) {
				t.Errorf("err = %v, want neither not-found nor unavailable", err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("err = %q, want it to contain %q", err, tc.wantText)
			}
			if len(deltas) != tc.wantDeltas {
				t.Errorf("got %d deltas before the error, want %d", len(deltas), tc.wantDeltas)
			}
			if tc.notFoundFor != "" {
				var nf *ollama.NotFoundError
				if !errors.As(err, &nf) || nf.Model != tc.notFoundFor || !strings.Contains(err.Error(), tc.notFoundFor) {
					t.Errorf("err = %v, want NotFoundError for %q", err, tc.notFoundFor)
				}
			}
		})
	}
}

// closedPort returns the address of a port nothing listens on.
func closedPort(t *testing.T) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &url.URL{Scheme: "http", Host: addr}
}

func TestServerDownIsUnavailable(t *testing.T) {
	c := ollama.New(closedPort(t), nil, ollama.Options{NumCtx: 2048}, discard())
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"chat", func(ctx context.Context) error {
			_, err := c.Chat(ctx, brain.ChatRequest{Model: "tr_chat", Messages: userMsg("x")}, func(string) error { return nil })
			return err
		}},
		{"embed", func(ctx context.Context) error { _, err := c.Embed(ctx, "tr_chat", []string{"x"}); return err }},
		{"preload", func(ctx context.Context) error { _, err := c.Preload(ctx, "tr_chat"); return err }},
		{"models", func(ctx context.Context) error { _, err := c.Models(ctx); return err }},
		{"loaded", func(ctx context.Context) error { _, err := c.Loaded(ctx); return err }},
		{"version", func(ctx context.Context) error { _, err := c.Version(ctx); return err }},
		{"ping", func(ctx context.Context) error { return c.Ping(ctx) }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), watchdog)
			defer cancel()
			err := tc.call(ctx)
			if !errors.Is(err, brain.ErrModelUnavailable) {
				t.Fatalf("err = %v, want ErrModelUnavailable", err)
			}
			if ctx.Err() != nil {
				t.Fatalf("returned only when the watchdog fired: %v", err)
			}
		})
	}
}

// TestCancelReturnsPromptly: a cancelled ctx or a failing callback ends
// Chat at once; the rest of the reply is drained so the server is not
// disconnected mid-reply (unless draining is off or takes too long).
func TestCancelReturnsPromptly(t *testing.T) {
	tests := []struct {
		name        string
		drain       time.Duration
		tokenDelay  time.Duration
		hold        bool   // hold the reply before its first token
		stop        string // "cancel" or "callback error"
		wantCalls   int
		wantAborted int // server saw the client leave mid-reply
	}{
		{name: "cancel mid-stream drains the reply", tokenDelay: time.Millisecond, stop: "cancel", wantCalls: 1},
		{name: "callback error drains the reply", tokenDelay: time.Millisecond, stop: "callback error", wantCalls: 1},
		// Lines already waiting when ctx ends must not reach the callback.
		{name: "cancel with the rest of the reply ready", stop: "cancel", wantCalls: 1},
		{name: "cancel mid-stream, draining off", drain: -1, tokenDelay: time.Hour, stop: "cancel", wantCalls: 1, wantAborted: 1},
		{name: "drain cut after its timeout", drain: 20 * time.Millisecond, tokenDelay: time.Hour, stop: "cancel",
			wantCalls: 1, wantAborted: 1},
		{name: "cancel before the first token, draining off", drain: -1, hold: true, stop: "cancel", wantAborted: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := ollamatest.NewServer(t, ollamatest.WithTokenDelay(tc.tokenDelay))
			c := srv.NewClient(t, ollama.Options{NumCtx: 4096, DrainTimeout: tc.drain})
			if tc.hold {
				srv.Hold()
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := errors.New("stop")
			done := make(chan error, 1)
			calls := 0
			go func() {
				_, err := c.Chat(ctx, brain.ChatRequest{Model: "tr_chat", Messages: userMsg("uzun bir cevap ver")}, func(string) error {
					calls++
					if tc.stop == "callback error" {
						return stop
					}
					cancel()
					return nil
				})
				done <- err
			}()
			wctx, wcancel := context.WithTimeout(context.Background(), watchdog)
			defer wcancel()
			if tc.hold {
				if err := srv.WaitInFlight(wctx, 1); err != nil {
					t.Fatal(err)
				}
				cancel()
			}
			want := error(context.Canceled)
			if tc.stop == "callback error" {
				want = stop
			}
			select {
			case err := <-done:
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			case <-wctx.Done():
				t.Fatal("Chat did not return")
			}
			if calls != tc.wantCalls {
				t.Errorf("callback called %d times, want %d", calls, tc.wantCalls)
			}
			if err := srv.WaitInFlight(wctx, 0); err != nil {
				t.Fatalf("server still answering: %v", err)
			}
			if got := srv.Aborted(); got != tc.wantAborted {
				t.Errorf("server saw %d replies abandoned mid-stream, want %d", got, tc.wantAborted)
			}
		})
	}
}

func TestHugeAndHostileText(t *testing.T) {
	huge := strings.Repeat("çok uzun bir cevap, ", 3_000) // 63 KB, 12k tokens: far past any num_predict
	tests := []struct {
		name   string
		reply  string
		prompt string
		check  func(t *testing.T, got string, sent api.ChatRequest)
	}{
		{name: "huge reply", reply: huge, prompt: "uzun yaz", check: func(t *testing.T, got string, _ api.ChatRequest) {
			if got != huge {
				t.Errorf("reply has %d bytes, want %d identical bytes", len(got), len(huge))
			}
		}},
		{name: "huge prompt", prompt: strings.Repeat("ğ", 1<<18), check: func(t *testing.T, _ string, sent api.ChatRequest) {
			if n := len(ollamatest.LastUser(sent)); n != 2<<18 {
				t.Errorf("server got a %d-byte message, want %d", n, 2<<18)
			}
		}},
		{name: "invalid UTF-8 in reply", reply: "Merhaba \xff\xfe dünya \xc3", prompt: "selam",
			check: func(t *testing.T, got string, _ api.ChatRequest) {
				if !utf8.ValidString(got) || !strings.Contains(got, "dünya") || !strings.Contains(got, "\uFFFD") {
					t.Errorf("reply = %q, want valid UTF-8 with replacement characters", got)
				}
			}},
		{name: "invalid UTF-8 in prompt", prompt: "kötü \xff bayt", check: func(t *testing.T, got string, sent api.ChatRequest) {
			if u := ollamatest.LastUser(sent); !utf8.ValidString(u) || !strings.Contains(u, "kötü") {
				t.Errorf("server got %q, want valid UTF-8 keeping the text", u)
			}
		}},
		{name: "hostile text", prompt: "\x00{\"done\":true}\n\r\u202e<script>", reply: "{\"error\":\"x\"}\n\"done\":true",
			check: func(t *testing.T, got string, _ api.ChatRequest) {
				if got != "{\"error\":\"x\"}\n\"done\":true" {
					t.Errorf("reply = %q, want the JSON-looking text passed through verbatim", got)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []ollamatest.Option
			if tc.reply != "" {
				reply := tc.reply
				opts = append(opts, ollamatest.WithReply(func(api.ChatRequest) string { return reply }))
			}
			srv := ollamatest.NewServer(t, opts...)
			c := srv.NewClient(t, ollama.Options{NumCtx: 4096})
			deltas, _, err := collect(t, c, brain.ChatRequest{Model: "tr_chat", Messages: userMsg(tc.prompt)})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			for i, d := range deltas {
				if !utf8.ValidString(d) {
					t.Fatalf("delta %d = %q is not valid UTF-8", i, d)
				}
			}
			tc.check(t, strings.Join(deltas, ""), srv.ChatRequests()[0])
		})
	}
}

func TestBadRequestsFailBeforeSending(t *testing.T) {
	srv, c := ollamatest.Start(t)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"chat without model", func() error {
			_, err := c.Chat(ctx, brain.ChatRequest{Messages: userMsg("x")}, func(string) error { return nil })
			return err
		}},
		{"chat without messages", func() error {
			_, err := c.Chat(ctx, brain.ChatRequest{Model: "tr_chat"}, func(string) error { return nil })
			return err
		}},
		{"embed without model", func() error { _, err := c.Embed(ctx, "", []string{"x"}); return err }},
		{"preload without model", func() error { _, err := c.Preload(ctx, ""); return err }},
		{"unload without model", func() error { return c.Unload(ctx, "") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Error("got nil error, want one")
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("server got %d requests, want none", n)
	}
}

func TestEmbed(t *testing.T) {
	srv, c := ollamatest.Start(t, ollamatest.WithEmbedDims(32))
	ctx := context.Background()
	texts := []string{"merhaba dünya", "", "python kodu yaz"}
	vs, err := c.Embed(ctx, "qwen2.5:3b-instruct", texts)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	for i, text := range texts {
		if want := ollamatest.Vector(text, 32); !slices.Equal(vs[i], want) {
			t.Errorf("vector %d = %v, want %v", i, vs[i], want)
		}
	}
	empty, err := c.Embed(ctx, "qwen2.5:3b-instruct", nil)
	if err != nil || len(empty) != 0 {
		t.Errorf("Embed(nil) = %v, %v; want empty, nil", empty, err)
	}
	if n := len(srv.EmbedRequests()); n != 1 {
		t.Errorf("server got %d embed requests, want 1 (none for no texts)", n)
	}
	if _, err := c.Embed(ctx, "yok", []string{"x"}); !errors.Is(err, brain.ErrModelNotFound) {
		t.Errorf("Embed(missing model) err = %v, want ErrModelNotFound", err)
	}
}

func TestAdminCalls(t *testing.T) {
	srv, c := ollamatest.Start(t, ollamatest.WithLoadDelay(2*time.Millisecond))
	ctx := context.Background()
	models, err := c.Models(ctx)
	if err != nil || !slices.Contains(models, "tr_chat:latest") || !slices.Contains(models, "qwen2.5:3b-instruct") {
		t.Fatalf("Models = %q, %v; want the default models", models, err)
	}
	missing, err := c.Missing(ctx, "tr_chat", "TR_CHAT:latest", "python_coder", "yeni_uzman")
	if err != nil || !slices.Equal(missing, []string{"yeni_uzman"}) {
		t.Errorf("Missing = %q, %v; want [yeni_uzman]", missing, err)
	}
	d, err := c.Preload(ctx, "python_coder")
	if err != nil || d < 2*time.Millisecond {
		t.Errorf("Preload = %v, %v; want >= the 2ms load", d, err)
	}
	loaded, err := c.Loaded(ctx)
	if err != nil || !slices.Equal(loaded, []string{"python_coder:latest"}) {
		t.Errorf("Loaded = %q, %v; want [python_coder:latest]", loaded, err)
	}
	if err := c.Unload(ctx, "python_coder"); err != nil {
		t.Fatalf("Unload: %v", err)
	}
	if loaded, _ := c.Loaded(ctx); len(loaded) != 0 {
		t.Errorf("Loaded after Unload = %q, want none", loaded)
	}
	if v, err := c.Version(ctx); err != nil || v != "0.6.5" {
		t.Errorf("Version = %q, %v; want 0.6.5", v, err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if got := c.BaseURL(); got != srv.URL() {
		t.Errorf("BaseURL = %q, want %q", got, srv.URL())
	}
	if err := c.Unload(ctx, "yok"); !errors.Is(err, brain.ErrModelNotFound) {
		t.Errorf("Unload(missing) err = %v, want ErrModelNotFound", err)
	}
}

func TestSameModel(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"tr_chat", "tr_chat:latest", true},
		{"TR_Chat", "tr_chat:latest", true},
		{"qwen2.5:3b-instruct", "qwen2.5:3b-instruct", true},
		{"qwen2.5:3b-instruct", "qwen2.5:latest", false},
		{"host:11434/ns/model", "host:11434/ns/model:latest", true},
		{"tr_chat", "python_coder", false},
	}
	for _, tc := range tests {
		if got := ollama.SameModel(tc.a, tc.b); got != tc.want {
			t.Errorf("SameModel(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestConcurrentChats: answers reach their own callers, and the server's
// in-flight count sees the parallelism.
func TestConcurrentChats(t *testing.T) {
	srv, c := ollamatest.Start(t)
	release := srv.Hold()
	const n = 6
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b strings.Builder
			ctx, cancel := context.WithTimeout(context.Background(), watchdog)
			defer cancel()
			_, errs[i] = c.Chat(ctx, brain.ChatRequest{Model: "tr_chat", Messages: userMsg("kullanıcı " + string(rune('A'+i)))},
				func(d string) error { b.WriteString(d); return nil })
			got[i] = b.String()
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	if err := srv.WaitInFlight(ctx, n); err != nil {
		t.Fatal(err)
	}
	release()
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("chat %d: %v", i, errs[i])
		}
		if want := "«kullanıcı " + string(rune('A'+i)) + "»"; !strings.Contains(got[i], want) {
			t.Errorf("chat %d got %q, want it to contain %q", i, got[i], want)
		}
	}
	if m := srv.MaxInFlight(); m != n {
		t.Errorf("max in flight = %d, want %d", m, n)
	}
}
