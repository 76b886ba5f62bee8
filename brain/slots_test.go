package brain

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// untilQueued waits until s has live and night waiters queued.
func untilQueued(t *testing.T, s *Slots, live, night int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		l, n := len(s.live), len(s.later)
		s.mu.Unlock()
		if l == live && n == night {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiters queued: live %d, night %d; want %d, %d", l, n, live, night)
		}
		time.Sleep(time.Millisecond)
	}
}

// acquirer runs Acquire calls in goroutines and reports who got a slot, in
// order.
type acquirer struct {
	t   *testing.T
	s   *Slots
	got chan string
	mu  sync.Mutex
	rel map[string]func()
}

func newAcquirer(t *testing.T, s *Slots) *acquirer {
	return &acquirer{t: t, s: s, got: make(chan string, 16), rel: map[string]func(){}}
}

// hold takes a slot at once (it must be free).
func (a *acquirer) hold(name string, p Priority) {
	a.t.Helper()
	rel, err := a.s.Acquire(context.Background(), p)
	if err != nil {
		a.t.Fatalf("%s: Acquire: %v", name, err)
	}
	a.mu.Lock()
	a.rel[name] = rel
	a.mu.Unlock()
}

// wait queues name at p; once it has a slot it is sent on a.got.
func (a *acquirer) wait(ctx context.Context, name string, p Priority) chan error {
	errc := make(chan error, 1)
	go func() {
		rel, err := a.s.Acquire(ctx, p)
		errc <- err
		if err != nil {
			return
		}
		a.mu.Lock()
		a.rel[name] = rel
		a.mu.Unlock()
		a.got <- name
	}()
	return errc
}

func (a *acquirer) release(name string) {
	a.t.Helper()
	a.mu.Lock()
	rel := a.rel[name]
	a.mu.Unlock()
	if rel == nil {
		a.t.Fatalf("%s holds no slot", name)
	}
	rel()
}

// next is the next waiter granted a slot.
func (a *acquirer) next() string {
	a.t.Helper()
	select {
	case n := <-a.got:
		return n
	case <-time.After(10 * time.Second):
		a.t.Fatal("no waiter got a slot")
		return ""
	}
}

// none checks that no waiter holds a new slot: every queued one is still
// queued.
func (a *acquirer) none(live, night int) {
	a.t.Helper()
	untilQueued(a.t, a.s, live, night)
	select {
	case n := <-a.got:
		a.t.Fatalf("%s got a slot; want none free", n)
	default:
	}
}

func TestSlotsLiveGoesBeforeNight(t *testing.T) {
	for _, size := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("MaxParallel=%d", size), func(t *testing.T) {
			s := NewSlots(size)
			a := newAcquirer(t, s)
			for i := range size {
				a.hold(fmt.Sprintf("live-%d", i), PriorityLive)
			}
			// The night queues first, then two users.
			a.wait(context.Background(), "night", PriorityNight)
			untilQueued(t, s, 0, 1)
			a.wait(context.Background(), "user-a", PriorityLive)
			untilQueued(t, s, 1, 1)
			a.wait(context.Background(), "user-b", PriorityLive)
			untilQueued(t, s, 2, 1)

			var order []string
			a.release("live-0")
			order = append(order, a.next())
			a.release(order[0])
			order = append(order, a.next())
			a.release(order[1])
			order = append(order, a.next())
			want := []string{"user-a", "user-b", "night"}
			if fmt.Sprint(order) != fmt.Sprint(want) {
				t.Errorf("slots went to %v, want %v (live first, in arrival order)", order, want)
			}
		})
	}
}

