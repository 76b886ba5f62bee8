package telegram

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/brain"
)

// submission is one Submit call of a sinkHandler.
type submission struct {
	m    brain.Message
	sink brain.Sink
}

// sinkHandler is a hand-written brain.Handler that leaves the reply to the
// test: Submit records the message and hands its sink over on subs. When
// block is set, Submit does not return (the message is "being stored")
// until release is closed for a message whose text it names.
type sinkHandler struct {
	block   map[string]chan struct{} // text → closed to let Submit return
	entered chan string              // receives the text when Submit starts
	subs    chan submission

	mu       sync.Mutex
	got      []brain.Message
	returned []string // texts whose Submit returned, in order
	events   *events
}

var _ brain.Handler = (*sinkHandler)(nil)

func newSinkHandler(blockOn ...string) *sinkHandler {
	h := &sinkHandler{
		block:   map[string]chan struct{}{},
		entered: make(chan string, 100),
		subs:    make(chan submission, 100),
	}
	for _, text := range blockOn {
		h.block[text] = make(chan struct{})
	}
	return h
}

func (h *sinkHandler) Submit(_ context.Context, m brain.Message, s brain.Sink) {
	h.mu.Lock()
	h.got = append(h.got, m)
	h.mu.Unlock()
	h.entered <- m.Text
	if gate, ok := h.block[m.Text]; ok {
		<-gate
	}
	h.mu.Lock()
	h.returned = append(h.returned, m.Text)
	h.mu.Unlock()
	if h.events != nil {
		h.events.add("submit returned: " + m.Text)
	}
	h.subs <- submission{m: m, sink: s}
}

func (h *sinkHandler) release(text string) { close(h.block[text]) }

func (h *sinkHandler) wait() {}

// texts returns the texts of the messages submitted so far, in order.
func (h *sinkHandler) texts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.got {
		out = append(out, m.Text)
	}
	return out
}

// next returns the next submission whose Submit returned.
func (h *sinkHandler) next(t *testing.T) submission {
	t.Helper()
	select {
	case s := <-h.subs:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a Submit")
		return submission{}
	}
}

// answer delivers a final answer on every sink submitted, until the test
// ends.
func (h *sinkHandler) answerAll(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			select {
			case s := <-h.subs:
				s.sink.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: "Cevap: " + s.m.Text})
			case <-done:
				return
			}
		}
	}()
}

// events records what happened, in order, across goroutines.
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.got = append(e.got, s)
	e.mu.Unlock()
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got...)
}

func maxOffset(offsets []int64) int64 {
	if len(offsets) == 0 {
		return 0
	}
	return slices.Max(offsets)
}

func TestUpdateIsConfirmedOnlyOnceHandled(t *testing.T) {
	tests := []struct {
		name    string
		blockOn string // the message whose Submit blocks
		// wantMax is the highest offset Telegram may see while it blocks:
		// the earlier updates are confirmed, that one is not.
		wantMax int64
	}{
		{name: "first update", blockOn: "bir", wantMax: 1},
		{name: "second update", blockOn: "iki", wantMax: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSinkHandler(tt.blockOn)
			h.answerAll(t)
			e := start(t, h, nil)
			for _, text := range []string{"bir", "iki", "üç"} {
				e.say(private(alice), alice, text)
			}
			waitFor(t, "Submit to block", func() bool { return slices.Contains(h.texts(), tt.blockOn) })
			holds(t, "nothing confirmed past the blocked update", 300*time.Millisecond, func() bool {
				return maxOffset(e.srv.Offsets()) <= tt.wantMax
			})
			if got, want := e.srv.Pending(), 4-int(tt.wantMax); got < want {
				t.Errorf("pending updates while blocked = %d, want at least %d (the blocked one and later)", got, want)
			}
			h.release(tt.blockOn)
			waitFor(t, "all three confirmed", func() bool { return maxOffset(e.srv.Offsets()) == 4 })
			if got, want := h.texts(), []string{"bir", "iki", "üç"}; !slices.Equal(got, want) {
				t.Errorf("brain got %q, want %q", got, want)
			}
			offsets := e.srv.Offsets()
			if !slices.IsSorted(offsets) {
				t.Errorf("offsets %v went backwards", offsets)
			}
		})
	}
}

func TestUpdateSentTwiceReachesTheBrainOnce(t *testing.T) {
	h := newSinkHandler()
	h.answerAll(t)
	e := start(t, h, nil)
	e.srv.PostTwice(models.Message{Chat: private(alice), From: &alice, Text: "bir"})
	e.say(private(alice), alice, "iki")
	// The two replies run side by side: either may come first.
	waitFor(t, "both replies", func() bool {
		got := e.visible(alice.ID)
		slices.Sort(got)
		return slices.Equal(got, []string{"Cevap: bir", "Cevap: iki"})
	})
	if got, want := h.texts(), []string{"bir", "iki"}; !slices.Equal(got, want) {
		t.Errorf("brain got %q, want %q", got, want)
	}
}

