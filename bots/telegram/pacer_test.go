package telegram

import (
	"fmt"
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		chat  string
		group bool
		at    time.Duration // since t0
		wait  time.Duration // what acquire must answer
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"one per second per chat", []step{
			{"a", false, 0, 0},
			{"a", false, 200 * time.Millisecond, 800 * time.Millisecond},
			{"a", false, time.Second, 0},
			{"b", false, time.Second, 0},
		}},
		{"chats are independent", []step{
			{"a", false, 0, 0}, {"b", false, 0, 0}, {"c", false, 0, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(time.Second, 20, 30)
			for i, s := range tt.steps {
				if got := p.acquire(s.chat, s.group, t0.Add(s.at)); got != s.wait {
					t.Fatalf("step %d: acquire(%s, %v) = %v, want %v", i, s.chat, s.at, got, s.wait)
				}
			}
		})
	}
}

func TestPacerGroupPerMinute(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	p := newPacer(time.Second, 20, 30)
	now := t0
	for i := range 20 {
		if got := p.acquire("g", true, now); got != 0 {
			t.Fatalf("message %d at %v: wait %v, want 0", i, now.Sub(t0), got)
		}
		now = now.Add(time.Second)
	}
	// The 21st message must wait for the first to leave the minute window.
	if got, want := p.acquire("g", true, now), t0.Add(time.Minute).Sub(now); got != want {
		t.Fatalf("21st message: wait %v, want %v", got, want)
	}
	if got := p.acquire("g", true, t0.Add(time.Minute)); got != 0 {
		t.Fatalf("21st message after the window: wait %v, want 0", got)
	}
	// A private chat is not bound by the group window.
	p2 := newPacer(time.Second, 20, 30)
	for i := range 25 {
		if got := p2.acquire("p", false, t0.Add(time.Duration(i)*time.Second)); got != 0 {
			t.Fatalf("private message %d: wait %v, want 0", i, got)
		}
	}
}

func TestPacerGlobalPerSecond(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	p := newPacer(time.Second, 20, 30)
	for i := range 30 {
		if got := p.acquire(fmt.Sprint("chat", i), false, t0.Add(time.Duration(i)*time.Millisecond)); got != 0 {
			t.Fatalf("chat %d: wait %v, want 0", i, got)
		}
	}
	if got, want := p.acquire("chat30", false, t0.Add(30*time.Millisecond)), time.Second-30*time.Millisecond; got != want {
		t.Fatalf("31st message in a second: wait %v, want %v", got, want)
	}
}

func TestPacerHold(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	p := newPacer(time.Second, 20, 30)
	p.hold("a", t0.Add(5*time.Second))
	if got, want := p.acquire("a", false, t0), 5*time.Second; got != want {
		t.Fatalf("held chat: wait %v, want %v", got, want)
	}
	if got := p.acquire("b", false, t0); got != 0 {
		t.Fatalf("other chat: wait %v, want 0", got)
	}
}

func TestPacerForgetsIdleChats(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	p := newPacer(time.Second, 20, 0)
	for i := range 2048 {
		p.acquire(fmt.Sprint(i), false, t0.Add(time.Duration(i)*100*time.Millisecond))
	}
	if got := p.size(); got > 1024 {
		t.Errorf("pacer remembers %d chats, want at most 1024 (idle ones swept)", got)
	}
}
