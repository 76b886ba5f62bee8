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

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gatedLLM streams "önce " and then blocks until release is closed or its
// context ends.
type gatedLLM struct {
	release chan struct{}
	mu      sync.Mutex
	started int
}

func (g *gatedLLM) Chat(ctx context.Context, req brain.ChatRequest, fn func(string) error) (brain.ChatStats, error) {
	g.mu.Lock()
	g.started++
	g.mu.Unlock()
	if err := fn("önce "); err != nil {
		return brain.ChatStats{}, err
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return brain.ChatStats{}, ctx.Err()
	}
	return brain.ChatStats{DoneReason: "stop"}, fn("sonra: " + req.Messages[len(req.Messages)-1].Content)
}

func (g *gatedLLM) count() int { g.mu.Lock(); defer g.mu.Unlock(); return g.started }

// newGatedBrain is a test brain whose model blocks until released.
func newGatedBrain(t *testing.T, cfg brain.Config, h brain.History, opts ...brain.Option) (*brain.Brain, *gatedLLM) {
	t.Helper()
	if h == nil {
		h = braintest.NewMemHistory()
	}
	g := &gatedLLM{release: make(chan struct{})}
	cfg.Base = brain.Expert{Name: brain.BaseExpert, Model: "base-model"}
	b, err := brain.New(cfg, h, g, nil, fixedClock{testNow}, discardLog(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b, g
}

func tgMsg(user, id, text string) brain.Message {
	m := msg(user, text)
	m.PlatformMessageID = id
	return m
}

func userTexts(recs []brain.Record) []string {
	var out []string
	for _, r := range recs {
		if r.Role == brain.RoleUser {
			out = append(out, r.Text)
		}
	}
	return out
}

func TestMessageIsStoredOnArrival(t *testing.T) {
	h := braintest.NewMemHistory()
	b, g := newGatedBrain(t, brain.Config{}, h)
	first, second := brain.NewCollector(), brain.NewCollector()
	b.Submit(context.Background(), tgMsg("ayse", "1", "birinci"), first)
	b.Submit(context.Background(), tgMsg("ayse", "2", "ikinci"), second)
	// Submit returned: both are stored though the first is still being
	// answered and the second waits behind it.
	if got, want := strings.Join(userTexts(h.All()), ","), "birinci,ikinci"; got != want {
		t.Errorf("stored while the first reply streams: got %q, want %q", got, want)
	}
	close(g.release)
	for i, c := range []*brain.Collector{first, second} {
		r, err := c.Wait(context.Background())
		if err != nil || r.Kind != brain.ReplyAnswer {
			t.Errorf("reply %d: %+v, %v", i, r, err)
		}
	}
	recs := h.All()
	if len(recs) != 4 {
		t.Fatalf("stored %d records, want 4", len(recs))
	}
	for _, r := range recs {
		if r.Role == brain.RoleAssistant && (r.ReplyTo == "" || r.Ref != "a:"+r.ReplyTo) {
			t.Errorf("reply %q: ref %q reply_to %q", r.Text, r.Ref, r.ReplyTo)
		}
	}
	un, err := h.Unanswered(context.Background(), testNow.Add(-time.Hour))
	if err != nil || len(un) != 0 {
		t.Errorf("unanswered after both replies: %v, %v", texts(un), err)
	}
}

func TestQueueFullNoticeGoesOutAtOnce(t *testing.T) {
	h := braintest.NewMemHistory()
	b, g := newGatedBrain(t, brain.Config{MaxQueue: 2}, h)
	defer close(g.release)
	var cs []*brain.Collector
	for i := range 4 {
		c := brain.NewCollector()
		cs = append(cs, c)
		b.Submit(context.Background(), tgMsg("spam", fmt.Sprint(i), fmt.Sprint("m", i)), c)
	}
	// The model is still blocked on m0: the notices for m2 and m3 must not
	// wait for it.
	for _, i := range []int{2, 3} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := cs[i].Wait(ctx)
		cancel()
		if err != nil || !strings.Contains(r.Text, "Çok hızlı") {
			t.Errorf("reply to m%d while the backlog waits: %+v, %v", i, r, err)
		}
	}
	if got := len(userTexts(h.All())); got != 4 {
		t.Errorf("stored user messages = %d, want 4", got)
	}
}

func TestRedeliveredMessageIsStoredAndAnsweredOnce(t *testing.T) {
	for _, tt := range []struct {
		name    string
		restart bool // a new brain on the same history: only the database knows
	}{
		{"same process", false},
		{"after a restart", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := braintest.NewMemHistory()
			b := newTestBrain(t, brain.Config{}, nil, h)
			if r, _ := b.ask(t, tgMsg("ayse", "77", "merhaba")); r.Kind != brain.ReplyAnswer {
				t.Fatalf("first delivery: %+v", r)
			}
			if tt.restart {
				b = newTestBrain(t, brain.Config{}, nil, h)
			}
			r, streamed := b.ask(t, tgMsg("ayse", "77", "merhaba"))
			if r.Kind != brain.ReplyNone || streamed != "" {
				t.Errorf("second delivery: got %+v (streamed %q), want ReplyNone", r, streamed)
			}
			if got := len(h.All()); got != 2 {
				t.Errorf("stored %d records, want 2 (one message, one reply)", got)
			}
			if got := len(b.llm.calls()); got != 1 && !tt.restart {
				t.Errorf("model calls = %d, want 1", got)
			}
		})
	}
}

