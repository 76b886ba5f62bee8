package chroma_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/chroma/chromatest"
)

// countingProxy forwards to a real Chroma, counts the queries it sees, and
// fails them while failQueries is set.
type countingProxy struct {
	srv *httptest.Server

	mu          sync.Mutex
	queries     int
	failQueries bool
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/query") {
			p.mu.Lock()
			p.queries++
			fail := p.failQueries
			p.mu.Unlock()
			if fail {
				http.Error(w, `{"error":"injected"}`, http.StatusInternalServerError)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *countingProxy) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queries
}

// TestRememberWarmsTheIndex: a write ends with one query, so that Chroma
// folds the new vectors into its index then, not on the user's next
// message; a failing warm-up loses nothing.
func TestRememberWarmsTheIndex(t *testing.T) {
	srv := chromatest.Start(t)
	proxy := newCountingProxy(t, srv.URL())
	s := newStore(t, proxy.srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	at := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	ms := []brain.Memory{{ID: "m1", Text: "Kedisinin adı Pamuk.", Time: at}, {ID: "m2", Text: "Her sabah koşuyor.", Time: at}}

	if err := s.Remember(ctx, brain.PlatformTelegram, "42", ms); err != nil {
		t.Fatalf("Remember: %v", err)
	}
	if got, want := proxy.count(), 1; got != want {
		t.Errorf("queries after Remember = %d, want %d (the warm-up)", got, want)
	}

	proxy.mu.Lock()
	proxy.failQueries = true
	proxy.mu.Unlock()
	more := []brain.Memory{{ID: "m3", Text: "Çayı şekersiz içiyor.", Time: at}}
	if err := s.Remember(ctx, brain.PlatformTelegram, "42", more); err != nil {
		t.Fatalf("Remember with the warm-up failing: %v, want nil (the memories are stored)", err)
	}
	proxy.mu.Lock()
	proxy.failQueries = false
	proxy.mu.Unlock()
	n, err := s.Count(ctx, brain.PlatformTelegram, "42")
	if err != nil || n != 3 {
		t.Errorf("Count = %d, %v; want 3, nil", n, err)
	}
	got, err := s.Top(ctx, brain.PlatformTelegram, "42", "Çayı şekersiz içiyor.", 1)
	if err != nil || len(got) != 1 || got[0].ID != "m3" {
		t.Errorf("Top = %v, %v; want m3", got, err)
	}
}
