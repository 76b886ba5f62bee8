package ollama_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain/ollama"
)

// TestConcurrentCallsReuseConnections: a second round of concurrent calls
// opens no new connection (Go's default transport keeps only 2 idle ones
// per host, so calls past the second dialled again every time).
func TestConcurrentCallsReuseConnections(t *testing.T) {
	const parallel = 8
	var conns atomic.Int64
	// Every call waits until all of its round have arrived, so the round
	// really holds parallel connections at once.
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.EmbedRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		arrived.Done()
		arrived.Wait()
		_ = json.NewEncoder(w).Encode(api.EmbedResponse{Model: req.Model, Embeddings: [][]float32{{1, 0}}})
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	c := ollama.New(u, nil, ollama.Options{}, nil)

	round := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		arrived.Add(parallel)
		var wg sync.WaitGroup
		errs := make(chan error, parallel)
		for range parallel {
			wg.Go(func() {
				if _, err := c.Embed(ctx, "bge-m3", []string{"merhaba"}); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Embed: %v", err)
		}
	}
	round()
	first := conns.Load()
	round()
	if got := conns.Load() - first; got != 0 {
		t.Errorf("the second round of %d concurrent calls opened %d new connections (first round: %d); want 0", parallel, got, first)
	}
}
