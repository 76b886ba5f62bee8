package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain"
)

const botName = "evo_test_bot"

// script is what the fake brain answers to one message.
type script struct {
	deltas []string
	final  string
	// wait is slept before the first delta and between deltas.
	wait time.Duration
}

// fakeHandler is a hand-written brain.Handler: it records every message
// and streams the answer its answer function picks.
type fakeHandler struct {
	answer func(m brain.Message) script

	mu  sync.Mutex
	got []brain.Message
	wg  sync.WaitGroup
}

var _ brain.Handler = (*fakeHandler)(nil)

func (f *fakeHandler) Submit(ctx context.Context, m brain.Message, s brain.Sink) {
	f.mu.Lock()
	f.got = append(f.got, m)
	f.mu.Unlock()
	sc := script{final: "Cevap: " + m.Text}
	if f.answer != nil {
		sc = f.answer(m)
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for _, d := range sc.deltas {
			time.Sleep(sc.wait)
			s.Delta(d)
		}
		time.Sleep(sc.wait)
		s.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: sc.final})
	}()
}

func (f *fakeHandler) wait() { f.wg.Wait() }

// testHandler is a fake brain whose streams the test can wait for.
type testHandler interface {
	brain.Handler
	wait()
}

func (f *fakeHandler) messages() []brain.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]brain.Message(nil), f.got...)
}

// sleeps records the adapter's waits and sleeps at most 50 ms of each.
type sleeps struct {
	mu  sync.Mutex
	got []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.got = append(s.got, d)
	s.mu.Unlock()
	return sleep(ctx, min(d, 50*time.Millisecond))
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.got...)
}

// testLog writes the adapter's logs to the test until it ends.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

type env struct {
	srv    *telegramtest.Server
	bot    *Bot
	sleeps *sleeps

	cancel context.CancelFunc // ends Run's ctx
	runErr chan error
	once   sync.Once
	err    error
}

// stop ends Run's ctx and returns what Run returned (once it has).
func (e *env) stop() error {
	e.cancel()
	e.once.Do(func() {
		select {
		case e.err = <-e.runErr:
		case <-time.After(10 * time.Second):
			e.err = errors.New("Run did not return after cancel")
		}
	})
	return e.err
}

// start runs a Bot against a fresh fake Bot API until the test ends.
func start(t *testing.T, h testHandler, configure func(*Config)) *env {
	t.Helper()
	return startWith(t, h, configure, nil)
}

// startWith is start with a hook that sees the Bot and Run's cancel
// before Run starts.
func startWith(t *testing.T, h testHandler, configure func(*Config), prepare func(b *Bot, cancel context.CancelFunc)) *env {
	t.Helper()
	srv := telegramtest.NewServer(telegramtest.DefaultToken, botName)
	srv.PollWait = 200 * time.Millisecond
	sl := &sleeps{}
	cfg := Config{
		Token:          telegramtest.DefaultToken,
		APIURL:         srv.URL(),
		AdminIDs:       []int64{7},
		EditInterval:   60 * time.Millisecond,
		TypingInterval: 100 * time.Millisecond,
		PollTimeout:    2 * time.Second,
		RequestTimeout: 5 * time.Second,
		ShutdownGrace:  2 * time.Second,
		Sleep:          sl.sleep,
	}
	if configure != nil {
		configure(&cfg)
	}
	lw := &testLog{t: t}
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(cfg, h, log, brain.SystemClock{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if prepare != nil {
		prepare(b, cancel)
	}
	e := &env{srv: srv, bot: b, sleeps: sl, cancel: cancel, runErr: make(chan error, 1)}
	go func() { e.runErr <- b.Run(ctx) }()
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		h.wait()
		srv.Close()
		lw.mu.Lock()
		lw.done = true
		lw.mu.Unlock()
	})
	method := "deleteWebhook"
	if cfg.WebhookURL != "" {
		method = "setWebhook"
	}
	waitFor(t, "the bot to start", func() bool { return len(srv.Calls(method)) > 0 })
	return e
}

// holds checks that cond stays true for d (for what must not happen,
// such as a confirmation while a handler is blocked).
func holds(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !cond() {
			t.Fatalf("%s: no longer holds", what)
		}
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	alice = models.User{ID: 7, FirstName: "Ayşe", LastName: "Yılmaz", Username: "ayse"}
	bob   = models.User{ID: 8, FirstName: "Bora", Username: "bora"}
)

func private(u models.User) models.Chat {
	return models.Chat{ID: u.ID, Type: models.ChatTypePrivate, FirstName: u.FirstName}
}

var group = models.Chat{ID: -1001, Type: models.ChatTypeSupergroup, Title: "Grup"}

// say posts a text message from u in chat.
func (e *env) say(chat models.Chat, u models.User, text string) models.Message {
	return e.srv.Post(models.Message{Chat: chat, From: &u, Text: text})
}

// visible is what the user sees of the bot's live messages in a chat.
func (e *env) visible(chat int64) []string {
	var out []string
	for _, m := range e.srv.BotMessages(chat) {
		out = append(out, m.Visible)
	}
	return out
}

// settled waits until the bot's messages in chat show want (rendered and
// split as the adapter does) and no reply is in flight.
func (e *env) settled(t *testing.T, chat int64, want []string) {
	t.Helper()
	waitFor(t, "the final reply", func() bool {
		got := e.srv.BotMessages(chat)
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i].Text != want[i] {
				return false
			}
		}
		return true
	})
}
