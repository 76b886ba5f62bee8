package brain_test

import (
	"context"
	"strings"
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestReactionValue(t *testing.T) {
	for _, tt := range []struct {
		emoji string
		want  int
	}{
		{"👍", brain.FeedbackGood}, {"👍🏽", brain.FeedbackGood}, {"❤️", brain.FeedbackGood}, {"❤", brain.FeedbackGood},
		{"🔥", brain.FeedbackGood}, {"👏", brain.FeedbackGood}, {"🎉", brain.FeedbackGood},
		{"👎", brain.FeedbackBad}, {"👎🏿", brain.FeedbackBad}, {"💩", brain.FeedbackBad}, {"🤮", brain.FeedbackBad}, {"😡", brain.FeedbackBad},
		{"🤔", 0}, {"😂", 0}, {"", 0}, {"iyi", 0},
	} {
		t.Run(tt.emoji, func(t *testing.T) {
			if got := brain.ReactionValue(tt.emoji); got != tt.want {
				t.Errorf("ReactionValue(%q) = %d, want %d", tt.emoji, got, tt.want)
			}
		})
	}
}

func TestAnswerCarriesItsRef(t *testing.T) {
	b := newTestBrain(t, brain.Config{}, nil, nil)
	m := msg("u", "merhaba")
	m.PlatformMessageID = "41"
	r, _ := b.ask(t, m)
	if r.Kind != brain.ReplyAnswer || r.Ref != "a:m:41" {
		t.Fatalf("answer: kind %q, ref %q; want answer, a:m:41", r.Kind, r.Ref)
	}
	recs := recent(t, b.history, "u")
	if got := recs[len(recs)-1]; got.Ref != r.Ref {
		t.Errorf("stored answer's ref %q, reply's %q", got.Ref, r.Ref)
	}
	if r, _ := b.ask(t, msg("u", "/help")); r.Ref != "" {
		t.Errorf("a command's reply carries ref %q", r.Ref)
	}
	failing := newTestBrain(t, brain.Config{}, &fakeLLM{reply: func(brain.ChatRequest) (string, error) { return "", errBoom }}, nil)
	if r, _ := failing.ask(t, msg("u", "merhaba")); r.Kind != brain.ReplyError || r.Ref != "" {
		t.Errorf("failed answer: kind %q, ref %q; want error, no ref", r.Kind, r.Ref)
	}
}

func TestReactionFeedbackFindsTheAnswer(t *testing.T) {
	ctx := context.Background()
	fb := braintest.NewMemFeedback()
	b := newTestBrain(t, brain.Config{}, nil, nil, brain.WithFeedback(fb))
	if err := b.Delivered(ctx, brain.Delivery{Platform: brain.PlatformTelegram, ChatID: "c1", ReplyRef: "a:m:1",
		MessageIDs: []string{"100", "101"}}); err != nil {
		t.Fatalf("Delivered: %v", err)
	}
	react := func(user, id string, v int) {
		t.Helper()
		if err := b.Feedback(ctx, brain.Feedback{Platform: brain.PlatformTelegram, ChatID: "c1", UserID: user,
			BotMessageID: id, Value: v}); err != nil {
			t.Fatalf("Feedback: %v", err)
		}
	}
	tests := []struct {
		name      string
		user, id  string
		value     int
		wantValue int // of u's rating of a:m:1; 0: none
	}{
		{"no rating yet", "", "", 0, 0},
		{"a reaction on an unknown message is ignored", "u", "999", brain.FeedbackGood, 0},
		{"an emoji that says nothing is ignored", "u", "100", 0, 0},
		{"good on the first part", "u", "100", brain.FeedbackGood, brain.FeedbackGood},
		{"bad on the second part replaces it", "u", "101", brain.FeedbackBad, brain.FeedbackBad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.user != "" {
				react(tt.user, tt.id, tt.value)
			}
			var got int
			for _, r := range fb.Ratings() {
				if r.UserID == "u" && r.ReplyRef == "a:m:1" && r.ChatID == "c1" {
					got = r.Value
					if r.Source != brain.SourceReaction || !r.Time.Equal(testNow) {
						t.Errorf("rating source %q, time %v", r.Source, r.Time)
					}
				}
			}
			if got != tt.wantValue {
				t.Errorf("rating: got %d, want %d (all: %+v)", got, tt.wantValue, fb.Ratings())
			}
		})
	}
	if n := len(fb.Ratings()); n != 1 {
		t.Errorf("%d ratings stored, want 1", n)
	}
}

