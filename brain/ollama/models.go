package ollama

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// Preload loads model into memory with the fixed options (so the first
// reply does not pay for it) and keeps it there for the fixed keep_alive.
// It returns how long loading took: the server's load_duration when it
// reports one, else the time the request took.
func (c *Client) Preload(ctx context.Context, model string) (time.Duration, error) {
	if model == "" {
		return 0, errors.New("preload: no model given")
	}
	start := c.opts.Clock.Now()
	resp, err := c.emptyChat(ctx, model, c.keepAlive())
	if err != nil {
		return 0, c.wrap(ctx, "preload", model, err)
	}
	d := resp.LoadDuration
	if d <= 0 {
		d = c.opts.Clock.Now().Sub(start)
	}
	c.log.Debug("ollama model loaded", "model", model, "load", d, "done_reason", resp.DoneReason)
	return d, nil
}

// Unload asks the server to free model now.
func (c *Client) Unload(ctx context.Context, model string) error {
	if model == "" {
		return errors.New("unload: no model given")
	}
	if _, err := c.emptyChat(ctx, model, &api.Duration{Duration: 0}); err != nil {
		return c.wrap(ctx, "unload", model, err)
	}
	return nil
}

// emptyChat sends a chat without messages: Ollama loads (or, with a zero
// keep_alive, unloads) the model and answers at once.
func (c *Client) emptyChat(ctx context.Context, model string, keepAlive *api.Duration) (api.ChatResponse, error) {
	stream := false
	var out api.ChatResponse
	err := c.api.Chat(ctx, &api.ChatRequest{
		Model:     model,
		Messages:  []api.Message{},
		Stream:    &stream,
		KeepAlive: keepAlive,
		Options:   c.fixedOptions(true),
	}, func(r api.ChatResponse) error {
		out = r
		return nil
	})
	return out, err
}

// Models lists the models the server has, as it names them
// ("tr_chat:latest").
func (c *Client) Models(ctx context.Context) ([]string, error) {
	lr, err := c.api.List(ctx)
	if err != nil {
		return nil, c.wrap(ctx, "list models", "", err)
	}
	out := make([]string, 0, len(lr.Models))
	for _, m := range lr.Models {
		out = append(out, m.Name)
	}
	return out, nil
}

// Loaded lists the models loaded in memory now.
func (c *Client) Loaded(ctx context.Context) ([]string, error) {
	pr, err := c.api.ListRunning(ctx)
	if err != nil {
		return nil, c.wrap(ctx, "list loaded models", "", err)
	}
	out := make([]string, 0, len(pr.Models))
	for _, m := range pr.Models {
		out = append(out, m.Name)
	}
	return out, nil
}

// Missing returns those of models the server does not have, in order.
func (c *Client) Missing(ctx context.Context, models ...string) ([]string, error) {
	have, err := c.Models(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, want := range models {
		found := false
		for _, h := range have {
			if SameModel(want, h) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, want)
		}
	}
	return out, nil
}

// Version returns the server's version, e.g. "0.6.5".
func (c *Client) Version(ctx context.Context) (string, error) {
	v, err := c.api.Version(ctx)
	if err != nil {
		return "", c.wrap(ctx, "version", "", err)
	}
	return v, nil
}

// Ping checks that the server answers (HEAD /).
func (c *Client) Ping(ctx context.Context) error {
	if err := c.api.Heartbeat(ctx); err != nil {
		return c.wrap(ctx, "ping", "", err)
	}
	return nil
}

// SameModel reports whether two model names name the same model the way
// Ollama resolves them: case-insensitively, a missing tag being "latest".
func SameModel(a, b string) bool {
	return canonical(a) == canonical(b)
}

func canonical(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return name
	}
	slash := strings.LastIndexByte(name, '/')
	if !strings.Contains(name[slash+1:], ":") {
		name += ":latest"
	}
	return name
}

// String describes the client for logs.
func (c *Client) String() string {
	return fmt.Sprintf("ollama(%s, num_ctx=%d, num_predict=%d, keep_alive=%s)",
		c.base.Redacted(), c.opts.NumCtx, c.opts.NumPredict, c.opts.KeepAlive)
}
