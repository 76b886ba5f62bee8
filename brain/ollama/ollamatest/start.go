package ollamatest

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/evo-tr/evo/brain/ollama"
)

// The fixed options of the client Start returns.
const (
	NumCtx     = 4096
	NumPredict = 512
)

// Start starts a fake server and returns it with an Ollama client for it
// (num_ctx NumCtx, num_predict NumPredict, models kept loaded).
func Start(tb testing.TB, opts ...Option) (*Server, *ollama.Client) {
	tb.Helper()
	s := NewServer(tb, opts...)
	return s, s.NewClient(tb, ollama.Options{NumCtx: NumCtx, NumPredict: NumPredict, KeepAlive: -1})
}

// NewClient returns an Ollama client for the server with the given fixed
// options. It logs nowhere: a client may outlive the test's log.
func (s *Server) NewClient(tb testing.TB, opts ollama.Options) *ollama.Client {
	tb.Helper()
	u, err := url.Parse(s.URL())
	if err != nil {
		tb.Fatalf("ollamatest: server URL %q: %v", s.URL(), err)
	}
	return ollama.New(u, s.Client(), opts, slog.New(slog.DiscardHandler))
}

// OptionInt reads a whole-number option from a recorded request's
// options (JSON numbers decode as float64).
func OptionInt(opts map[string]any, key string) (int, bool) {
	switch v := opts[key].(type) {
	case float64:
		return int(v), v == float64(int(v))
	case int:
		return v, true
	default:
		return 0, false
	}
}

// tbLogger is a logger that writes into the test's log; use it only where
// nothing logs after the test ends.
func tbLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
