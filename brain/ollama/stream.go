package ollama

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain"
)

// Why abandoned replies are drained, not cut:
//
// Ollama v0.6.5's chat handler hands each piece of the reply from the
// runner's callback to the HTTP writer over an unbuffered channel. When
// the client disconnects, the writer stops reading; if the callback is
// sending at that moment, it blocks forever while holding the runner's
// slot (llm/server.go Completion: sem.Acquire ... defer sem.Release), so
// with OLLAMA_NUM_PARALLEL=1 every later request to that model waits until
// it is cancelled ("aborting completion request due to client closing the
// connection"), and the runner cannot even be unloaded. Measured on the
// tiny real model: 1 abort in 10 to 35 wedged the model (contract runs
// and loops of cancel-after-first-token); with draining, none in 90.
//
// So when the caller gives up, Chat returns at once but the stream goes on
// being read, and discarded, until the server ends it (num_predict bounds
// that) or DrainTimeout passes.

// stream runs one streamed chat and delivers its content to fn.
func (c *Client) stream(ctx context.Context, req *api.ChatRequest, fn func(string) error) (brain.ChatStats, error) {
	if err := ctx.Err(); err != nil {
		return brain.ChatStats{}, fmt.Errorf("chat %s: %w", req.Model, err)
	}
	// The request lives on its own context: the caller's only decides
	// when the caller stops listening.
	reqCtx, disconnect := context.WithCancel(context.WithoutCancel(ctx))
	lines := make(chan api.ChatResponse)
	abandoned := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		defer disconnect()
		result <- c.chat(reqCtx, req, func(r api.ChatResponse) error {
			select {
			case lines <- r:
			case <-abandoned:
				// Drain: read on so the server finishes normally.
			}
			return nil
		})
	}()
	abandon := func(why string) {
		close(abandoned)
		if c.opts.DrainTimeout < 0 {
			disconnect()
			return
		}
		timer := time.AfterFunc(c.opts.DrainTimeout, disconnect)
		go func() {
			// Release the timer as soon as the drain ends, and say when a
			// drain had to be cut.
			err := <-result
			if timer.Stop() {
				return
			}
			c.log.Warn("abandoned reply still streaming after the drain timeout: disconnected",
				"model", req.Model, "why", why, "drain_timeout", c.opts.DrainTimeout, "err", err)
		}()
	}

	var stats brain.ChatStats
	done := false
	for {
		select {
		case r := <-lines:
			if err := ctx.Err(); err != nil {
				// Both were ready and select chose the line: the caller
				// has gone, fn must not be called again.
				abandon("context ended")
				return stats, fmt.Errorf("chat %s: %w", req.Model, err)
			}
			if r.Message.Content != "" {
				if err := fn(r.Message.Content); err != nil {
					abandon("callback error")
					return stats, fmt.Errorf("chat %s: %w", req.Model, err)
				}
			}
			if r.Done {
				done = true
				stats = brain.ChatStats{
					PromptTokens: r.PromptEvalCount,
					ReplyTokens:  r.EvalCount,
					LoadDuration: r.LoadDuration,
					Total:        r.TotalDuration,
					DoneReason:   r.DoneReason,
				}
			}
		case err := <-result:
			switch {
			case err != nil:
				return stats, c.wrap(ctx, "chat", req.Model, err)
			case !done:
				return stats, fmt.Errorf("chat %s: %w", req.Model, errIncomplete)
			}
			return stats, nil
		case <-ctx.Done():
			abandon("context ended")
			return stats, fmt.Errorf("chat %s: %w", req.Model, ctx.Err())
		}
	}
}

// errIncomplete: the stream ended without its final "done" line.
var errIncomplete = errors.New("reply stream ended before its final line (server stopped mid-reply?)")
