// Package ollama is EVO-TR's adapter to an Ollama server: it implements
// brain.LLM (streamed chat) and brain.Embedder (/api/embed) over the
// official github.com/ollama/ollama/api client, and adds the few admin
// calls the service needs (preload, list, ps, version, ping).
//
// Every request carries the same fixed options (num_ctx, num_predict,
// keep_alive): Ollama reloads a model whenever its load-time options change,
// so an expert's own options are merged in but can never change num_ctx or
// any other load-time option.
package ollama

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain"
)

// Options are the fixed options sent with every request.
type Options struct {
	// NumCtx is the context size in tokens; 0 leaves the server's default.
	// Experts can never change it.
	NumCtx int
	// NumPredict is the most tokens a reply may take; 0 leaves the server's
	// default. An expert may ask for fewer, never for more.
	NumPredict int
	// KeepAlive is how long a model stays loaded after a request: negative
	// keeps it loaded forever, 0 leaves the server's default (5 minutes).
	KeepAlive time.Duration
	// DrainTimeout is how long a reply the caller abandoned (its ctx
	// ended, or its callback failed) is still read, and thrown away, in
	// the background, so that the server is not disconnected mid-reply:
	// Ollama v0.6.5 can then lose the model's only slot for good, and
	// every later request to that model hangs (see stream.go). 0 means
	// DefaultDrainTimeout; negative disconnects at once.
	DrainTimeout time.Duration
	// Clock times Preload when the server reports no load duration; nil
	// uses the wall clock.
	Clock brain.Clock
}

// DefaultDrainTimeout bounds the background reading of an abandoned
// reply; num_predict normally ends it much sooner.
const DefaultDrainTimeout = 2 * time.Minute

// Client talks to one Ollama server. It is safe for concurrent use.
type Client struct {
	api  *api.Client
	http *http.Client // for the streamed chat (chatstream.go)
	base *url.URL
	opts Options
	log  *slog.Logger

	// warned remembers which (model, option) pairs were already reported as
	// dropped, so a misconfigured expert logs once, not on every message.
	warned sync.Map
}

var (
	_ brain.LLM      = (*Client)(nil)
	_ brain.Embedder = (*Client)(nil)
)

// New returns a Client for the server at baseURL (e.g.
// http://127.0.0.1:11434). httpClient may be nil: then a client whose
// dialer gives up after 5 seconds is used. It must not set a Timeout
// shorter than the longest reply, since replies are streamed over one
// response.
func New(baseURL *url.URL, httpClient *http.Client, opts Options, log *slog.Logger) *Client {
	if httpClient == nil {
		httpClient = defaultHTTPClient()
	}
	if opts.Clock == nil {
		opts.Clock = brain.SystemClock{}
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := *baseURL
	return &Client{api: api.NewClient(&u, httpClient), http: httpClient, base: &u, opts: opts, log: log}
}

// maxIdlePerHost keeps a connection to Ollama for each concurrent call
// (MAX_PARALLEL chats, embeddings, the night's calls); Go's default of 2
// made every call past the second dial a new connection.
const maxIdlePerHost = 32

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConnsPerHost = maxIdlePerHost
	return &http.Client{Transport: t}
}

// BaseURL returns the server's address.
func (c *Client) BaseURL() string { return c.base.String() }

// Chat streams one reply: fn gets each new piece of text in order, and the
// figures of the final line are returned. An error from fn ends the call
// and is returned wrapped; cancelling ctx ends it at once with ctx's error.
// Either way fn is not called again (the server's rest of the reply is
// drained in the background; see Options.DrainTimeout).
func (c *Client) Chat(ctx context.Context, req brain.ChatRequest, fn func(delta string) error) (brain.ChatStats, error) {
	if req.Model == "" {
		return brain.ChatStats{}, errors.New("chat: no model given")
	}
	if len(req.Messages) == 0 {
		// Ollama treats an empty chat as "load the model": not a reply.
		return brain.ChatStats{}, fmt.Errorf("chat %s: no messages", req.Model)
	}
	msgs := make([]api.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = api.Message{Role: string(m.Role), Content: m.Content}
	}
	stream := true
	areq := &api.ChatRequest{
		Model:     req.Model,
		Messages:  msgs,
		Stream:    &stream,
		KeepAlive: c.keepAlive(),
		Options:   c.options(req.Model, req.Options),
	}

	stats, err := c.stream(ctx, areq, fn)
	if err != nil {
		return stats, err
	}
	c.log.Debug("ollama chat", "model", req.Model, "prompt_tokens", stats.PromptTokens,
		"reply_tokens", stats.ReplyTokens, "load", stats.LoadDuration, "total", stats.Total,
		"done_reason", stats.DoneReason)
	return stats, nil
}

// Embed returns one L2-normalized vector per text, in order.
func (c *Client) Embed(ctx context.Context, model string, texts []string) ([][]float32, error) {
	if model == "" {
		return nil, errors.New("embed: no model given")
	}
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	resp, err := c.api.Embed(ctx, &api.EmbedRequest{
		Model:     model,
		Input:     texts,
		KeepAlive: c.keepAlive(),
		Options:   c.fixedOptions(false),
	})
	if err != nil {
		return nil, c.wrap(ctx, "embed", model, err)
	}
	if len(resp.Embeddings) != len(texts) {
		return nil, fmt.Errorf("embed %s: got %d vectors for %d texts", model, len(resp.Embeddings), len(texts))
	}
	return resp.Embeddings, nil
}

// keepAlive is the request's keep_alive, nil for the server's default.
func (c *Client) keepAlive() *api.Duration {
	switch {
	case c.opts.KeepAlive < 0:
		return &api.Duration{Duration: -1}
	case c.opts.KeepAlive > 0:
		return &api.Duration{Duration: c.opts.KeepAlive}
	default:
		return nil
	}
}
