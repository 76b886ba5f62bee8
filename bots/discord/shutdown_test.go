package discord

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/brain"
)

func TestShutdown(t *testing.T) {
	t.Parallel()
	const partial, final = "Uzun bir cevabın ", "Uzun bir cevabın tamamı geldi."
	tests := []struct {
		name  string
		grace time.Duration
		// viaSink delivers the reply through SinkFor instead of a mention.
		viaSink bool
		// release lets the brain finish the reply after Run's ctx ended;
		// without it the grace runs out.
		release  bool
		wantText string
	}{
		{name: "streaming reply completes", grace: 10 * time.Second, release: true, wantText: final},
		{name: "delivered reply completes", grace: 10 * time.Second, viaSink: true, release: true, wantText: final},
		{name: "grace runs out", grace: 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hold := make(chan struct{})
			answer := func(m brain.Message) script {
				if tt.viaSink {
					return script{final: brain.Reply{Kind: brain.ReplyAnswer, Text: "Cevap: " + m.Text}}
				}
				return script{deltas: []string{partial}, hold: hold, final: brain.Reply{Kind: brain.ReplyAnswer, Text: final}}
			}
			ch := discordtest.Channel{ID: fake.NewID(), Type: discordtest.ChannelGuildText, Name: "genel"}
			e := startBot(t, Config{ShutdownGrace: tt.grace}, answer, ch)

			var sink brain.Sink
			var m discordtest.Message
			if tt.viaSink {
				m = e.post(discordtest.Post{ChannelID: ch.ID, Content: "dünden kalan"})
				sink = e.bot.SinkFor(resumed(e, ch.ID, brain.ChatGroup, m.ID))
				sink.Delta(partial)
			} else {
				m = e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " uzun anlat", Mentions: []discordtest.User{e.user}})
			}
			e.replyTo(m, partial)

			stopping := time.Now()
			e.cancel()
			// Posted as Run stops and once it has stopped taking events:
			// neither may reach the brain.
			e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " bir", Mentions: []discordtest.User{e.user}})
			waitClosed(t, "Run stops taking events", e.bot.stopped)
			e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " iki", Mentions: []discordtest.User{e.user}})
			e.waitLog("shutting down; event ignored")

			if tt.release {
				if returned, _ := e.waitRun(0); returned {
					t.Fatal("Run returned with a reply in flight")
				}
				close(hold)
				if sink != nil {
					sink.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: final})
				}
			}
			if returned, err := e.waitRun(10 * time.Second); !returned || err != nil {
				t.Fatalf("Run returned %v, %v; want it to return nil", returned, err)
			}
			took := time.Since(stopping)
			if !tt.release && took < tt.grace {
				t.Errorf("Run returned %v after ctx ended, want at least the grace %v", took, tt.grace)
			}
			if took > tt.grace+5*time.Second {
				t.Errorf("Run returned %v after ctx ended, want about the grace %v at most", took, tt.grace)
			}
			if tt.release {
				want := 1 // the mention before shutdown
				if tt.viaSink {
					want = 0 // the message before shutdown was not addressed to the bot
				}
				if got := e.brain.got(); len(got) != want {
					t.Errorf("brain got %d messages, want %d", len(got), want)
				}
				var texts []string
				for _, b := range fake.Snapshot().By(ch.ID, e.user.ID) {
					texts = append(texts, b.Content)
				}
				if want := []string{tt.wantText}; !slices.Equal(texts, want) {
					t.Errorf("bot shows %q, want %q", texts, want)
				}
			} else {
				e.waitLog("cancelling them")
			}
			for _, got := range e.brain.got() {
				if strings.Contains(got.Text, "bir") || strings.Contains(got.Text, "iki") {
					t.Errorf("brain got %q, posted after Run's ctx ended", got.Text)
				}
			}
		})
	}
}

func TestEventsAfterCancelAreDropped(t *testing.T) {
	tests := []struct {
		name     string
		closing  bool // Run stopped taking events
		cancel   bool // Run's ctx ended
		wantSent int
	}{
		{name: "running", wantSent: 1},
		{name: "ctx ended while the event was handled", cancel: true},
		{name: "Run stopped taking events", closing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeBrain{answer: echo}
			b, err := New(Config{Token: "x"}, h, discardLogger(), fixedClock{testTime})
			if err != nil {
				t.Fatal(err)
			}
			b.closing = tt.closing
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			b.submit(ctx, brain.Message{Text: "selam"}, newRecTarget())
			b.replies.Wait()
			if got := len(h.got()); got != tt.wantSent {
				t.Errorf("brain got %d messages, want %d", got, tt.wantSent)
			}
		})
	}
}