func TestSlotsLiveWaitsBehindAtMostOneNightRequest(t *testing.T) {
	t.Run("one slot: the night's request in flight, another queued", func(t *testing.T) {
		s := NewSlots(1)
		a := newAcquirer(t, s)
		a.hold("night-1", PriorityNight)
		a.wait(context.Background(), "night-2", PriorityNight)
		untilQueued(t, s, 0, 1)
		a.wait(context.Background(), "user", PriorityLive)
		a.none(1, 1) // behind night-1, the one in flight
		a.release("night-1")
		if got := a.next(); got != "user" {
			t.Fatalf("after the night's request %s got the slot, want the user", got)
		}
		a.none(0, 1)
		a.release("user")
		if got := a.next(); got != "night-2" {
			t.Errorf("then %s, want night-2", got)
		}
	})
	t.Run("several slots: the night holds at most one", func(t *testing.T) {
		s := NewSlots(3)
		a := newAcquirer(t, s)
		a.hold("night-1", PriorityNight)
		// Two slots are free, but the night may not take a second.
		a.wait(context.Background(), "night-2", PriorityNight)
		a.none(0, 1)
		// Live chat still has the other two at once.
		a.hold("live-1", PriorityLive)
		a.hold("live-2", PriorityLive)
		a.wait(context.Background(), "user", PriorityLive)
		a.none(1, 1)
		// A live slot frees: the user gets it, the night still waits.
		a.release("live-1")
		if got := a.next(); got != "user" {
			t.Fatalf("%s got the freed slot, want the user", got)
		}
		a.release("night-1")
		if got := a.next(); got != "night-2" {
			t.Errorf("%s got the night's slot back, want night-2", got)
		}
		s.mu.Lock()
		busy, night := s.busy, s.night
		s.mu.Unlock()
		if busy != 3 || night != 1 {
			t.Errorf("busy %d, night %d; want 3, 1", busy, night)
		}
	})
}

func TestSlotsCancelledWaiterLeaves(t *testing.T) {
	for _, p := range []Priority{PriorityLive, PriorityNight} {
		t.Run(fmt.Sprint("priority ", p), func(t *testing.T) {
			s := NewSlots(1)
			a := newAcquirer(t, s)
			a.hold("holder", PriorityLive)
			ctx, cancel := context.WithCancel(context.Background())
			errc := a.wait(ctx, "cancelled", p)
			if p == PriorityLive {
				untilQueued(t, s, 1, 0)
			} else {
				untilQueued(t, s, 0, 1)
			}
			a.wait(context.Background(), "after", PriorityNight)
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled waiter: err %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the cancelled waiter still waits")
			}
			a.none(0, 1)
			a.release("holder")
			if got := a.next(); got != "after" {
				t.Errorf("the freed slot went to %s, want the waiter behind the cancelled one", got)
			}
			a.release("after")
			a.release("after") // twice: no effect
			rel, err := s.Acquire(context.Background(), PriorityLive)
			if err != nil {
				t.Fatalf("Acquire on free slots: %v", err)
			}
			rel()
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.busy != 0 || s.night != 0 || len(s.live)+len(s.later) != 0 {
				t.Errorf("after all released: busy %d, night %d, waiters %d; want none", s.busy, s.night, len(s.live)+len(s.later))
			}
		})
	}
	t.Run("a done context never waits", func(t *testing.T) {
		s := NewSlots(1)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Acquire(ctx, PriorityLive); !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	})
}

// countingLLM records how many of its calls run at once.
type countingLLM struct {
	mu       sync.Mutex
	now, top int
}

func (l *countingLLM) Chat(ctx context.Context, _ ChatRequest, fn func(string) error) (ChatStats, error) {
	l.mu.Lock()
	l.now++
	l.top = max(l.top, l.now)
	l.mu.Unlock()
	defer func() { l.mu.Lock(); l.now--; l.mu.Unlock() }()
	return ChatStats{}, fn("tamam")
}

func TestNightLLMHoldsOneSlot(t *testing.T) {
	s := NewSlots(4)
	inner := &countingLLM{}
	llm := s.NightLLM(inner)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := llm.Chat(context.Background(), ChatRequest{}, func(string) error { return nil }); err != nil {
				t.Errorf("Chat: %v", err)
			}
		}()
	}
	wg.Wait()
	if inner.top != 1 {
		t.Errorf("night calls at once: %d, want 1", inner.top)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy != 0 {
		t.Errorf("slots held after the calls: %d", s.busy)
	}
}