func TestOutageSpoolKeepsConversationOrder(t *testing.T) {
	h := &flakyHistory{History: newMem()}
	sp := &braintest.MemSpool{}
	b := newTestBrain(t, brain.Config{}, nil, h, brain.WithSpool(sp))
	h.setDown(true)
	b.ask(t, tgMsg("ayse", "1", "bir"))
	b.ask(t, tgMsg("ayse", "2", "iki"))
	if got := sp.Len(); got != 4 {
		t.Fatalf("spooled %d records, want 4 (two messages, two notices)", got)
	}
	h.setDown(false)
	// Until a flush gets through (serve's flush loop), new messages join
	// the spool behind the earlier ones.
	if r, _ := b.ask(t, tgMsg("ayse", "3", "üç")); !strings.Contains(r.Text, "geçici olarak") {
		t.Errorf("before the flush: %q", r.Text)
	}
	if err := b.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	r, _ := b.ask(t, tgMsg("ayse", "4", "dört"))
	if r.Kind != brain.ReplyAnswer {
		t.Fatalf("after recovery: %+v", r)
	}
	if got, want := strings.Join(userTexts(recent(t, h, "ayse")), ","), "bir,iki,üç,dört"; got != want {
		t.Errorf("stored order: got %q, want %q", got, want)
	}
	if sp.Len() != 0 {
		t.Errorf("spool holds %d records after the flush", sp.Len())
	}
	// Replaying the spool again (a crash before it was emptied) stores
	// nothing twice.
	for _, rec := range recent(t, h, "ayse") {
		if err := sp.Put(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(recent(t, h, "ayse")); got != 8 {
		t.Errorf("records after a replayed spool: %d, want 8", got)
	}
}

// stuckHistory blocks Append for one user until its context ends.
type stuckHistory struct {
	brain.History
	user string
}

func (s stuckHistory) Append(ctx context.Context, r *brain.Record) error {
	if r.Key.UserID == s.user {
		<-ctx.Done()
		return fmt.Errorf("insert: %w", ctx.Err())
	}
	return s.History.Append(ctx, r)
}

func TestHungInsertHoldsUpOnlyItsConversation(t *testing.T) {
	h := stuckHistory{History: newMem(), user: "yavas"}
	sp := &braintest.MemSpool{}
	b := newTestBrain(t, brain.Config{}, nil, h, brain.WithSpool(sp))
	slow := brain.NewCollector()
	go b.Submit(context.Background(), tgMsg("yavas", "1", "takıldım"), slow)
	// While that insert hangs, another user is stored and answered.
	start := time.Now()
	r, _ := b.ask(t, tgMsg("hizli", "2", "merhaba"))
	if r.Kind != brain.ReplyAnswer {
		t.Fatalf("other user's reply: %+v", r)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the other user waited %s behind a hung insert", d)
	}
	// The hung insert gives up and the message goes to the spool: kept.
	got, err := slow.Wait(context.Background())
	if err != nil || !strings.Contains(got.Text, "geçici olarak") {
		t.Errorf("reply to the stuck message: %+v, %v", got, err)
	}
	if rec, ok, _ := sp.Head(context.Background()); !ok || rec.Text != "takıldım" {
		t.Errorf("spool head = %+v, %v; want the stuck message", rec, ok)
	}
}

func TestSpoolFailureIsToldTruthfully(t *testing.T) {
	h := &flakyHistory{History: newMem()}
	sp := &braintest.MemSpool{}
	sp.SetFailPut(errors.New("disk full"))
	b := newTestBrain(t, brain.Config{}, nil, h, brain.WithSpool(sp))
	h.setDown(true)
	r, _ := b.ask(t, tgMsg("ayse", "1", "merhaba"))
	if r.Kind != brain.ReplyError || strings.Contains(r.Text, "kaydettim") || strings.Contains(r.Text, "sakladım") ||
		!strings.Contains(r.Text, "kaydedemedim") {
		t.Errorf("reply when nothing could keep the message: %q", r.Text)
	}
}

// fakeDeliverer hands out collectors, one per resumed message.
type fakeDeliverer struct {
	mu    sync.Mutex
	sinks map[string]*brain.Collector
}

func (d *fakeDeliverer) SinkFor(m brain.Message) brain.Sink {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := brain.NewCollector()
	d.sinks[m.Text] = c
	return c
}

func (d *fakeDeliverer) get(text string) *brain.Collector {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sinks[text]
}

func TestShutdownLetsRepliesFinishWithinItsBound(t *testing.T) {
	h := braintest.NewMemHistory()
	b, g := newGatedBrain(t, brain.Config{}, h)
	c := brain.NewCollector()
	ctx, cancelAdapter := context.WithCancel(context.Background())
	b.Submit(ctx, tgMsg("ayse", "1", "soru"), c)
	waitFor(t, "the reply to start", func() bool { return g.count() == 1 })
	cancelAdapter() // the adapter stops taking updates: the reply goes on
	done := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- b.Shutdown(sctx)
	}()
	close(g.release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	r, _ := c.Wait(context.Background())
	if r.Kind != brain.ReplyAnswer || r.Text != "önce sonra: soru" {
		t.Errorf("reply finished during shutdown: %+v", r)
	}
}

func TestShutdownCutRepliesAreResumed(t *testing.T) {
	h := braintest.NewMemHistory()
	b, g := newGatedBrain(t, brain.Config{}, h)
	streaming, queued := brain.NewCollector(), brain.NewCollector()
	b.Submit(context.Background(), tgMsg("ayse", "1", "uzun soru"), streaming)
	b.Submit(context.Background(), tgMsg("ayse", "2", "sıradaki"), queued)
	waitFor(t, "the reply to start", func() bool { return g.count() == 1 })
	sctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(sctx); err == nil {
		t.Fatal("Shutdown reported no cut replies")
	}
	for name, c := range map[string]*brain.Collector{"streaming": streaming, "queued": queued} {
		r, _ := c.Wait(context.Background())
		if !strings.Contains(r.Text, "yeniden başlatılıyor") {
			t.Errorf("%s reply at shutdown: %q, want the restarting notice", name, r.Text)
		}
	}
	if r, _ := streaming.Wait(context.Background()); !strings.HasPrefix(r.Text, "önce") {
		t.Errorf("the cut reply lost what had streamed: %q", r.Text)
	}
	// A message arriving during shutdown is stored and left for the
	// next start.
	late := brain.NewCollector()
	b.Submit(context.Background(), tgMsg("bora", "3", "geç kaldım"), late)
	if r, _ := late.Wait(context.Background()); !strings.Contains(r.Text, "yeniden başlatılıyor") {
		t.Errorf("reply during shutdown: %q", r.Text)
	}

	// The next start answers all three, in order, through the platform's
	// deliverer; the terminal's messages are left alone.
	cli := msg("cli-user", "terminalden")
	cli.Platform = brain.PlatformCLI
	if err := h.Append(context.Background(), &brain.Record{Key: cli.Key(), Role: brain.RoleUser, Text: cli.Text, Time: testNow, Ref: "r:x"}); err != nil {
		t.Fatal(err)
	}
	next := newTestBrain(t, brain.Config{}, nil, h)
	d := &fakeDeliverer{sinks: map[string]*brain.Collector{}}
	n, err := next.Resume(context.Background(), testNow.Add(-15*time.Minute), map[brain.Platform]brain.Deliverer{brain.PlatformTelegram: d})
	if err != nil || n != 3 {
		t.Fatalf("Resume = %d, %v; want 3", n, err)
	}
	for _, text := range []string{"uzun soru", "sıradaki", "geç kaldım"} {
		c := d.get(text)
		if c == nil {
			t.Fatalf("no sink for %q", text)
		}
		r, err := c.Wait(context.Background())
		if err != nil || r.Kind != brain.ReplyAnswer || r.Text != "cevap: "+text {
			t.Errorf("resumed reply to %q: %+v, %v", text, r, err)
		}
	}
	if got := strings.Join(userTexts(h.All()), ","); got != "uzun soru,sıradaki,geç kaldım,terminalden" {
		t.Errorf("user messages stored: %q (each once)", got)
	}
	un, err := h.Unanswered(context.Background(), testNow.Add(-time.Hour))
	if err != nil || len(un) != 1 || un[0].Text != "terminalden" {
		t.Errorf("unanswered after the resume: %q, %v", texts(un), err)
	}
	// The resumed prompt carries the conversation once: the message is not
	// repeated as context.
	for _, call := range next.llm.calls() {
		last := call.Messages[len(call.Messages)-1].Content
		for _, m := range call.Messages[:len(call.Messages)-1] {
			if m.Content == last {
				t.Errorf("prompt repeats the resumed message %q as context", last)
			}
		}
	}
}

func texts(rs []brain.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A Resume at start that finds a message the live bot is answering right
// now adds no second answer; a redelivery of a message an earlier run
// stored but never answered is left to Resume, which answers it once.
func TestResumeRacingTheLiveDelivery(t *testing.T) {
	h := braintest.NewMemHistory()
	b, g := newGatedBrain(t, brain.Config{}, h)
	live := brain.NewCollector()
	b.Submit(context.Background(), tgMsg("ayse", "5", "canlı"), live)
	waitFor(t, "the live reply to start", func() bool { return g.count() == 1 })
	d := &fakeDeliverer{sinks: map[string]*brain.Collector{}}
	if _, err := b.Resume(context.Background(), testNow.Add(-time.Hour), map[brain.Platform]brain.Deliverer{brain.PlatformTelegram: d}); err != nil {
		t.Fatal(err)
	}
	if r, _ := d.get("canlı").Wait(context.Background()); r.Kind != brain.ReplyNone {
		t.Errorf("resumed copy of a live message: %+v, want ReplyNone", r)
	}
	close(g.release)
	if r, _ := live.Wait(context.Background()); r.Kind != brain.ReplyAnswer {
		t.Errorf("live reply: %+v", r)
	}
	if got := g.count(); got != 1 {
		t.Errorf("model calls = %d, want 1", got)
	}

	// An earlier run stored "eski" and died before answering; Telegram
	// delivers it again before Resume runs.
	if err := h.Append(context.Background(), &brain.Record{Key: msg("bora", "").Key(), ChatKind: brain.ChatPrivate,
		Role: brain.RoleUser, Text: "eski", PlatformMessageID: "9", Ref: "m:9", Time: testNow}); err != nil {
		t.Fatal(err)
	}
	next := newTestBrain(t, brain.Config{}, nil, h)
	if r, _ := next.ask(t, tgMsg("bora", "9", "eski")); r.Kind != brain.ReplyNone {
		t.Errorf("redelivery of a stored message: %+v, want ReplyNone", r)
	}
	n, err := next.Resume(context.Background(), testNow.Add(-time.Hour), map[brain.Platform]brain.Deliverer{brain.PlatformTelegram: d})
	if err != nil || n != 1 {
		t.Fatalf("Resume = %d, %v; want 1", n, err)
	}
	if r, _ := d.get("eski").Wait(context.Background()); r.Kind != brain.ReplyAnswer {
		t.Errorf("resumed reply: %+v, want an answer", r)
	}
}
