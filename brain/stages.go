package brain

import (
	"log/slog"
	"sync"
	"time"
)

// Stage names a step of answering one message.
type Stage string

// The stages of an answered message, in the order they end. The
// adapter's final delivery is not among them: it happens after the brain
// hands the reply to the Sink, out of its sight.
const (
	// StageStored ends when the user's message is in the database (or the
	// spool). A resumed message was stored by an earlier run: it has no
	// StageStored.
	StageStored Stage = "stored"
	// StageQueued ends when the message's turn comes: earlier messages of
	// the same conversation were answered.
	StageQueued Stage = "queued"
	// StageContext ends when the conversation's earlier messages are read.
	StageContext Stage = "context"
	// StageRouted ends when the expert is chosen.
	StageRouted Stage = "routed"
	// StageRecalled ends when long-term memories are recalled (at once
	// when there is no recall, or not in this chat).
	StageRecalled Stage = "recalled"
	// StageFirstToken ends with the model's first streamed text; it holds
	// the wait for a MAX_PARALLEL slot, a model load and the prompt's
	// evaluation.
	StageFirstToken Stage = "first_token"
	// StageLastToken ends with the model's last streamed text.
	StageLastToken Stage = "last_token"
	// StageReplyStored ends when the reply is stored.
	StageReplyStored Stage = "reply_stored"
)

// AllStages lists every stage in order.
func AllStages() []Stage {
	return []Stage{StageStored, StageQueued, StageContext, StageRouted, StageRecalled,
		StageFirstToken, StageLastToken, StageReplyStored}
}

// Mark is the end of a stage, on the brain's clock.
type Mark struct {
	Stage Stage
	At    time.Time
}

// Stages is the timeline of one answered message: when it arrived and when
// each stage ended, in order. A stage that did not happen (no streamed
// text on a failure, no storing for a resumed message) has no mark.
type Stages struct {
	Key    ConvKey
	Expert string
	// Failed tells a reply that reports an error.
	Failed bool
	// RecallFailed tells that long-term memory could not be read: the
	// answer came without memories.
	RecallFailed bool
	Start        time.Time
	Marks        []Mark
}

// StageTime is how long one stage took.
type StageTime struct {
	Stage Stage
	Took  time.Duration
}

// Durations is how long each marked stage took, from the end of the one
// before it (the first from Start), in order; never negative.
func (s Stages) Durations() []StageTime {
	out := make([]StageTime, 0, len(s.Marks))
	prev := s.Start
	for _, m := range s.Marks {
		out = append(out, StageTime{Stage: m.Stage, Took: max(m.At.Sub(prev), 0)})
		prev = m.At
	}
	return out
}

// Since is the time from Start to the end of st, and whether st happened.
func (s Stages) Since(st Stage) (time.Duration, bool) {
	for _, m := range s.Marks {
		if m.Stage == st {
			return max(m.At.Sub(s.Start), 0), true
		}
	}
	return 0, false
}

// StageObserver is an Observer that also wants the timeline of every
// answered message. The brain checks its Observer for it; it is called on
// the answering goroutine and must be quick.
type StageObserver interface {
	ObserveStages(s Stages)
}

// timeline collects the marks of one message.
type timeline struct {
	clock Clock
	s     Stages
}

func (t *timeline) mark(st Stage) { t.markAt(st, t.clock.Now()) }

func (t *timeline) markAt(st Stage, at time.Time) {
	t.s.Marks = append(t.s.Marks, Mark{Stage: st, At: at})
}

// tokenSink marks the first and last streamed text on its way to the
// adapter's Sink.
type tokenSink struct {
	Sink
	clock       Clock
	first, last time.Time
}

func (s *tokenSink) Delta(text string) {
	if text != "" {
		now := s.clock.Now()
		if s.first.IsZero() {
			s.first = now
		}
		s.last = now
	}
	s.Sink.Delta(text)
}

// marks adds the token stages, when any text streamed.
func (s *tokenSink) marks(t *timeline) {
	if !s.first.IsZero() {
		t.markAt(StageFirstToken, s.first)
		t.markAt(StageLastToken, s.last)
	}
}

// arrivals carries the timelines begun when a message is stored to the
// goroutine that answers it, keyed by the message's record.
type arrivals struct {
	mu sync.Mutex
	m  map[*Record]*timeline
}

// begin starts user's timeline at start; stored is when it was stored,
// zero for a resumed message.
func (a *arrivals) begin(clock Clock, user *Record, start, stored time.Time) {
	t := &timeline{clock: clock, s: Stages{Key: user.Key, Start: start}}
	if !stored.IsZero() {
		t.markAt(StageStored, stored)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil || len(a.m) >= maxTimelines {
		// Every way out of Submit takes or drops its timeline; should a new
		// one not, the cost is some timings, never memory.
		a.m = map[*Record]*timeline{}
	}
	a.m[user] = t
}

// maxTimelines bounds the timelines of stored messages waiting for their
// turn: far more than MaxQueue × the conversations answered at once.
const maxTimelines = 10000

// take removes and returns user's timeline; one starting now when it has
// none.
func (a *arrivals) take(clock Clock, user *Record) *timeline {
	a.mu.Lock()
	t := a.m[user]
	delete(a.m, user)
	a.mu.Unlock()
	if t == nil {
		t = &timeline{clock: clock, s: Stages{Key: user.Key, Start: clock.Now()}}
	}
	return t
}

// drop forgets user's timeline: its message is not answered now.
func (a *arrivals) drop(user *Record) {
	if user == nil {
		return
	}
	a.mu.Lock()
	delete(a.m, user)
	a.mu.Unlock()
}

// observeStages reports an answered message's timeline to the observer and
// the debug log (durations only, no text).
func (b *Brain) observeStages(t *timeline, log *slog.Logger) {
	if so, ok := b.obs.(StageObserver); ok {
		so.ObserveStages(t.s)
	}
	if !log.Enabled(b.life, slog.LevelDebug) {
		return
	}
	attrs := []any{"expert", t.s.Expert, "failed", t.s.Failed, "recall_failed", t.s.RecallFailed}
	for _, d := range t.s.Durations() {
		attrs = append(attrs, string(d.Stage), d.Took)
	}
	if n := len(t.s.Marks); n > 0 {
		attrs = append(attrs, "total", max(t.s.Marks[n-1].At.Sub(t.s.Start), 0))
	}
	log.Debug("stages", attrs...)
}
