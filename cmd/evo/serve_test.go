package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/bots/telegram/telegramtest"
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
// Discord mention are answered with the model's text, /healthz reports the
// dependencies, and cancelling stops it cleanly.
func TestServeEndToEnd(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	llm := ollamatest.NewServer(t, ollamatest.WithModels(append(append([]string(nil), ollamatest.DefaultModels...), "bge-m3")...))
	chromaSrv := chromatest.Start(t)
	tg := telegramtest.NewServer(telegramtest.DefaultToken, "evo_test_bot")
	t.Cleanup(tg.Close)
	dc := discordtest.New(discordtest.Options{HeartbeatInterval: time.Second})
	t.Cleanup(dc.Close)
	const discordToken = "discord-test-token"
	botUser := discordtest.User{ID: dc.NewID(), Username: "evo", GlobalName: "EVO", Bot: true}
	dc.AddBot(discordToken, botUser)
	channel := discordtest.Channel{ID: dc.NewID(), Type: discordtest.ChannelGuildText, GuildID: dc.NewID(), Name: "genel", Bot: discordToken}
	dc.AddChannel(channel)
	httpAddr := freeAddr(t)
	env := map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"DATABASE_URL": dsn, "OLLAMA_HOST": llm.URL(), "HTTP_ADDR": httpAddr,
		"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken, "TELEGRAM_API_URL": tg.URL(),
		"DISCORD_BOT_TOKEN": discordToken, "DISCORD_API_URL": dc.URL, "TRAINING_DIR": t.TempDir(), "SPOOL_DIR": t.TempDir(),
		"CHROMA_URL": chromaSrv.URL(), "EMBED_MODEL": "bge-m3"}

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

	eventually(t, "/healthz", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode == http.StatusOK && body["postgres"] == "ok" && body["ollama"] == "ok" && body["chroma"] == "ok"
	})
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
	eventually(t, "/metrics counting both conversations", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), `evo_messages_total{platform="telegram",role="assistant"} 1`) &&
			strings.Contains(string(body), `evo_messages_total{platform="discord",role="assistant"} 1`)
	})
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
