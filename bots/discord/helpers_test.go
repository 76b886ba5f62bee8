package discord

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/brain"
)

// fake is the one fake Discord every test shares: discordgo's endpoints
// are package variables, set once here.
var fake *discordtest.Server

func TestMain(m *testing.M) {
	fake = discordtest.New(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	if err := SetEndpoints(fake.URL); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	fake.Close()
	os.Exit(code)
}

// script is what the fake brain answers to one message.
type script struct {
	deltas []string
	gap    time.Duration
	final  brain.Reply
}

// fakeBrain is a hand-written brain.Handler: it records messages and
// streams a scripted answer on its own goroutine, as the brain does.
type fakeBrain struct {
	answer func(brain.Message) script

	mu   sync.Mutex
	msgs []brain.Message
}

var _ brain.Handler = (*fakeBrain)(nil)

func (f *fakeBrain) Submit(ctx context.Context, m brain.Message, s brain.Sink) {
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	f.mu.Unlock()
	sc := f.answer(m)
	go func() {
		for _, d := range sc.deltas {
			if sc.gap > 0 {
				select {
				case <-time.After(sc.gap):
				case <-ctx.Done():
					s.Done(brain.Reply{Kind: brain.ReplyError, Text: "iptal"})
					return
				}
			}
			s.Delta(d)
		}
		s.Done(sc.final)
	}()
}

func (f *fakeBrain) got() []brain.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]brain.Message(nil), f.msgs...)
}

// echo answers "Cevap: <text>" in three deltas.
func echo(m brain.Message) script {
	text := "Cevap: " + m.Text
	third := len(text) / 3
	return script{deltas: []string{text[:third], text[third : 2*third], text[2*third:]},
		final: brain.Reply{Kind: brain.ReplyAnswer, Text: text}}
}

// answerWith streams text in chunks of n bytes with gap between them.
func answerWith(text string, n int, gap time.Duration) func(brain.Message) script {
	return func(brain.Message) script {
		var deltas []string
		for rest := text; rest != ""; {
			k := min(n, len(rest))
			deltas = append(deltas, rest[:k])
			rest = rest[k:]
		}
		return script{deltas: deltas, gap: gap, final: brain.Reply{Kind: brain.ReplyAnswer, Text: text}}
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var testTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one running bot against the shared fake.
type env struct {
	t      *testing.T
	token  string
	user   discordtest.User // the bot's account
	guild  string
	brain  *fakeBrain
	logs   *lockedBuffer
	people discordtest.User
}

// startBot registers a bot account and its channels, runs a Bot and waits
// until it is connected and has registered its commands. Cleanup stops it.
func startBot(t *testing.T, cfg Config, answer func(brain.Message) script, channels ...discordtest.Channel) *env {
	t.Helper()
	e := &env{t: t, token: "tok-" + fake.NewID(), guild: fake.NewID(), logs: &lockedBuffer{},
		brain: &fakeBrain{answer: answer}}
	e.user = discordtest.User{ID: fake.NewID(), Username: "evo", GlobalName: "EVO"}
	e.people = discordtest.User{ID: fake.NewID(), Username: "ayse", GlobalName: "Ayşe"}
	fake.AddBot(e.token, e.user)
	for _, c := range channels {
		e.addChannel(c)
	}
	cfg.Token = e.token
	if cfg.EditInterval == 0 {
		cfg.EditInterval = 50 * time.Millisecond
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bot, err := New(cfg, e.brain, log, fixedClock{testTime})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bot.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
		if t.Failed() {
			t.Logf("bot log:\n%s", e.logs.String())
		}
	})
	e.wait("connected with commands registered", func(v discordtest.View) bool {
		return v.Sessions[e.token].Connected && len(v.Commands[e.user.ID]) > 0
	})
	return e
}

func (e *env) addChannel(c discordtest.Channel) {
	c.Bot = e.token
	if c.Type != discordtest.ChannelDM && c.GuildID == "" {
		c.GuildID = e.guild
	}
	fake.AddChannel(c)
}

// wait blocks until cond holds, failing the test after 10 s.
func (e *env) wait(what string, cond func(v discordtest.View) bool) discordtest.View {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := fake.Wait(ctx, cond)
	if err != nil {
		e.t.Fatalf("waiting until %s: %v", what, err)
	}
	return v
}

// waitLog polls the bot's log until it holds text, failing after 10 s.
func (e *env) waitLog(text string) {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(e.logs.String(), text); {
		if time.Now().After(deadline) {
			e.t.Fatalf("log never said %q", text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// post writes a user's message, failing the test on error.
func (e *env) post(p discordtest.Post) discordtest.Message {
	e.t.Helper()
	if p.Author.ID == "" {
		p.Author = e.people
	}
	m, err := fake.Post(p)
	if err != nil {
		e.t.Fatalf("post: %v", err)
	}
	return m
}

// mention is the markup of a mention of the bot.
func (e *env) mention() string { return "<@" + e.user.ID + ">" }

// replyTo waits until the bot's reply to userMsg reads want, and returns
// the bot's messages in the channel.
func (e *env) replyTo(userMsg discordtest.Message, want string) []discordtest.Message {
	e.t.Helper()
	v := e.wait("the reply reads the answer", func(v discordtest.View) bool {
		for _, m := range v.By(userMsg.ChannelID, e.user.ID) {
			if m.Reference == userMsg.ID && m.Content == want {
				return true
			}
		}
		return false
	})
	return v.By(userMsg.ChannelID, e.user.ID)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
