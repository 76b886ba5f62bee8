package brain

import (
	"context"
	"sync"
)

// Priority orders the requests waiting for a model slot.
type Priority int

const (
	// PriorityLive is a reply someone is waiting for.
	PriorityLive Priority = iota
	// PriorityNight is the night job's summaries: they yield to live chat.
	PriorityNight
)

// nightMax is how many slots the night may hold at once. With one, a live
// message never waits behind more than one night request: at most one
// busy slot is the night's, and once it frees, a waiting live request goes
// first. The night is sequential anyway (one user, one chunk at a time),
// so the bound costs it nothing; with MAX_PARALLEL > 1 live chat always
// has the other slots to itself.
const nightMax = 1

// Slots bounds concurrent model calls (MAX_PARALLEL, matching Ollama's
// OLLAMA_NUM_PARALLEL) between live replies and the night. When a slot
// frees, a waiting live request always goes before a waiting night
// request; the night holds at most one slot at a time. Waiters of one
// priority are served in arrival order. It is safe for concurrent use.
type Slots struct {
	mu    sync.Mutex
	size  int
	busy  int // slots held, night ones included
	night int // slots the night holds
	live  []*slotWaiter
	later []*slotWaiter // night waiters
}

// slotWaiter is one Acquire waiting; ready is closed once granted is set.
type slotWaiter struct {
	ready   chan struct{}
	granted bool
}

// NewSlots returns n slots (at least one).
func NewSlots(n int) *Slots {
	return &Slots{size: max(n, 1)}
}

// Waiting is how many requests wait for a slot, live and night ones.
func (s *Slots) Waiting() (live, night int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live), len(s.later)
}

// Acquire waits for a slot at priority p until ctx ends, and returns the
// function that gives it back (calling it again does nothing). A waiter
// whose ctx ends leaves the queue: its error is ctx's.
func (s *Slots) Acquire(ctx context.Context, p Priority) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.free(p) && len(s.live) == 0 && (p == PriorityLive || len(s.later) == 0) {
		s.take(p)
		s.mu.Unlock()
		return s.releaser(p), nil
	}
	w := &slotWaiter{ready: make(chan struct{})}
	if p == PriorityLive {
		s.live = append(s.live, w)
	} else {
		s.later = append(s.later, w)
	}
	s.mu.Unlock()

	select {
	case <-w.ready:
		return s.releaser(p), nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	if w.granted {
		// Granted as ctx ended: hand the slot on.
		s.mu.Unlock()
		s.releaser(p)()
		return nil, ctx.Err()
	}
	if p == PriorityLive {
		s.live = without(s.live, w)
	} else {
		s.later = without(s.later, w)
	}
	s.grant()
	s.mu.Unlock()
	return nil, ctx.Err()
}

// free tells whether a request of priority p may take a slot now, waiters
// aside; s.mu is held.
func (s *Slots) free(p Priority) bool {
	return s.busy < s.size && (p == PriorityLive || s.night < nightMax)
}

// take marks a slot held at priority p; s.mu is held.
func (s *Slots) take(p Priority) {
	s.busy++
	if p != PriorityLive {
		s.night++
	}
}

// releaser gives the slot taken at priority p back, once.
func (s *Slots) releaser(p Priority) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.busy--
			if p != PriorityLive {
				s.night--
			}
			s.grant()
		})
	}
}

// grant hands free slots to the waiters, live ones first; s.mu is held.
func (s *Slots) grant() {
	for {
		var w *slotWaiter
		switch {
		case len(s.live) > 0 && s.free(PriorityLive):
			w, s.live = s.live[0], s.live[1:]
			s.take(PriorityLive)
		case len(s.live) == 0 && len(s.later) > 0 && s.free(PriorityNight):
			w, s.later = s.later[0], s.later[1:]
			s.take(PriorityNight)
		default:
			return
		}
		w.granted = true
		close(w.ready)
	}
}

func without(ws []*slotWaiter, w *slotWaiter) []*slotWaiter {
	for i, x := range ws {
		if x == w {
			return append(ws[:i:i], ws[i+1:]...)
		}
	}
	return ws
}

// NightLLM wraps llm so that each Chat first takes one of the slots at
// night priority: the night job's model calls then yield to live chat.
func (s *Slots) NightLLM(llm LLM) LLM { return slotLLM{llm: llm, slots: s, prio: PriorityNight} }

// slotLLM is an LLM whose calls hold a slot.
type slotLLM struct {
	llm   LLM
	slots *Slots
	prio  Priority
}

var _ LLM = slotLLM{}

// Chat implements LLM.
func (l slotLLM) Chat(ctx context.Context, req ChatRequest, fn func(delta string) error) (ChatStats, error) {
	release, err := l.slots.Acquire(ctx, l.prio)
	if err != nil {
		return ChatStats{}, err
	}
	defer release()
	return l.llm.Chat(ctx, req, fn)
}

// WithSlots makes the brain take its model slots from s, shared with the
// night job (s.NightLLM); s's size replaces Config.MaxParallel. Without
// it the brain has MaxParallel slots of its own.
func WithSlots(s *Slots) Option {
	return func(b *Brain) {
		if s != nil {
			b.slots = s
		}
	}
}