func TestStrangersReactionIsNotStored(t *testing.T) {
	ctx := context.Background()
	fb := braintest.NewMemFeedback()
	b := newTestBrain(t, brain.Config{}, nil, nil, brain.WithFeedback(fb),
		brain.WithAccess(brain.AccessAllowlist, braintest.NewMemAccess(), []brain.UserRef{{Platform: brain.PlatformTelegram, UserID: "tanidik"}}))
	_ = b.Delivered(ctx, brain.Delivery{Platform: brain.PlatformTelegram, ChatID: "g", ReplyRef: "a:m:1", MessageIDs: []string{"5"}})
	for _, user := range []string{"yabanci", "tanidik"} {
		if err := b.Feedback(ctx, brain.Feedback{Platform: brain.PlatformTelegram, ChatID: "g", UserID: user, BotMessageID: "5", Value: brain.FeedbackBad}); err != nil {
			t.Fatalf("Feedback: %v", err)
		}
	}
	got := fb.Ratings()
	if len(got) != 1 || got[0].UserID != "tanidik" {
		t.Errorf("ratings %+v; want only the allowed user's", got)
	}
}

func TestFeedbackCommands(t *testing.T) {
	tests := []struct {
		name      string
		before    []string // messages sent first
		llmFails  bool
		command   string
		want      string
		wantValue int // of the stored rating of the last answer; 0: none stored
	}{
		{"iyi after an answer", []string{"soru"}, false, "/iyi", "iyi olarak işaretledim", brain.FeedbackGood},
		{"kotu after an answer", []string{"soru"}, false, "/kotu", "kötü olarak işaretledim", brain.FeedbackBad},
		{"kotu rates the last of two answers", []string{"birinci", "ikinci"}, false, "/kotu", "kötü", brain.FeedbackBad},
		{"iyi before any answer", nil, false, "/iyi", "değerlendirebileceğin bir cevabım yok", 0},
		{"iyi after a failed answer", []string{"soru"}, true, "/iyi", "değerlendirebileceğin bir cevabım yok", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := braintest.NewMemFeedback()
			llm := &fakeLLM{}
			if tt.llmFails {
				llm.reply = func(brain.ChatRequest) (string, error) { return "", errBoom }
			}
			b := newTestBrain(t, brain.Config{}, llm, nil, brain.WithFeedback(fb))
			var last brain.Reply
			for i, text := range tt.before {
				m := msg("u", text)
				m.PlatformMessageID = string(rune('1' + i))
				last, _ = b.ask(t, m)
			}
			r, _ := b.ask(t, msg("u", tt.command))
			if !strings.Contains(r.Text, tt.want) {
				t.Errorf("reply to %s = %q, want it to contain %q", tt.command, r.Text, tt.want)
			}
			got := fb.Ratings()
			if tt.wantValue == 0 {
				if len(got) != 0 {
					t.Errorf("ratings %+v, want none", got)
				}
				return
			}
			want := brain.Rating{Platform: brain.PlatformTelegram, ChatID: "c1", ReplyRef: last.Ref, UserID: "u",
				Value: tt.wantValue, Source: brain.SourceCommand, Time: testNow}
			if len(got) != 1 || got[0] != want {
				t.Errorf("ratings %+v, want [%+v]", got, want)
			}
		})
	}
}

func TestFeedbackCommandAfterRestartReadsTheHistory(t *testing.T) {
	h := newMem()
	first := newTestBrain(t, brain.Config{}, nil, h)
	m := msg("u", "soru")
	m.PlatformMessageID = "7"
	first.ask(t, m)

	fb := braintest.NewMemFeedback()
	second := newTestBrain(t, brain.Config{}, nil, h, brain.WithFeedback(fb))
	if r, _ := second.ask(t, msg("u", "/kotu")); !strings.Contains(r.Text, "kötü") {
		t.Fatalf("/kotu after a restart: %q", r.Text)
	}
	if got := fb.Ratings(); len(got) != 1 || got[0].ReplyRef != "a:m:7" || got[0].Value != brain.FeedbackBad {
		t.Errorf("ratings %+v, want a:m:7 bad", got)
	}
}

func TestFeedbackOff(t *testing.T) {
	b := newTestBrain(t, brain.Config{}, nil, nil)
	b.ask(t, msg("u", "soru"))
	if r, _ := b.ask(t, msg("u", "/iyi")); !strings.Contains(r.Text, "kapalı") {
		t.Errorf("/iyi without a feedback store: %q", r.Text)
	}
	if err := b.Feedback(context.Background(), brain.Feedback{Platform: brain.PlatformTelegram, ChatID: "c1", UserID: "u",
		BotMessageID: "1", Value: brain.FeedbackGood}); err != nil {
		t.Errorf("Feedback without a store: %v", err)
	}
}

func TestFeedbackStoreDown(t *testing.T) {
	fb := braintest.NewMemFeedback()
	b := newTestBrain(t, brain.Config{}, nil, nil, brain.WithFeedback(fb))
	b.ask(t, msg("u", "soru"))
	fb.Err = brain.ErrStoreUnavailable
	if r, _ := b.ask(t, msg("u", "/iyi")); r.Kind != brain.ReplyError || !strings.Contains(r.Text, "kaydedemedim") {
		t.Errorf("/iyi with the store down: %q %q", r.Kind, r.Text)
	}
}
