package brain_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

// tickingClock advances by step at every reading.
type tickingClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

// stageObserver keeps the records and the timelines it sees.
type stageObserver struct {
	recordingObserver
	mu     sync.Mutex
	stages []brain.Stages
}

var _ brain.StageObserver = (*stageObserver)(nil)

func (o *stageObserver) ObserveStages(s brain.Stages) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stages = append(o.stages, s)
}

func (o *stageObserver) all() []brain.Stages {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]brain.Stages(nil), o.stages...)
}

// failingRecall cannot reach long-term memory.
type failingRecall struct{}

func (failingRecall) Top(context.Context, brain.Platform, string, string, int) ([]brain.Memory, error) {
	return nil, errBoom
}

func stageNames(s brain.Stages) []string {
	var out []string
	for _, m := range s.Marks {
		out = append(out, string(m.Stage))
	}
	return out
}

func TestStagesReportedInOrder(t *testing.T) {
	all := []string{"stored", "queued", "context", "routed", "recalled", "first_token", "last_token", "reply_stored"}
	for _, tt := range []struct {
		name       string
		recall     brain.Recall
		reply      func(brain.ChatRequest) (string, error)
		want       []string
		failed     bool
		recallFail bool
	}{
		{name: "answered", want: all},
		{name: "recall fails", recall: failingRecall{}, want: all, recallFail: true},
		{name: "recall works", recall: braintest.NewMemMemory(braintest.HashEmbedder{}, "hash"), want: all},
		{name: "model fails before any text", reply: func(brain.ChatRequest) (string, error) { return "", errBoom },
			want: []string{"stored", "queued", "context", "routed", "recalled", "reply_stored"}, failed: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := &tickingClock{now: testNow, step: time.Millisecond}
			obs := &stageObserver{}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			opts := []brain.Option{brain.WithObserver(obs)}
			if tt.recall != nil {
				opts = append(opts, brain.WithRecall(tt.recall))
			}
			b, err := brain.New(brain.Config{Base: brain.Expert{Name: brain.BaseExpert, Model: "base-model"},
				Experts: []brain.Expert{{Name: "tr_chat", Model: "tr_chat"}, {Name: "python_coder", Model: "python_coder"}}},
				braintest.NewMemHistory(), &fakeLLM{reply: tt.reply}, fakeRouter{}, clock, log, opts...)
			if err != nil {
				t.Fatal(err)
			}
			tb := testBrain{Brain: b}
			const text = "gizli bir cümle yazdım"
			tb.ask(t, msg("u", text))
			tb.ask(t, msg("u", "/help")) // a command has no stages

			got := obs.all()
			if len(got) != 1 {
				t.Fatalf("observed %d timelines, want 1: %+v", len(got), got)
			}
			s := got[0]
			if names := strings.Join(stageNames(s), ","); names != strings.Join(tt.want, ",") {
				t.Errorf("stages = %s, want %s", names, strings.Join(tt.want, ","))
			}
			prev := s.Start
			for _, m := range s.Marks {
				if m.At.Before(prev) {
					t.Errorf("stage %s ends at %v, before the stage before it (%v)", m.Stage, m.At, prev)
				}
				prev = m.At
			}
			for _, d := range s.Durations() {
				if d.Took <= 0 { // the clock ticks at every reading
					t.Errorf("stage %s took %v, want > 0", d.Stage, d.Took)
				}
			}
			if total, ok := s.Since(brain.StageReplyStored); !ok || total <= 0 {
				t.Errorf("Since(reply_stored) = %v, %v", total, ok)
			}
			if s.Failed != tt.failed || s.RecallFailed != tt.recallFail || s.Expert != "tr_chat" ||
				s.Key != msg("u", "").Key() {
				t.Errorf("timeline = %+v, want failed %v, recall failed %v, expert tr_chat", s, tt.failed, tt.recallFail)
			}
			lines := 0
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "msg=stages") {
					lines++
					for _, st := range tt.want {
						if !strings.Contains(l, " "+st+"=") {
							t.Errorf("the stages line lacks %s: %s", st, l)
						}
					}
				}
			}
			if lines != 1 {
				t.Errorf("%d stages lines, want 1:\n%s", lines, logs.String())
			}
			if strings.Contains(logs.String(), text) {
				t.Errorf("the message text is in the log:\n%s", logs.String())
			}
		})
	}
}

func TestStagesOfAResumedMessageStartAtItsTurn(t *testing.T) {
	clock := &tickingClock{now: testNow, step: time.Millisecond}
	obs := &stageObserver{}
	h := braintest.NewMemHistory()
	b, err := brain.New(brain.Config{Base: brain.Expert{Name: brain.BaseExpert, Model: "base-model"},
		Experts: []brain.Expert{{Name: "tr_chat", Model: "tr_chat"}}},
		h, &fakeLLM{}, fakeRouter{}, clock, slog.New(slog.DiscardHandler), brain.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	m := msg("u", "yarım kalan")
	m.Ref, m.Resumed = "r1", true
	rec := brain.Record{Key: m.Key(), ChatKind: m.ChatKind, Role: brain.RoleUser, Text: m.Text, Time: testNow, Ref: m.Ref}
	if err := h.Append(context.Background(), &rec); err != nil {
		t.Fatal(err)
	}
	testBrain{Brain: b}.ask(t, m)
	got := obs.all()
	if len(got) != 1 || len(got[0].Marks) == 0 || got[0].Marks[0].Stage != brain.StageQueued {
		t.Fatalf("timelines = %+v, want one starting with queued (a resumed message was stored by the last run)", got)
	}
}
