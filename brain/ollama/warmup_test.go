package ollama

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// gatedPreloader loads a model only when the test opens the gate.
type gatedPreloader struct {
	gate   chan struct{}
	mu     sync.Mutex
	calls  []string
	loaded []string
	fail   map[string]error
}

func (p *gatedPreloader) Preload(ctx context.Context, model string) (time.Duration, error) {
	select {
	case <-p.gate:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, model)
	if err := p.fail[model]; err != nil {
		return 0, err
	}
	return 250 * time.Millisecond, nil
}

func (p *gatedPreloader) Loaded(context.Context) ([]string, error) { return p.loaded, nil }

var _ Preloader = (*gatedPreloader)(nil)

func TestWarmNeverBlocksAndReportsEachModel(t *testing.T) {
	p := &gatedPreloader{
		gate:   make(chan struct{}),
		loaded: []string{"base:latest", "python_coder:latest"}, // tr_chat was pushed out
		fail:   map[string]error{"broken": errors.New("boom")},
	}
	start := time.Now()
	results := Warm(context.Background(), p, []string{"base", "tr_chat", "python_coder", "Base:latest", "", "broken"}, slog.New(slog.DiscardHandler))
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Warm took %v to return; start-up must not wait for models", d)
	}
	close(p.gate)
	var got []WarmResult
	for r := range results {
		got = append(got, r)
	}
	if want := []string{"base", "tr_chat", "python_coder", "broken"}; !slices.Equal(p.calls, want) {
		t.Errorf("preloaded %q, want %q (in order, duplicates and empty names once/never)", p.calls, want)
	}
	wants := map[string]struct {
		evicted bool
		failed  bool
	}{"base": {}, "tr_chat": {evicted: true}, "python_coder": {}, "broken": {failed: true}}
	for _, r := range got {
		w := wants[r.Model]
		if r.Evicted != w.evicted || (r.Err != nil) != w.failed {
			t.Errorf("%s: evicted %v err %v; want evicted %v failed %v", r.Model, r.Evicted, r.Err, w.evicted, w.failed)
		}
		if !w.failed && r.Load != 250*time.Millisecond {
			t.Errorf("%s: load %v, want the preloader's 250ms", r.Model, r.Load)
		}
	}
	if len(got) != len(wants) {
		t.Errorf("%d results, want %d", len(got), len(wants))
	}
}

func TestWarmStopsWhenCancelled(t *testing.T) {
	p := &gatedPreloader{gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	results := Warm(ctx, p, []string{"a", "b"}, slog.New(slog.DiscardHandler))
	cancel()
	done := make(chan struct{})
	go func() {
		for range results {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("warm-up did not end after cancel")
	}
	if len(p.calls) != 0 {
		t.Errorf("preloaded %q after cancel, want nothing", p.calls)
	}
}
