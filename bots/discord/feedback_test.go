package discord

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/evo-tr/evo/bots/discord/discordtest"
	"github.com/evo-tr/evo/brain"
)

// feedbackBrain is fakeBrain that also records what the adapter reports
// for feedback.
type feedbackBrain struct {
	*fakeBrain

	mu         sync.Mutex
	deliveries []brain.Delivery
	feedback   []brain.Feedback
}

func (f *feedbackBrain) Delivered(_ context.Context, d brain.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deliveries = append(f.deliveries, d)
	return nil
}

func (f *feedbackBrain) Feedback(_ context.Context, fb brain.Feedback) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feedback = append(f.feedback, fb)
	return nil
}

func (f *feedbackBrain) reports() ([]brain.Delivery, []brain.Feedback) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deliveries), slices.Clone(f.feedback)
}

func TestReactionsBecomeFeedback(t *testing.T) {
	if Intents&(1<<10) == 0 || Intents&(1<<13) == 0 {
		t.Fatalf("Intents %b lack the reaction intents", Intents)
	}
	for _, kind := range []int{discordtest.ChannelGuildText, discordtest.ChannelDM} {
		t.Run(string(rune('0'+kind)), func(t *testing.T) {
			ch := discordtest.Channel{ID: fake.NewID(), Type: kind, Name: "genel"}
			answer := func(m brain.Message) script {
				return script{final: brain.Reply{Kind: brain.ReplyAnswer, Text: "Cevap: " + m.Text, Ref: "a:m:" + m.PlatformMessageID}}
			}
			e := newEnv(t, Config{}, answer, ch)
			fb := &feedbackBrain{fakeBrain: e.brain}
			bot, err := New(Config{Token: e.token, EditInterval: e.bot.cfg.EditInterval}, fb, discardLogger(), fixedClock{testTime})
			if err != nil {
				t.Fatal(err)
			}
			e.bot = bot
			e.run()

			q := e.post(discordtest.Post{ChannelID: ch.ID, Content: e.mention() + " soru", Mentions: []discordtest.User{e.user}})
			shown := e.replyTo(q, "Cevap: soru")
			waitFor(t, "the delivery report", func() bool { d, _ := fb.reports(); return len(d) == 1 })
			d, _ := fb.reports()
			if d[0].Platform != brain.PlatformDiscord || d[0].ChatID != ch.ID || d[0].ReplyRef != "a:m:"+q.ID ||
				!slices.Equal(d[0].MessageIDs, []string{shown[0].ID}) {
				t.Fatalf("delivery %+v; want message %s of %s showing a:m:%s", d[0], shown[0].ID, ch.ID, q.ID)
			}
			tests := []struct {
				emoji string
				want  int
			}{{"👍", brain.FeedbackGood}, {"🤔", 0}, {"👎", brain.FeedbackBad}}
			for _, tt := range tests {
				sent, err := fake.React(shown[0].ID, e.people, tt.emoji)
				if err != nil || !sent {
					t.Fatalf("React: %v, %v (the bot did not ask for reactions?)", sent, err)
				}
			}
			waitFor(t, "two feedbacks", func() bool { _, f := fb.reports(); return len(f) == 2 })
			_, got := fb.reports()
			for i, v := range []int{brain.FeedbackGood, brain.FeedbackBad} {
				want := brain.Feedback{Platform: brain.PlatformDiscord, ChatID: ch.ID, UserID: e.people.ID,
					BotMessageID: shown[0].ID, Value: v, Source: brain.SourceReaction}
				if got[i] != want {
					t.Errorf("feedback %d: %+v, want %+v", i, got[i], want)
				}
			}
		})
	}
}
