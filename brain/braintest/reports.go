package braintest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// TestUserExporter is the contract of brain.UserExporter over the History
// it reads. newStore must return an empty store of its own for each call.
func TestUserExporter(t *testing.T, newStore func(t *testing.T) (brain.History, brain.UserExporter)) {
	t.Helper()
	ctx := context.Background()
	ayse := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "42", UserID: "42"}
	ayseGroup := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-100", UserID: "42"}
	mehmet := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-100", UserID: "7"}
	sameIDElsewhere := brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "42", UserID: "42"}
	t.Run("every message of the user, in every chat, and nobody else's", func(t *testing.T) {
		t.Parallel()
		h, x := newStore(t)
		add := func(k brain.ConvKey, role brain.Role, text string, sec int) {
			t.Helper()
			r := &brain.Record{Key: k, ChatKind: brain.ChatPrivate, Role: role, Text: text, Time: T0.Add(time.Duration(sec) * time.Second)}
			if role == brain.RoleAssistant {
				r.Decision = &brain.Decision{Expert: "tr_chat", Model: "m", Confidence: 0.9}
			}
			if err := h.Append(ctx, r); err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
		add(ayse, brain.RoleUser, "merhaba", 0)
		add(mehmet, brain.RoleUser, "mehmet'in sırrı", 1)
		add(ayse, brain.RoleAssistant, "selam Ayşe", 2)
		add(ayseGroup, brain.RoleUser, "gruptaki sorum", 3)
		add(sameIDElsewhere, brain.RoleUser, "discord'daki başka biri", 4)
		if err := h.Reset(ctx, ayse); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		got, err := x.UserMessages(ctx, brain.PlatformTelegram, "42")
		if err != nil {
			t.Fatalf("UserMessages: %v", err)
		}
		want := []string{"merhaba", "selam Ayşe", "gruptaki sorum"}
		if len(got) != len(want) {
			t.Fatalf("UserMessages: got %d records, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			if got[i].Text != w || got[i].Key.UserID != "42" || got[i].Key.Platform != brain.PlatformTelegram {
				t.Errorf("record %d: got %q of %s, want %q of telegram/42", i, got[i].Text, got[i].Key, w)
			}
		}
		if got[1].Decision == nil || got[1].Decision.Expert != "tr_chat" || got[1].Role != brain.RoleAssistant {
			t.Errorf("the reply lost its role or decision: %+v", got[1])
		}
		if got[2].Key.ChatID != "-100" {
			t.Errorf("group message: chat %q, want -100", got[2].Key.ChatID)
		}
	})
	t.Run("a user with no messages gets none", func(t *testing.T) {
		t.Parallel()
		_, x := newStore(t)
		got, err := x.UserMessages(ctx, brain.PlatformTelegram, "nobody")
		if err != nil || len(got) != 0 {
			t.Errorf("UserMessages of a stranger = %v, %v; want none, nil", got, err)
		}
		if _, err := x.UserMessages(ctx, "", "1"); err == nil {
			t.Error("UserMessages without a platform: got no error, want one")
		}
	})
}

// TestStats is the contract of brain.Stats over the History and NightLog
// it reads. newStore must return empty stores of its own for each call.
func TestStats(t *testing.T, newStore func(t *testing.T) (brain.History, brain.NightLog, brain.Stats)) {
	t.Helper()
	ctx := context.Background()
	dayStart := T0.Add(-time.Hour)
	t.Run("counts today's messages and answers, and reads the last night", func(t *testing.T) {
		t.Parallel()
		h, nl, st := newStore(t)
		n := 0
		add := func(user string, at time.Time, role brain.Role, d *brain.Decision, failed bool) {
			t.Helper()
			n++
			r := &brain.Record{Key: brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: user, UserID: user},
				ChatKind: brain.ChatPrivate, Role: role, Text: "x", Decision: d, Failed: failed, Time: at}
			if err := h.Append(ctx, r); err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
		tr := &brain.Decision{Expert: "tr_chat", Model: "m", Confidence: 0.9}
		py := &brain.Decision{Expert: "python_coder", Model: "m", Confidence: 0.8}
		base := &brain.Decision{Expert: brain.BaseExpert, Model: "m", Confidence: 0.3, Fallback: true, Candidate: "tr_chat"}
		yesterday := dayStart.Add(-time.Minute)
		add("1", yesterday, brain.RoleUser, nil, false)
		add("1", yesterday, brain.RoleAssistant, tr, false)
		add("1", dayStart, brain.RoleUser, nil, false)
		add("1", dayStart.Add(time.Second), brain.RoleAssistant, tr, false)
		add("2", T0, brain.RoleUser, nil, false)
		add("2", T0, brain.RoleAssistant, py, false)
		add("3", T0, brain.RoleUser, nil, false)
		add("3", T0, brain.RoleAssistant, base, false)
		add("3", T0, brain.RoleUser, nil, false)
		add("3", T0, brain.RoleAssistant, tr, true) // failed: not an answer
		for _, day := range []string{"2025-03-12", "2025-03-13"} {
			if ok, err := nl.ClaimNight(ctx, day, T0, time.Hour); err != nil || !ok {
				t.Fatalf("ClaimNight(%s) = %v, %v", day, ok, err)
			}
		}
		if err := nl.FinishNight(ctx, "2025-03-12", T0, `{"memories":1}`, nil); err != nil {
			t.Fatal(err)
		}
		if err := nl.FinishNight(ctx, "2025-03-13", T0.Add(time.Minute), "", errors.New("ollama down")); err != nil {
			t.Fatal(err)
		}
		got, err := st.Stats(ctx, dayStart)
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if got.Users != 3 || got.MessagesToday != 4 || got.Fallbacks != 1 {
			t.Errorf("Stats: users %d, messages today %d, fallbacks %d; want 3, 4, 1", got.Users, got.MessagesToday, got.Fallbacks)
		}
		want := map[string]int{"tr_chat": 1, "python_coder": 1, brain.BaseExpert: 1}
		if len(got.Answers) != len(want) {
			t.Errorf("Answers = %v, want %v", got.Answers, want)
		}
		for e, n := range want {
			if got.Answers[e] != n {
				t.Errorf("Answers[%s] = %d, want %d (all: %v)", e, got.Answers[e], n, got.Answers)
			}
		}
		if got.LastNight == nil || got.LastNight.Day != "2025-03-13" || got.LastNight.Err != "ollama down" ||
			!got.LastNight.Finished.Equal(T0.Add(time.Minute)) {
			t.Errorf("LastNight = %+v, want the failed run of 2025-03-13", got.LastNight)
		}
	})
	t.Run("an empty store", func(t *testing.T) {
		t.Parallel()
		_, _, st := newStore(t)
		got, err := st.Stats(ctx, dayStart)
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if got.Users != 0 || got.MessagesToday != 0 || len(got.Answers) != 0 || got.LastNight != nil {
			t.Errorf("Stats of an empty store = %+v, want zeros", got)
		}
	})
}
