package telegram

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/brain"
)

// feedbackHandler answers every message with a long reply (two parts)
// carrying the answer's ref, and records what the adapter reports.
type feedbackHandler struct {
	wg sync.WaitGroup

	mu         sync.Mutex
	deliveries []brain.Delivery
	feedback   []brain.Feedback
}

func (f *feedbackHandler) Submit(_ context.Context, m brain.Message, s brain.Sink) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if strings.HasPrefix(m.Text, "/") {
			s.Done(brain.Reply{Kind: brain.ReplyCommand, Text: "komut"})
			return
		}
		long := strings.Repeat("kelime ", 700) // over 4096: two messages
		s.Done(brain.Reply{Kind: brain.ReplyAnswer, Text: long, Ref: "a:m:" + m.PlatformMessageID})
	}()
}

func (f *feedbackHandler) wait() { f.wg.Wait() }

func (f *feedbackHandler) Delivered(_ context.Context, d brain.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deliveries = append(f.deliveries, d)
	return nil
}

func (f *feedbackHandler) Feedback(_ context.Context, fb brain.Feedback) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feedback = append(f.feedback, fb)
	return nil
}

func (f *feedbackHandler) got() ([]brain.Delivery, []brain.Feedback) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deliveries), slices.Clone(f.feedback)
}

func TestReactionsBecomeFeedback(t *testing.T) {
	h := &feedbackHandler{}
	e := start(t, h, nil)
	waitFor(t, "a getUpdates call", func() bool { return len(e.srv.Calls("getUpdates")) > 0 })
	if got := e.srv.AllowedUpdates(); !slices.Contains(got, models.AllowedUpdateMessageReaction) {
		t.Fatalf("the adapter asks for %v, without message_reaction", got)
	}

	q := e.say(private(bob), bob, "soru")
	e.say(private(bob), bob, "/help")
	waitFor(t, "the delivered answer", func() bool { d, _ := h.got(); return len(d) == 1 })
	d, _ := h.got()
	parts := e.srv.BotMessages(bob.ID)
	var ids []string
	for _, p := range parts {
		if p.Visible != "komut" {
			ids = append(ids, strconv.Itoa(p.ID))
		}
	}
	want := brain.Delivery{Platform: brain.PlatformTelegram, ChatID: "8", MessageChatID: "8",
		ReplyRef: "a:m:" + strconv.Itoa(q.ID), MessageIDs: ids}
	if len(ids) != 2 || d[0].ChatID != want.ChatID || d[0].MessageChatID != want.MessageChatID ||
		d[0].ReplyRef != want.ReplyRef || !slices.Equal(d[0].MessageIDs, want.MessageIDs) {
		t.Fatalf("delivery %+v, want %+v (a command's reply is not reported)", d, want)
	}
	second, _ := strconv.Atoi(ids[1])

	tests := []struct {
		name      string
		from      models.User
		old, new_ []string
		want      int // 0: no feedback
	}{
		{"thumbs down on the second part", bob, nil, []string{"👎"}, brain.FeedbackBad},
		{"changed to a heart", bob, []string{"👎"}, []string{"❤️"}, brain.FeedbackGood},
		{"removed: ignored", bob, []string{"❤️"}, nil, 0},
		{"an emoji that says nothing: ignored", bob, nil, []string{"🤔"}, 0},
		{"bad wins in a mixed set", alice, nil, []string{"👍", "💩"}, brain.FeedbackBad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, before := h.got()
			e.srv.React(bob.ID, second, tt.from, tt.old, tt.new_...)
			waitFor(t, "the reaction to be confirmed", func() bool { return e.srv.Pending() == 0 })
			// The next poll starts only after the update was handled.
			n := len(e.srv.Calls("getUpdates"))
			waitFor(t, "the next poll", func() bool { return len(e.srv.Calls("getUpdates")) > n })
			_, after := h.got()
			if tt.want == 0 {
				if len(after) != len(before) {
					t.Errorf("feedback %+v, want none", after[len(before):])
				}
				return
			}
			if len(after) != len(before)+1 {
				t.Fatalf("got %d new feedbacks, want 1", len(after)-len(before))
			}
			f := after[len(after)-1]
			wantF := brain.Feedback{Platform: brain.PlatformTelegram, ChatID: "8", UserID: strconv.FormatInt(tt.from.ID, 10),
				Admin: tt.from.ID == alice.ID, BotMessageID: ids[1], Value: tt.want, Source: brain.SourceReaction}
			if f != wantF {
				t.Errorf("feedback %+v, want %+v", f, wantF)
			}
		})
	}
}

func TestGroupReactionsNeedAnAdminBot(t *testing.T) {
	h := &feedbackHandler{}
	e := start(t, h, nil)
	e.say(group, bob, "@"+botName+" soru")
	waitFor(t, "the delivered answer", func() bool { d, _ := h.got(); return len(d) == 1 })
	d, _ := h.got()
	id, _ := strconv.Atoi(d[0].MessageIDs[0])

	e.srv.React(group.ID, id, bob, nil, "👍") // the bot is no admin: Telegram never sends it
	waitFor(t, "the unseen reaction to be dropped", func() bool { return e.srv.Pending() == 0 })
	e.srv.MakeAdmin(group.ID)
	e.srv.React(group.ID, id, bob, nil, "👎")
	waitFor(t, "the feedback", func() bool { _, f := h.got(); return len(f) > 0 })
	waitFor(t, "the queue to empty", func() bool { return e.srv.Pending() == 0 })
	if _, f := h.got(); len(f) != 1 || f[0].Value != brain.FeedbackBad || f[0].ChatID != "-1001" {
		t.Errorf("feedback %+v, want only the admin bot's bad one", f)
	}
}
