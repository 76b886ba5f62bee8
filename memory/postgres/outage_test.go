package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// proxy forwards TCP connections to PostgreSQL and can cut them all, refuse
// new ones (a server that is down) or swallow them (a server that hangs).
type proxy struct {
	tb       testing.TB
	addr     string
	upstream string

	mu    sync.Mutex
	ln    net.Listener
	hang  bool
	conns []net.Conn
}

func newProxy(tb testing.TB, upstream string) *proxy {
	tb.Helper()
	p := &proxy{tb: tb, upstream: upstream}
	p.listen("127.0.0.1:0")
	tb.Cleanup(p.down)
	return p
}

func (p *proxy) listen(addr string) {
	p.tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.tb.Fatalf("proxy listen on %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.serve(c)
		}
	}()
}

func (p *proxy) serve(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
	if p.hang {
		return // keep the connection open and never answer
	}
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		c.Close()
		return
	}
	p.conns = append(p.conns, up)
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	go func() { _, _ = io.Copy(c, up); c.Close() }()
}

// down closes the listener and every connection: the server is gone.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// up listens again on the same address: the server is back.
func (p *proxy) up() { p.listen(p.addr) }

// setHang makes new connections hang without an answer.
func (p *proxy) setHang(h bool) { p.mu.Lock(); p.hang = h; p.mu.Unlock() }

// viaProxy returns dsn with its host and port replaced by the proxy's.
func viaProxy(tb testing.TB, dsn string) (string, *proxy) {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		tb.Fatalf("the outage tests need TEST_DATABASE_URL as a postgres:// URL")
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	p := newProxy(tb, net.JoinHostPort(u.Hostname(), port))
	u.Host = p.addr
	return u.String(), p
}

var conv = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "9", UserID: "9"}

func appendText(ctx context.Context, s *postgres.Store, text string) error {
	return s.Append(ctx, &brain.Record{Key: conv, Role: brain.RoleUser, Text: text, Time: time.Now()})
}

func recentTexts(t *testing.T, s *postgres.Store) []string {
	t.Helper()
	recs, err := s.Recent(context.Background(), conv, 100)
	if err != nil {
		t.Fatalf("Recent: %v", err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Text
	}
	return out
}

// TestOutageAndRecovery takes the server away and brings it back: while it
// is away every call fails with ErrStoreUnavailable, and once it is back
// the same Store works again without being reopened.
func TestOutageAndRecovery(t *testing.T) {
	dsn, p := viaProxy(t, pgtest.NewSchema(t))
	s, _ := openAndMigrate(t, dsn)
	ctx := context.Background()
	if err := appendText(ctx, s, "önce"); err != nil {
		t.Fatalf("Append before the outage: %v", err)
	}

	p.down()
	calls := map[string]func(context.Context) error{
		"Append": func(ctx context.Context) error { return appendText(ctx, s, "kesintide") },
		"Recent": func(ctx context.Context) error { _, err := s.Recent(ctx, conv, 5); return err },
		"Reset":  func(ctx context.Context) error { return s.Reset(ctx, conv) },
		"DeleteUser": func(ctx context.Context) error {
			_, err := s.DeleteUser(ctx, conv.Platform, "someone-else")
			return err
		},
		"Between": func(ctx context.Context) error { _, err := s.Between(ctx, time.Time{}, time.Now()); return err },
		"Ping":    s.Ping,
	}
	for name, call := range calls {
		if err := call(ctx); !errors.Is(err, brain.ErrStoreUnavailable) {
			t.Errorf("%s while the server is down: got %v, want ErrStoreUnavailable", name, err)
		}
	}

	p.up()
	if err := appendText(ctx, s, "sonra"); err != nil {
		t.Fatalf("Append after the server came back: %v", err)
	}
	got := recentTexts(t, s)
	if len(got) != 2 || got[0] != "önce" || got[1] != "sonra" {
		t.Errorf("Recent after the outage: got %q, want [önce sonra]", got)
	}
}

// TestHangingServerTimesOut: a server that accepts but never answers gives
// ErrStoreUnavailable when the caller's deadline passes.
func TestHangingServerTimesOut(t *testing.T) {
	dsn, p := viaProxy(t, pgtest.NewSchema(t))
	s, _ := openAndMigrate(t, dsn)
	p.down()
	p.setHang(true)
	p.up()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := s.Recent(ctx, conv, 5); !errors.Is(err, brain.ErrStoreUnavailable) {
		t.Errorf("Recent on a hanging server: got %v, want ErrStoreUnavailable", err)
	}
	p.down() // gone for good: pgx's cancel request to the hanging server fails at once
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := s.Recent(ctx2, conv, 5); err == nil || errors.Is(err, brain.ErrStoreUnavailable) {
		t.Errorf("Recent with a cancelled context: got %v, want a plain cancellation error", err)
	}
}

// TestTerminatedBackends kills the Store's server processes, as a server
// restart or an administrator does: reads retry on a fresh connection at
// once, and a write is either stored or reported unavailable, never lost
// silently, with the next one stored.
func TestTerminatedBackends(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	s, _ := openAndMigrate(t, dsn)
	app := appName(t, dsn)
	ctx := context.Background()
	if err := appendText(ctx, s, "bir"); err != nil {
		t.Fatalf("Append: %v", err)
	}
	warm(t, s)
	terminate(t, app)
	want := []string{"bir"}
	if got := recentTexts(t, s); len(got) != 1 || got[0] != "bir" {
		t.Fatalf("Recent after the backends were terminated: got %q, want %q", got, want)
	}

	warm(t, s)
	terminate(t, app)
	switch err := appendText(ctx, s, "iki"); {
	case err == nil:
		want = append(want, "iki")
	case !errors.Is(err, brain.ErrStoreUnavailable):
		t.Fatalf("Append after the backends were terminated: got %v, want success or ErrStoreUnavailable", err)
	}
	if err := appendText(ctx, s, "üç"); err != nil {
		t.Fatalf("the next Append: %v", err)
	}
	want = append(want, "üç")
	if got := recentTexts(t, s); len(got) != len(want) || got[len(got)-1] != "üç" {
		t.Errorf("Recent: got %q, want %q", got, want)
	}
}

func openAndMigrate(tb testing.TB, dsn string) (*postgres.Store, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, dsn, discard())
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s, dsn
}

// warm opens several pool connections by running reads at once.
func warm(t *testing.T, s *postgres.Store) {
	t.Helper()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.Between(context.Background(), time.Time{}, time.Now())
		}()
	}
	wg.Wait()
}

func appName(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Query().Get("application_name") == "" {
		t.Fatalf("pgtest DSN has no application_name")
	}
	return u.Query().Get("application_name")
}

// terminate ends every server process of the application and waits until
// they are gone.
func terminate(t *testing.T, app string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n)
	if err != nil || n == 0 {
		t.Fatalf("terminate backends of %s: %d terminated, %v", app, n, err)
	}
	for {
		var left int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&left); err != nil {
			t.Fatalf("count backends: %v", err)
		}
		if left == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d backends of %s still alive", left, app)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
