package braintest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// MemFeedback is an in-memory brain.FeedbackStore. It is safe for
// concurrent use.
type MemFeedback struct {
	mu      sync.Mutex
	shown   map[string]brain.Shown
	ratings map[string]brain.Rating
	// Err, when set, is returned by every method.
	Err error
}

var _ brain.FeedbackStore = (*MemFeedback)(nil)

// NewMemFeedback returns an empty MemFeedback.
func NewMemFeedback() *MemFeedback {
	return &MemFeedback{shown: map[string]brain.Shown{}, ratings: map[string]brain.Rating{}}
}

func shownKey(p brain.Platform, chat, id string) string {
	return string(p) + "\x00" + chat + "\x00" + id
}

// Delivered implements brain.FeedbackStore.
func (f *MemFeedback) Delivered(_ context.Context, d brain.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	chat := d.MessageChatID
	if chat == "" {
		chat = d.ChatID
	}
	for _, id := range d.MessageIDs {
		f.shown[shownKey(d.Platform, chat, id)] = brain.Shown{ChatID: d.ChatID, ReplyRef: d.ReplyRef}
	}
	return nil
}

// ShownIn implements brain.FeedbackStore.
func (f *MemFeedback) ShownIn(_ context.Context, p brain.Platform, chat, id string) (brain.Shown, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return brain.Shown{}, false, f.Err
	}
	s, ok := f.shown[shownKey(p, chat, id)]
	return s, ok, nil
}

// Rate implements brain.FeedbackStore.
func (f *MemFeedback) Rate(_ context.Context, r brain.Rating) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	f.ratings[brain.FeedbackKey(r.Platform, r.ChatID, r.ReplyRef)+"\x00"+r.UserID] = r
	return nil
}

// FeedbackOf implements brain.FeedbackStore.
func (f *MemFeedback) FeedbackOf(_ context.Context, from, to time.Time) (map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	out := map[string]int{}
	for _, r := range f.ratings {
		if r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		k := brain.FeedbackKey(r.Platform, r.ChatID, r.ReplyRef)
		if v, ok := out[k]; !ok || r.Value < v {
			out[k] = r.Value
		}
	}
	return out, nil
}

// Ratings returns every stored rating.
func (f *MemFeedback) Ratings() []brain.Rating {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]brain.Rating, 0, len(f.ratings))
	for _, r := range f.ratings {
		out = append(out, r)
	}
	return out
}

// TestFeedbackStore is the contract every brain.FeedbackStore meets.
func TestFeedbackStore(t *testing.T, newStore func(t *testing.T) brain.FeedbackStore) {
	ctx := context.Background()
	at := func(sec int) time.Time { return T0.Add(time.Duration(sec) * time.Second) }
	tg := brain.PlatformTelegram

	t.Run("empty", func(t *testing.T) {
		s := newStore(t)
		if _, ok, err := s.ShownIn(ctx, tg, "1", "5"); ok || err != nil {
			t.Errorf("ShownIn on an empty store: got %v, %v; want false, nil", ok, err)
		}
		got, err := s.FeedbackOf(ctx, at(0), at(100))
		if err != nil || len(got) != 0 {
			t.Errorf("FeedbackOf on an empty store: got %v, %v; want none", got, err)
		}
	})

	t.Run("delivered parts find their answer", func(t *testing.T) {
		s := newStore(t)
		d := brain.Delivery{Platform: tg, ChatID: "-100:7", MessageChatID: "-100", ReplyRef: "a:m:3",
			MessageIDs: []string{"10", "11"}, Time: at(1)}
		if err := s.Delivered(ctx, d); err != nil {
			t.Fatalf("Delivered: %v", err)
		}
		if err := s.Delivered(ctx, d); err != nil {
			t.Fatalf("Delivered again: %v", err)
		}
		for _, id := range []string{"10", "11"} {
			got, ok, err := s.ShownIn(ctx, tg, "-100", id)
			want := brain.Shown{ChatID: "-100:7", ReplyRef: "a:m:3"}
			if err != nil || !ok || got != want {
				t.Errorf("ShownIn(%s): got %+v, %v, %v; want %+v", id, got, ok, err, want)
			}
		}
		for _, c := range []struct {
			p        brain.Platform
			chat, id string
		}{{tg, "-100:7", "10"}, {tg, "-100", "12"}, {brain.PlatformDiscord, "-100", "10"}} {
			if _, ok, err := s.ShownIn(ctx, c.p, c.chat, c.id); ok || err != nil {
				t.Errorf("ShownIn(%s, %s, %s): got %v, %v; want false", c.p, c.chat, c.id, ok, err)
			}
		}
	})

	t.Run("ratings: the last per user, bad wins over good", func(t *testing.T) {
		s := newStore(t)
		rate := func(chat, ref, user string, v, sec int) {
			t.Helper()
			if err := s.Rate(ctx, brain.Rating{Platform: tg, ChatID: chat, ReplyRef: ref, UserID: user,
				Value: v, Source: brain.SourceReaction, Time: at(sec)}); err != nil {
				t.Fatalf("Rate: %v", err)
			}
		}
		rate("1", "a:m:1", "u1", brain.FeedbackGood, 10)
		rate("1", "a:m:2", "u1", brain.FeedbackGood, 11)
		rate("1", "a:m:2", "u1", brain.FeedbackBad, 12) // changed their mind
		rate("1", "a:m:3", "u1", brain.FeedbackGood, 13)
		rate("1", "a:m:3", "u2", brain.FeedbackBad, 14)  // another user found it bad
		rate("2", "a:m:1", "u1", brain.FeedbackBad, 15)  // another chat
		rate("1", "a:m:4", "u1", brain.FeedbackGood, 50) // outside the span
		got, err := s.FeedbackOf(ctx, at(10), at(50))
		if err != nil {
			t.Fatalf("FeedbackOf: %v", err)
		}
		want := map[string]int{
			brain.FeedbackKey(tg, "1", "a:m:1"): brain.FeedbackGood,
			brain.FeedbackKey(tg, "1", "a:m:2"): brain.FeedbackBad,
			brain.FeedbackKey(tg, "1", "a:m:3"): brain.FeedbackBad,
			brain.FeedbackKey(tg, "2", "a:m:1"): brain.FeedbackBad,
		}
		if len(got) != len(want) {
			t.Errorf("FeedbackOf: got %d answers %v; want %d", len(got), got, len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("FeedbackOf[%q]: got %d, want %d", k, got[k], v)
			}
		}
	})
}