// cancelOnUpdates is the adapter's HTTP client for getUpdates: it cancels
// Run's ctx as soon as an answer that carries updates has arrived, before
// the adapter reads it, so that the updates come in after ctx ended.
type cancelOnUpdates struct {
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{} // closed once it cancelled
}

func (c *cancelOnUpdates) Do(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/getUpdates") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte(`"result":[]`)) {
		c.once.Do(func() { c.cancel(); close(c.done) })
	}
	return resp, nil
}

func TestUpdatesArrivingAfterCancelAreNotConfirmed(t *testing.T) {
	h := newSinkHandler()
	h.answerAll(t)
	client := &cancelOnUpdates{done: make(chan struct{})}
	e := startWith(t, h, nil, func(b *Bot, cancel context.CancelFunc) {
		client.cancel = cancel
		b.http = client
	})
	e.say(private(alice), alice, "bir")
	select {
	case <-client.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the update never came")
	}
	if err := e.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := h.texts(); len(got) != 0 {
		t.Errorf("brain got %q after ctx ended, want nothing", got)
	}
	if got := maxOffset(e.srv.Offsets()); got > 1 {
		t.Errorf("offsets %v confirm update 1, which was never handled", e.srv.Offsets())
	}
	if got := e.srv.Pending(); got != 1 {
		t.Errorf("pending = %d, want the update kept for the next start", got)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestWebhookRetryReachesTheBrainOnce(t *testing.T) {
	tests := []struct {
		name string
		// overlap sends the retry while the first delivery is still being
		// handled (Telegram gave up waiting), else after its 200.
		overlap bool
	}{
		{name: "retry while the first is handled", overlap: true},
		{name: "retry after a 200", overlap: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &events{}
			h := newSinkHandler("kanca")
			h.events = ev
			h.answerAll(t)
			addr := freeAddr(t)
			e := start(t, h, func(c *Config) {
				c.WebhookURL = "http://" + addr + "/tg/hook"
				c.WebhookListen = addr
				c.WebhookSecret = "s3cret"
			})
			u := e.srv.Record(models.Message{Chat: private(alice), From: &alice, Text: "kanca"})
			u.ID = 41
			deliver := func(name string) <-chan int {
				got := make(chan int, 1)
				go func() {
					code, err := e.srv.Deliver(context.Background(), u, "s3cret")
					if err != nil {
						t.Errorf("%s: %v", name, err)
					}
					ev.add(name + " answered")
					got <- code
				}()
				return got
			}
			first := deliver("first")
			waitFor(t, "Submit to start", func() bool { return len(h.texts()) == 1 })
			var retry <-chan int
			if tt.overlap {
				retry = deliver("retry")
			}
			holds(t, "no answer before the message is stored", 200*time.Millisecond, func() bool {
				return len(first) == 0 && (retry == nil || len(retry) == 0)
			})
			h.release("kanca")
			if code := <-first; code != http.StatusOK {
				t.Errorf("first delivery: %d, want 200", code)
			}
			if !tt.overlap {
				retry = deliver("retry")
			}
			if code := <-retry; code != http.StatusOK {
				t.Errorf("retry: %d, want 200", code)
			}
			e.settled(t, alice.ID, []string{"Cevap: kanca"})
			if got, want := h.texts(), []string{"kanca"}; !slices.Equal(got, want) {
				t.Errorf("brain got %q, want %q", got, want)
			}
			if got := ev.all(); len(got) == 0 || got[0] != "submit returned: kanca" {
				t.Errorf("events %q, want Submit to return before any answer", got)
			}
		})
	}
}

func TestReplyNoneShowsNothing(t *testing.T) {
	tests := []struct {
		name   string
		deltas []string // streamed (and shown) before the ReplyNone
	}{
		{name: "nothing streamed"},
		{name: "partial text shown", deltas: []string{"Yazıyorum", "..."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSinkHandler()
			e := start(t, h, nil)
			e.say(private(alice), alice, "tekrar")
			s := h.next(t)
			for _, d := range tt.deltas {
				s.sink.Delta(d)
			}
			if len(tt.deltas) > 0 {
				waitFor(t, "the partial text", func() bool { return len(e.srv.BotMessages(alice.ID)) == 1 })
			}
			s.sink.Done(brain.Reply{Kind: brain.ReplyNone})
			waitFor(t, "the reply to end", func() bool { return e.bot.inflight.Load() == 0 })
			if got := e.visible(alice.ID); len(got) != 0 {
				t.Errorf("chat shows %q, want nothing", got)
			}
			if got, want := countChat(e.srv.Calls("sendMessage"), alice.ID), min(len(tt.deltas), 1); got != want {
				t.Errorf("sendMessage calls = %d, want %d", got, want)
			}
			if got, want := len(e.srv.Calls("deleteMessage")), min(len(tt.deltas), 1); got != want {
				t.Errorf("deleteMessage calls = %d, want %d", got, want)
			}
		})
	}
}

func TestSinkForDelivers(t *testing.T) {
	tests := []struct {
		name       string
		chat       models.Chat
		msg        func(posted models.Message) brain.Message
		wantChat   int64
		wantThread int
		wantQuote  bool // quotes the posted message
		wantNone   bool // nothing can be delivered
	}{
		{
			name: "private", chat: private(alice), wantChat: alice.ID,
			msg: func(p models.Message) brain.Message {
				return brain.Message{Platform: brain.PlatformTelegram, ChatID: "7", ChatKind: brain.ChatPrivate, PlatformMessageID: itoa(p.ID)}
			},
		},
		{
			name: "group", chat: group, wantChat: group.ID, wantQuote: true,
			msg: func(p models.Message) brain.Message {
				return brain.Message{Platform: brain.PlatformTelegram, ChatID: "-1001", ChatKind: brain.ChatGroup, PlatformMessageID: itoa(p.ID)}
			},
		},
		{
			name: "forum topic", chat: group, wantChat: group.ID, wantThread: 42, wantQuote: true,
			msg: func(p models.Message) brain.Message {
				return brain.Message{Platform: brain.PlatformTelegram, ChatID: "-1001:42", ChatKind: brain.ChatThread, PlatformMessageID: itoa(p.ID)}
			},
		},
		{
			name: "unknown chat id", chat: private(alice), wantChat: alice.ID, wantNone: true,
			msg: func(models.Message) brain.Message {
				return brain.Message{Platform: brain.PlatformTelegram, ChatID: "yok", ChatKind: brain.ChatPrivate}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, newSinkHandler(), nil)
			// A message stored before a restart, never answered; the test
			// posts it without queuing it as an update.
			posted := *e.srv.Record(models.Message{Chat: tt.chat, From: &alice, Text: "@" + botName + " cevapsız soru"}).Message
			s := e.bot.SinkFor(tt.msg(posted))
			s.Delta("Geç ")
			s.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: "Geç de olsa cevap"})
			waitFor(t, "the reply to end", func() bool { return e.bot.inflight.Load() == 0 })
			got := e.srv.BotMessages(tt.wantChat)
			if tt.wantNone {
				if len(got) != 0 {
					t.Errorf("bot sent %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 || got[0].Visible != "Geç de olsa cevap" {
				t.Fatalf("bot messages %+v, want one with the final text", got)
			}
			wantQuote := 0
			if tt.wantQuote {
				wantQuote = posted.ID
			}
			if got[0].ReplyTo != wantQuote || got[0].ThreadID != tt.wantThread {
				t.Errorf("reply quotes %d in thread %d, want %d in %d", got[0].ReplyTo, got[0].ThreadID, wantQuote, tt.wantThread)
			}
		})
	}
}

