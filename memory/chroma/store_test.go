package chroma_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/memory/chroma"
	"github.com/evo-tr/evo/memory/chroma/chromatest"
)

const model = "hash-64"

// prefixes gives every store of a test run a collection prefix of its own.
var prefixes atomic.Int64

// newStore returns a Store on the server at url with a fresh prefix (so
// it starts empty), embedding with braintest.HashEmbedder.
func newStore(tb testing.TB, url string, opts ...func(*chroma.Config)) *chroma.Store {
	tb.Helper()
	cfg := chroma.Config{URL: url, Embedder: braintest.HashEmbedder{}, EmbedModel: model,
		Prefix: fmt.Sprintf("t%d", prefixes.Add(1))}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := chroma.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("chroma.New: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func withPrefix(p string) func(*chroma.Config) { return func(c *chroma.Config) { c.Prefix = p } }

func TestStoreContract(t *testing.T) {
	srv := chromatest.Start(t)
	braintest.TestLongTermMemory(t, func(t *testing.T) braintest.LongTermMemory {
		return newStore(t, srv.URL())
	})
}

// collections lists the names of the collections on the server.
func collections(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url + "/api/v2/tenants/default_tenant/databases/default_database/collections")
	if err != nil {
		t.Fatalf("list collections: %v", err)
	}
	defer resp.Body.Close()
	var cols []struct {
		Name     string         `json:"name"`
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cols); err != nil {
		t.Fatalf("list collections: %s: %v", resp.Status, err)
	}
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
}

func memory(id, text string) brain.Memory {
	return brain.Memory{ID: id, Text: text, Tags: []string{"test"}, Time: braintest.T0}
}

func TestCollectionPerUserCreatedOnWriteOnly(t *testing.T) {
	srv := chromatest.Start(t)
	s := newStore(t, srv.URL(), withPrefix("evo"))
	ctx := context.Background()
	if got, err := s.Top(ctx, brain.PlatformTelegram, "42", "merhaba", 3); err != nil || got != nil {
		t.Fatalf("Top of an unknown user: got %v, %v; want nil, nil", got, err)
	}
	if n, err := s.Count(ctx, brain.PlatformTelegram, "42"); err != nil || n != 0 {
		t.Errorf("Count of an unknown user: got %d, %v; want 0, nil", n, err)
	}
	if got := collections(t, srv.URL()); len(got) != 0 {
		t.Fatalf("collections after reads: got %q, want none (reads must not create)", got)
	}
	for _, u := range []struct {
		p  brain.Platform
		id string
	}{{brain.PlatformTelegram, "42"}, {brain.PlatformDiscord, "42"}, {brain.PlatformTelegram, "çok uzun bir kullanıcı kimliği " + string(bytes.Repeat([]byte("x"), 600))}} {
		if err := s.Remember(ctx, u.p, u.id, []brain.Memory{memory("m1", "bir anı"), memory("m2", "iki anı")}); err != nil {
			t.Fatalf("Remember(%s, %.20q): %v", u.p, u.id, err)
		}
	}
	got := collections(t, srv.URL())
	want := []string{"evo-discord-73475cb40a568e8da8a045ced110137e", "evo-telegram-73475cb40a568e8da8a045ced110137e"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("collections after writing three users: got %q, want %q and one more telegram", got, want)
	}
	if n, err := s.Count(ctx, brain.PlatformTelegram, "42"); err != nil || n != 2 {
		t.Errorf("Count: got %d, %v; want 2, nil", n, err)
	}
	if err := s.ForgetUser(ctx, brain.PlatformTelegram, "42"); err != nil {
		t.Fatalf("ForgetUser: %v", err)
	}
	if got := collections(t, srv.URL()); len(got) != 2 || got[0] != want[0] {
		t.Errorf("collections after ForgetUser: got %q, want the discord user's and the long id's", got)
	}
}

func TestMemoriesSurviveRestartAndKill(t *testing.T) {
	srv := chromatest.Start(t)
	ctx := context.Background()
	s := newStore(t, srv.URL(), withPrefix("kalici"))
	ms := []brain.Memory{memory("kedi", "kedisinin adı Pamuk"), memory("sehir", "İzmir'de yaşıyor")}
	if err := s.Remember(ctx, brain.PlatformTelegram, "7", ms); err != nil {
		t.Fatalf("Remember: %v", err)
	}
	check := func(what string, s *chroma.Store) {
		t.Helper()
		got, err := s.Top(ctx, brain.PlatformTelegram, "7", "kedisinin adı", 5)
		if err != nil {
			t.Fatalf("%s: Top: %v", what, err)
		}
		if len(got) < 2 || got[0].ID != "kedi" || got[0].Text != "kedisinin adı Pamuk" || !got[0].Time.Equal(braintest.T0) {
			t.Errorf("%s: Top got %+v, want kedi first", what, got)
		}
	}
	srv.Restart(t)
	check("after a restart, the same store", s)
	check("after a restart, a new store", newStore(t, srv.URL(), withPrefix("kalici")))
	if err := s.Remember(ctx, brain.PlatformTelegram, "7", []brain.Memory{memory("kahve", "kahveyi sütsüz içer")}); err != nil {
		t.Fatalf("Remember after a restart: %v", err)
	}
	srv.Kill()
	srv.Restart(t)
	if n, err := s.Count(ctx, brain.PlatformTelegram, "7"); err != nil || n != 3 {
		t.Errorf("Count after SIGKILL and a start: got %d, %v; want 3, nil", n, err)
	}
	check("after SIGKILL and a start", s)
}

// wantUnavailable checks that every call fails fast with an error wrapping
// brain.ErrMemoryUnavailable.
func wantUnavailable(t *testing.T, what string, s *chroma.Store, limit time.Duration) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct {
		op  string
		run func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Top", func() error { _, err := s.Top(ctx, brain.PlatformTelegram, "1", "merhaba", 3); return err }},
		{"Remember", func() error {
			return s.Remember(ctx, brain.PlatformTelegram, "1", []brain.Memory{memory("a", "bir anı")})
		}},
		{"Count", func() error { _, err := s.Count(ctx, brain.PlatformTelegram, "1"); return err }},
		{"ForgetUser", func() error { return s.ForgetUser(ctx, brain.PlatformTelegram, "1") }},
	} {
		start := time.Now()
		err := c.run()
		took := time.Since(start)
		if !errors.Is(err, brain.ErrMemoryUnavailable) {
			t.Errorf("%s: %s: got %v, want an error wrapping ErrMemoryUnavailable", what, c.op, err)
		}
		if took > limit {
			t.Errorf("%s: %s took %s, want at most %s", what, c.op, took.Round(time.Millisecond), limit)
		}
	}
}

