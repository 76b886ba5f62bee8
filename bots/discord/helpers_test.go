package discord

import (
	"bytes"
	"context"
	"encoding/json"
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
	// hold, if set, delays Done until it is closed (or Submit's ctx ends).
	hold  <-chan struct{}
	final brain.Reply
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
		if sc.hold != nil {
			select {
			case <-sc.hold:
			case <-ctx.Done():
				s.Done(brain.Reply{Kind: brain.ReplyError, Text: "iptal"})
				return
			}
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
	bot    *Bot

	// Set by run.
	cancel context.CancelFunc // ends Run's ctx
	done   chan error         // receives Run's result
	ran    bool               // Run's result was received
	runErr error
}

// startBot registers a bot account and its channels, runs a Bot and waits
// until it is connected and has registered its commands. Cleanup stops it.
func startBot(t *testing.T, cfg Config, answer func(brain.Message) script, channels ...discordtest.Channel) *env {
	t.Helper()
	e := newEnv(t, cfg, answer, channels...)
	e.run()
	return e
}

// newEnv registers a bot account and its channels and builds a Bot that
// run starts.
func newEnv(t *testing.T, cfg Config, answer func(brain.Message) script, channels ...discordtest.Channel) *env {
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
	e.bot = bot
	return e
}

// run starts Run and waits until the bot is connected and has registered
// its commands. Cleanup stops it.
func (e *env) run() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- e.bot.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if returned, err := e.waitRun(15 * time.Second); !returned {
			e.t.Errorf("Run did not return after cancel")
		} else if err != nil {
			e.t.Errorf("Run: %v", err)
		}
		if e.t.Failed() {
			e.t.Logf("bot log:\n%s", e.logs.String())
		}
	})
	e.wait("connected with commands registered", func(v discordtest.View) bool {
		return v.Sessions[e.token].Connected && len(v.Commands[e.user.ID]) > 0
	})
}

// waitRun waits up to d for Run to return and reports whether it did and
// its error.
func (e *env) waitRun(d time.Duration) (returned bool, err error) {
	e.t.Helper()
	if e.ran {
		return true, e.runErr
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-e.done:
		e.ran, e.runErr = true, err
		return true, err
	case <-t.C:
		return false, nil
	}
}

// waitClosed waits up to 10 s for ch to be closed.
func waitClosed(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("waiting until %s: timed out", what)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waiting until %s: timed out", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkNoPings fails the test for any recorded request that does not
// carry allowed_mentions with an empty parse list and no roles.
func checkNoPings(t *testing.T, reqs []discordtest.Request) {
	t.Helper()
	if len(reqs) == 0 {
		t.Fatal("no message requests recorded")
	}
	for _, r := range reqs {
		if r.Method == "DELETE" {
			continue
		}
		var body struct {
			AllowedMentions *struct {
				Parse *[]string `json:"parse"`
				Roles []string  `json:"roles"`
			} `json:"allowed_mentions"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("%s %s: %v", r.Method, r.Path, err)
		}
		if body.AllowedMentions == nil || body.AllowedMentions.Parse == nil || len(*body.AllowedMentions.Parse) != 0 || len(body.AllowedMentions.Roles) != 0 {
			t.Errorf("%s %s carries allowed_mentions %s, want parse [] and no roles", r.Method, r.Path, r.Body)
		}
	}
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

// requests returns the REST requests this bot made.
func (e *env) requests() []discordtest.Request {
	var out []discordtest.Request
	for _, r := range fake.Snapshot().Requests {
		if r.Auth == "Bot "+e.token {
			out = append(out, r)
		}
	}
	return out
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
