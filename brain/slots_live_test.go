package brain_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// callLog records the order model calls start in.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) { l.mu.Lock(); l.calls = append(l.calls, s); l.mu.Unlock() }

func (l *callLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// gatedNight is the night's model: its first call blocks until gate
// closes.
type gatedNight struct {
	log     *callLog
	started chan struct{}
	gate    chan struct{}
	mu      sync.Mutex
	n       int
}

func (g *gatedNight) Chat(ctx context.Context, _ brain.ChatRequest, fn func(string) error) (brain.ChatStats, error) {
	g.mu.Lock()
	g.n++
	i := g.n
	g.mu.Unlock()
	g.log.add(fmt.Sprintf("night-%d", i))
	if i == 1 {
		close(g.started)
		select {
		case <-g.gate:
		case <-ctx.Done():
			return brain.ChatStats{}, ctx.Err()
		}
	}
	return brain.ChatStats{}, fn("{}")
}

// waitSlots waits until the slots have live and night waiters.
func waitSlots(t *testing.T, s *brain.Slots, live, night int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d live and %d night waiters", live, night), func() bool {
		l, n := s.Waiting()
		return l == live && n == night
	})
}

func TestLiveReplyGoesBeforeTheNight(t *testing.T) {
	slots := brain.NewSlots(1) // MAX_PARALLEL=1: the night's call holds the only slot
	log := &callLog{}
	g := &gatedNight{log: log, started: make(chan struct{}), gate: make(chan struct{})}
	night := slots.NightLLM(g)
	llm := &fakeLLM{reply: func(brain.ChatRequest) (string, error) { log.add("live"); return "tamam", nil }}
	b := newTestBrain(t, brain.Config{MaxParallel: 4}, llm, nil, brain.WithSlots(slots))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	chat := func() {
		defer wg.Done()
		if _, err := night.Chat(ctx, brain.ChatRequest{Model: "base"}, func(string) error { return nil }); err != nil {
			t.Errorf("night Chat: %v", err)
		}
	}
	wg.Add(1)
	go chat()
	<-g.started
	wg.Add(1)
	go chat() // the night's next summary queues
	waitSlots(t, slots, 0, 1)

	c := brain.NewCollector()
	b.Submit(ctx, msg("ayse", "merhaba"), c)
	// The brain's reply waits in the shared slots, behind the night's one call in flight.
	waitSlots(t, slots, 1, 1)
	close(g.gate)
	if _, err := c.Wait(ctx); err != nil {
		t.Fatalf("no reply: %v", err)
	}
	wg.Wait()
	want := []string{"night-1", "live", "night-2"}
	if got := log.all(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("model calls in order %v, want %v (the reply before the night's next call)", got, want)
	}
}