func TestUnavailable(t *testing.T) {
	t.Run("nothing listens", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + l.Addr().String()
		l.Close()
		wantUnavailable(t, "closed port", newStore(t, url), 2*time.Second)
	})

	t.Run("the server hangs", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var conns []net.Conn
		go func() { // accepts, never answers
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			l.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
		s := newStore(t, "http://"+l.Addr().String(), func(c *chroma.Config) { c.Timeout = 200 * time.Millisecond })
		wantUnavailable(t, "hanging server", s, 2*time.Second)
	})

	t.Run("the server stops and comes back", func(t *testing.T) {
		srv := chromatest.Start(t)
		s := newStore(t, srv.URL())
		ctx := context.Background()
		if err := s.Remember(ctx, brain.PlatformTelegram, "1", []brain.Memory{memory("a", "bir anı")}); err != nil {
			t.Fatalf("Remember: %v", err)
		}
		srv.Stop()
		wantUnavailable(t, "stopped server", s, 2*time.Second)
		srv.Restart(t)
		// ForgetUser ran in wantUnavailable and failed: the memory is there.
		got, err := s.Top(ctx, brain.PlatformTelegram, "1", "bir anı", 3)
		if err != nil || len(got) != 1 {
			t.Errorf("Top after the server came back: got %+v, %v; want the memory", got, err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping after the server came back: %v", err)
		}
	})

	t.Run("the caller's deadline", func(t *testing.T) {
		srv := chromatest.Start(t)
		s := newStore(t, srv.URL())
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		_, err := s.Top(ctx, brain.PlatformTelegram, "1", "bir anı", 3)
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, brain.ErrMemoryUnavailable) {
			t.Errorf("Top after the deadline: got %v, want DeadlineExceeded and ErrMemoryUnavailable", err)
		}
		cctx, ccancel := context.WithCancel(context.Background())
		ccancel()
		_, err = s.Top(cctx, brain.PlatformTelegram, "1", "bir anı", 3)
		if !errors.Is(err, context.Canceled) || errors.Is(err, brain.ErrMemoryUnavailable) {
			t.Errorf("Top with a cancelled context: got %v, want Canceled only", err)
		}
	})
}

