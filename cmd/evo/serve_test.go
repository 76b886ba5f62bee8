package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/chroma/chromatest"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// syncBuffer is a bytes.Buffer safe for a running server's logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// discordToken is the bot's token in the fake Discord of discordGuild.
const discordToken = "discord-test-token"

// discordGuild is a fake Discord with the bot (discordToken) and one guild
// text channel it can read.
func discordGuild(t *testing.T) (*discordtest.Server, discordtest.User, discordtest.Channel) {
	t.Helper()
	dc := discordtest.New(discordtest.Options{HeartbeatInterval: time.Second})
	t.Cleanup(dc.Close)
	botUser := discordtest.User{ID: dc.NewID(), Username: "evo", GlobalName: "EVO", Bot: true}
	dc.AddBot(discordToken, botUser)
	channel := discordtest.Channel{ID: dc.NewID(), Type: discordtest.ChannelGuildText, GuildID: dc.NewID(), Name: "genel", Bot: discordToken}
	dc.AddChannel(channel)
	return dc, botUser, channel
}

// getJSON GETs url and decodes its JSON body; 0 when it does not answer.
func getJSON(url string) (int, map[string]any) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeEndToEnd runs `evo serve` against a fake Bot API, a fake
// Discord, the fake Ollama and the real Postgres: a Telegram DM and a
// Discord mention are answered with the model's text, /readyz reports the
// dependencies, /metrics holds the series (the Go runtime's and the
// process's too), and cancelling stops it cleanly.
func TestServeEndToEnd(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	llm := ollamatest.NewServer(t, ollamatest.WithModels(append(append([]string(nil), ollamatest.DefaultModels...), "bge-m3")...))
	chromaSrv := chromatest.Start(t)
	tg := telegramtest.NewServer(telegramtest.DefaultToken, "evo_test_bot")
	t.Cleanup(tg.Close)
	dc, botUser, channel := discordGuild(t)
	httpAddr := freeAddr(t)
	env := map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"DATABASE_URL": dsn, "OLLAMA_HOST": llm.URL(), "HTTP_ADDR": httpAddr,
		"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken, "TELEGRAM_API_URL": tg.URL(),
		"DISCORD_BOT_TOKEN": discordToken, "DISCORD_API_URL": dc.URL, "TRAINING_DIR": t.TempDir(), "SPOOL_DIR": t.TempDir(),
		"CHROMA_URL": chromaSrv.URL(), "EMBED_MODEL": "bge-m3",
		"ACCESS_MODE": "open"} // the users here are strangers: access_test.go tests the gate

	ctx, stop := context.WithCancel(context.Background())
	var logs syncBuffer
	var code int
	done := make(chan struct{})
	go func() {
		defer close(done)
		code = run(ctx, []string{"serve"}, strings.NewReader(""), &logs, &logs, lookupFrom(env))
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
		if t.Failed() {
			t.Logf("evo serve log:\n%s", logs.String())
		}
	})

	eventually(t, "/readyz", func() bool {
		code, body := getJSON("http://" + httpAddr + "/readyz")
		return code == http.StatusOK && body["postgres"] == "ok" && body["ollama"] == "ok" && body["chroma"] == "ok"
	})
	if code, body := getJSON("http://" + httpAddr + "/healthz"); code != http.StatusOK || body["status"] != "ok" ||
		body["pending_messages"] != float64(0) {
		t.Errorf("/healthz = %d %v, want 200 ok with no message pending", code, body)
	}
	if !strings.Contains(logs.String(), "night scheduled") {
		t.Errorf("the night job is not scheduled:\n%s", logs.String())
	}

	alice := models.User{ID: 42, FirstName: "Ayşe"}
	tg.Post(models.Message{Chat: models.Chat{ID: 42, Type: models.ChatTypePrivate}, From: &alice, Text: "Merhaba EVO"})
	eventually(t, "the reply", func() bool {
		msgs := tg.BotMessages(42)
		return len(msgs) == 1 && strings.Contains(msgs[0].Visible, "«Merhaba EVO»")
	})
	mehmet := discordtest.User{ID: dc.NewID(), Username: "mehmet"}
	ctxWait, cancelWait := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelWait()
	if _, err := dc.Wait(ctxWait, func(v discordtest.View) bool { return v.Sessions[discordToken].Connected }); err != nil {
		t.Fatalf("discord bot did not connect: %v\n%s", err, logs.String())
	}
	if _, err := dc.Post(discordtest.Post{ChannelID: channel.ID, Author: mehmet,
		Content: "<@" + botUser.ID + "> selam @everyone", Mentions: []discordtest.User{botUser}}); err != nil {
		t.Fatal(err)
	}
	v, err := dc.Wait(ctxWait, func(v discordtest.View) bool {
		for _, m := range v.Messages {
			if m.Author.ID == botUser.ID && strings.Contains(m.Content, "«selam @everyone»") {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no Discord reply: %v\n%s", err, logs.String())
	}
	for _, m := range v.Messages {
		if m.Author.ID == botUser.ID && (m.AllowedMentions == nil || m.AllowedMentions.Parse == nil || len(m.AllowedMentions.Parse) != 0) {
			t.Errorf("reply %q may ping: allowed_mentions = %+v", m.Content, m.AllowedMentions)
		}
	}
	// The reply is on screen a moment before the brain has stored it.
	var metricsText string
	eventually(t, "/metrics counting both conversations", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		metricsText = string(body)
		return strings.Contains(metricsText, `evo_messages_total{platform="telegram",role="assistant"} 1`) &&
			strings.Contains(metricsText, `evo_messages_total{platform="discord",role="assistant"} 1`) &&
			strings.Contains(metricsText, `evo_stage_seconds_count{stage="reply_stored"} 2`)
	})
	fams := parseMetrics(t, metricsText)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "evo_build_info",
		"evo_replies_total", "evo_reply_seconds", "evo_first_token_seconds", "evo_route_confidence",
		"evo_router_decisions_total", "evo_stage_seconds", "evo_recall_failures_total", "evo_night_runs_total",
		"evo_night_seconds", "evo_pending_messages", "evo_tokens_total"} {
		if fams[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, p := range []brain.Platform{brain.PlatformTelegram, brain.PlatformDiscord} {
		if got := value(t, fams, "evo_messages_total", "platform", string(p), "role", "user"); got != 1 {
			t.Errorf("evo_messages_total{platform=%q,role=\"user\"} = %v, want 1", p, got)
		}
	}
	if got := value(t, fams, "evo_reply_seconds"); got != 2 {
		t.Errorf("evo_reply_seconds_count = %v, want 2", got)
	}
	if code, body := getJSON("http://" + httpAddr + "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the messages = %d %v, want 200", code, body)
	}
	if got := len(tg.Commands()); got == 0 {
		t.Error("no commands registered with setMyCommands")
	}
	for _, secret := range []string{telegramtest.DefaultToken, discordToken} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a bot token appears in the logs: %q", secret)
		}
	}

	stop()
	select {
	case <-done:
		if code != 0 {
			t.Errorf("serve exit code = %d, want 0\n%s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

// pingFunc is a pinger.
type pingFunc func(ctx context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

// TestHealthAndReadiness: /healthz says the process is alive whatever its
// dependencies do; /readyz is 200 only when all of them answer, and names
// the ones down.
func TestHealthAndReadiness(t *testing.T) {
	b, err := brain.New(brain.Config{Base: brain.Expert{Name: brain.BaseExpert, Model: "base"}},
		braintest.NewMemHistory(), echoLLM{}, nil, brain.SystemClock{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	up := pingFunc(func(context.Context) error { return nil })
	down := pingFunc(func(context.Context) error { return errors.New("connection refused") })
	for _, tt := range []struct {
		name     string
		deps     map[string]pinger
		want     int
		wantDown []any
	}{
		{"all up", map[string]pinger{"postgres": up, "ollama": up, "chroma": up}, http.StatusOK, []any{}},
		{"without chroma", map[string]pinger{"postgres": up, "ollama": up}, http.StatusOK, []any{}},
		{"postgres down", map[string]pinger{"postgres": down, "ollama": up}, http.StatusServiceUnavailable, []any{"postgres"}},
		{"two down", map[string]pinger{"postgres": up, "ollama": down, "chroma": down}, http.StatusServiceUnavailable, []any{"chroma", "ollama"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(healthHandler(b, tt.deps, newMetrics()))
			defer srv.Close()
			if code, body := getJSON(srv.URL + "/healthz"); code != http.StatusOK || body["status"] != "ok" ||
				body["pending_messages"] != float64(0) {
				t.Errorf("/healthz = %d %v, want 200 ok", code, body)
			}
			code, body := getJSON(srv.URL + "/readyz")
			if code != tt.want {
				t.Errorf("/readyz = %d, want %d: %v", code, tt.want, body)
			}
			if got := fmt.Sprint(body["down"]); got != fmt.Sprint(tt.wantDown) {
				t.Errorf("down = %s, want %v", got, tt.wantDown)
			}
			wantStatus := map[bool]string{true: "ok", false: "degraded"}[tt.want == http.StatusOK]
			if body["status"] != wantStatus {
				t.Errorf("status = %v, want %s", body["status"], wantStatus)
			}
			for name := range tt.deps {
				if body[name] == nil || (body[name] == "ok") != !slices.Contains(tt.wantDown, any(name)) {
					t.Errorf("%s = %v", name, body[name])
				}
			}
		})
	}
}

// serveInProcess runs `evo serve` with env as its whole environment until
// the test ends; then it stops it, wants exit 0 within 30 s, and shows the
// service's log when the test failed. It returns the log.
func serveInProcess(t *testing.T, env map[string]string) *syncBuffer {
	t.Helper()
	logs := &syncBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), logs, logs, lookupFrom(env)) }()
	t.Cleanup(func() {
		stop()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exit code = %d, want 0", code)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
		if t.Failed() {
			t.Logf("evo serve log:\n%s", logs.String())
		}
	})
	return logs
}
