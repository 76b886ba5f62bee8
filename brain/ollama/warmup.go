package ollama

import (
	"context"
	"log/slog"
	"time"
)

// Preloader loads a model into memory and says how long loading took.
// *Client is one.
type Preloader interface {
	Preload(ctx context.Context, model string) (time.Duration, error)
}

// loadedLister lists the models in memory; *Client is one. Warm uses it,
// when the Preloader has it, to report models a later load pushed out.
type loadedLister interface {
	Loaded(ctx context.Context) ([]string, error)
}

var (
	_ Preloader    = (*Client)(nil)
	_ loadedLister = (*Client)(nil)
)

// WarmResult is one model's warm-up.
type WarmResult struct {
	Model string
	// Load is the server's load time (zero when the model was already
	// loaded, or on failure).
	Load time.Duration
	Err  error
	// Evicted: the model was loaded but a later load pushed it out again
	// (adapter experts on one base file share one runner; see
	// `evo experts sync --resident`), or memory ran short.
	Evicted bool
}

// Warm preloads models (an empty chat with keep_alive) one after another
// in the background and returns at once: start-up never waits for it. Each
// load time is logged. Duplicate names are loaded once. The channel gets
// every result and is closed when warm-up ends; it is buffered, so a
// caller may ignore it. Cancelling ctx stops the warm-up.
func Warm(ctx context.Context, p Preloader, models []string, log *slog.Logger) <-chan WarmResult {
	var todo []string
	for _, m := range models {
		dup := m == ""
		for _, t := range todo {
			dup = dup || SameModel(m, t)
		}
		if !dup {
			todo = append(todo, m)
		}
	}
	out := make(chan WarmResult, len(todo))
	go func() {
		defer close(out)
		var results []WarmResult
		start := time.Now()
		for _, m := range todo {
			if ctx.Err() != nil {
				break // shutting down: report what was done
			}
			d, err := p.Preload(ctx, m)
			r := WarmResult{Model: m, Load: d, Err: err}
			if err != nil {
				log.Warn("warm-up: model not loaded", "model", m, "err", err)
			} else {
				log.Info("warm-up: model loaded", "model", m, "load", d.Round(time.Millisecond))
			}
			results = append(results, r)
		}
		markEvicted(ctx, p, results, log)
		for _, r := range results {
			out <- r
		}
		log.Info("warm-up done", "models", len(results), "took", time.Since(start).Round(time.Millisecond))
	}()
	return out
}

// markEvicted checks which warmed models are still in memory.
func markEvicted(ctx context.Context, p Preloader, results []WarmResult, log *slog.Logger) {
	ll, ok := p.(loadedLister)
	if !ok || ctx.Err() != nil {
		return
	}
	loaded, err := ll.Loaded(ctx)
	if err != nil {
		log.Warn("warm-up: list loaded models", "err", err)
		return
	}
	for i := range results {
		if results[i].Err != nil {
			continue
		}
		in := false
		for _, l := range loaded {
			in = in || SameModel(results[i].Model, l)
		}
		if !in {
			results[i].Evicted = true
			log.Warn("warm-up: model was pushed out of memory by a later one "+
				"(adapter experts on one base share a runner: evo experts sync --resident; "+
				"or raise OLLAMA_MAX_LOADED_MODELS)", "model", results[i].Model)
		}
	}
}