func TestForgetByAnotherStore(t *testing.T) {
	srv := chromatest.Start(t)
	ctx := context.Background()
	a := newStore(t, srv.URL(), withPrefix("paylasilan"))
	b := newStore(t, srv.URL(), withPrefix("paylasilan"))
	if err := a.Remember(ctx, brain.PlatformDiscord, "9", []brain.Memory{memory("x", "eski anı")}); err != nil {
		t.Fatalf("Remember: %v", err)
	}
	if got, err := a.Top(ctx, brain.PlatformDiscord, "9", "eski anı", 3); err != nil || len(got) != 1 {
		t.Fatalf("Top: got %+v, %v; want one memory", got, err)
	}
	// b deletes the collection a holds a handle of.
	if err := b.ForgetUser(ctx, brain.PlatformDiscord, "9"); err != nil {
		t.Fatalf("ForgetUser by another store: %v", err)
	}
	if got, err := a.Top(ctx, brain.PlatformDiscord, "9", "eski anı", 3); err != nil || len(got) != 0 {
		t.Errorf("Top through a stale handle: got %+v, %v; want none, nil", got, err)
	}
	if err := a.Remember(ctx, brain.PlatformDiscord, "9", []brain.Memory{memory("y", "yeni anı")}); err != nil {
		t.Fatalf("Remember through a stale handle: %v", err)
	}
	// And a writes through a handle b's delete made stale.
	if err := b.ForgetUser(ctx, brain.PlatformDiscord, "9"); err != nil {
		t.Fatalf("second ForgetUser: %v", err)
	}
	if err := a.Remember(ctx, brain.PlatformDiscord, "9", []brain.Memory{memory("z", "en yeni anı")}); err != nil {
		t.Fatalf("Remember after another delete: %v", err)
	}
	got, err := b.Top(ctx, brain.PlatformDiscord, "9", "anı", 3)
	if err != nil || len(got) != 1 || got[0].ID != "z" {
		t.Errorf("Top by the other store: got %+v, %v; want only z", got, err)
	}
}

// failingEmbedder fails every call with err.
type failingEmbedder struct{ err error }

func (f failingEmbedder) Embed(context.Context, string, []string) ([][]float32, error) {
	return nil, f.err
}

func TestEmbedderFailure(t *testing.T) {
	srv := chromatest.Start(t)
	s := newStore(t, srv.URL(), withPrefix("gomme"),
		func(c *chroma.Config) { c.Embedder = failingEmbedder{brain.ErrModelUnavailable} })
	ctx := context.Background()
	err := s.Remember(ctx, brain.PlatformTelegram, "1", []brain.Memory{memory("a", "bir anı")})
	if !errors.Is(err, brain.ErrModelUnavailable) || errors.Is(err, brain.ErrMemoryUnavailable) {
		t.Errorf("Remember with a failing embedder: got %v, want ErrModelUnavailable only", err)
	}
	if got := collections(t, srv.URL()); len(got) != 0 {
		t.Errorf("collections after a failed embedding: got %q, want none", got)
	}
	good := newStore(t, srv.URL(), withPrefix("gomme"))
	if err := good.Remember(ctx, brain.PlatformTelegram, "1", []brain.Memory{memory("a", "bir anı")}); err != nil {
		t.Fatalf("Remember: %v", err)
	}
	if _, err := s.Top(ctx, brain.PlatformTelegram, "1", "anı", 3); !errors.Is(err, brain.ErrModelUnavailable) {
		t.Errorf("Top with a failing embedder: got %v, want ErrModelUnavailable", err)
	}
}

// BenchmarkTop measures recall of the 3 nearest of a user's 1,000
// memories, embedding included (HashEmbedder: microseconds).
func BenchmarkTop(b *testing.B) {
	srv := chromatest.Start(b)
	s := newStore(b, srv.URL(), withPrefix("bench"))
	ctx := context.Background()
	words := []string{"kedi", "köpek", "python", "kahve", "çay", "futbol", "İzmir", "Ankara", "kitap", "müzik",
		"deniz", "dağ", "okul", "iş", "aile", "tatil", "yemek", "spor", "film", "oyun"}
	ms := make([]brain.Memory, 1000)
	for i := range ms {
		ms[i] = brain.Memory{ID: fmt.Sprintf("m%04d", i), Time: braintest.T0.Add(time.Duration(i) * time.Minute),
			Text: fmt.Sprintf("anı %d: %s, %s ve %s hakkında", i, words[i%20], words[(i/20)%20], words[(i*7)%20])}
	}
	start := time.Now()
	if err := s.Remember(ctx, brain.PlatformTelegram, "1", ms); err != nil {
		b.Fatalf("Remember: %v", err)
	}
	remember := time.Since(start)
	queries := []string{"kedi ve kahve", "python ile futbol", "İzmir'de deniz", "aile tatil yemek"}
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		got, err := s.Top(ctx, brain.PlatformTelegram, "1", queries[i%len(queries)], 3)
		lat = append(lat, time.Since(t0))
		if err != nil || len(got) != 3 {
			b.Fatalf("Top: got %d memories, %v; want 3", len(got), err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
	b.ReportMetric(float64(remember.Milliseconds()), "ms-remember-1000")
}