func TestShutdownFinishesRepliesButTakesNothingNew(t *testing.T) {
	h := newSinkHandler()
	e := start(t, h, func(c *Config) { c.ShutdownGrace = 5 * time.Second })
	e.say(private(alice), alice, "bir")
	s := h.next(t)
	s.sink.Delta("Yarım")
	waitFor(t, "the partial text", func() bool { return len(e.visible(alice.ID)) == 1 })
	resumed := e.bot.SinkFor(brain.Message{Platform: brain.PlatformTelegram, ChatID: "8", ChatKind: brain.ChatPrivate})

	e.cancel()
	late := e.say(private(alice), alice, "iki")
	// Run waits for the replies in flight, which still reach the chats.
	s.sink.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: "Yarım değil, tam cevap"})
	resumed.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: "Kaldığımız yerden"})
	if err := e.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := e.visible(alice.ID), []string{"Yarım değil, tam cevap"}; !slices.Equal(got, want) {
		t.Errorf("alice sees %q, want %q", got, want)
	}
	if got, want := e.visible(bob.ID), []string{"Kaldığımız yerden"}; !slices.Equal(got, want) {
		t.Errorf("bob sees %q, want %q", got, want)
	}
	if got, want := h.texts(), []string{"bir"}; !slices.Equal(got, want) {
		t.Errorf("brain got %q, want %q (nothing after ctx ended)", got, want)
	}
	if e.srv.Pending() != 1 {
		t.Errorf("pending = %d, want the late message %d kept for the next start", e.srv.Pending(), late.ID)
	}
	if got := e.bot.SinkFor(brain.Message{ChatID: "7", ChatKind: brain.ChatPrivate}); got == nil {
		t.Errorf("SinkFor after Run returned nil, want a sink that drops")
	}
}

func TestShutdownGraceDefault(t *testing.T) {
	var c Config
	c.defaults()
	if c.ShutdownGrace != 5*time.Second {
		t.Errorf("default ShutdownGrace = %v, want 5s", c.ShutdownGrace)
	}
}

func TestIDSetForgetsTheOldest(t *testing.T) {
	s := newIDSet(3)
	for _, id := range []int64{1, 2, 3, 2, 4} {
		s.add(id)
	}
	for _, tt := range []struct {
		id   int64
		want bool
	}{{1, false}, {2, true}, {3, true}, {4, true}, {5, false}} {
		if got := s.has(tt.id); got != tt.want {
			t.Errorf("has(%d) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
