package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newStore opens and migrates a Store on a schema of its own.
func newStore(tb testing.TB) (*postgres.Store, string) {
	tb.Helper()
	return openAndMigrate(tb, pgtest.NewSchema(tb))
}

func TestStoreHistoryContract(t *testing.T) {
	braintest.TestHistory(t, func(t *testing.T) brain.History {
		s, _ := newStore(t)
		return s
	})
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range []struct {
		name        string
		dsn         string
		wantIn      string
		unavailable bool
	}{
		{"malformed URL", "postgres://evo:s3cr3t-pw@127.0.0.1:notaport/evo", "not valid", false},
		{"nothing listens", "postgres://evo:s3cr3t-pw@127.0.0.1:1/evo?sslmode=disable", "127.0.0.1:1/evo", true},
		{"keyword form", "host=127.0.0.1 port=1 user=evo password=s3cr3t-pw dbname=evo sslmode=disable", "127.0.0.1:1/evo", true},
		{"unknown database", withDatabase(t, "evo_no_such_db_x"), "check DATABASE_URL", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := postgres.Open(ctx, c.dsn, discard())
			if err == nil {
				s.Close()
				t.Fatal("Open: got no error, want one")
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cr3t-pw") {
				t.Errorf("error shows the password: %s", msg)
			}
			if !strings.Contains(msg, c.wantIn) {
				t.Errorf("error %q does not name %q", msg, c.wantIn)
			}
			if got := errors.Is(err, brain.ErrStoreUnavailable); got != c.unavailable {
				t.Errorf("errors.Is(err, ErrStoreUnavailable): got %v, want %v (err: %v)", got, c.unavailable, err)
			}
		})
	}
	if _, err := postgres.Open(ctx, pgtest.URL(), nil); err == nil {
		t.Error("Open without a logger: got no error, want one")
	}
}

func TestMigrateTwice(t *testing.T) {
	s, _ := newStore(t) // migrated once
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestClosedStoreErrs(t *testing.T) {
	s, _ := newStore(t)
	s.Close()
	ctx := context.Background()
	if _, err := s.Recent(ctx, brain.ConvKey{Platform: "cli", ChatID: "c", UserID: "u"}, 5); err == nil {
		t.Error("Recent on a closed store: got no error, want one")
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping on a closed store: got no error, want one")
	}
}

// withDatabase is the test server's URL naming another database.
func withDatabase(t *testing.T, db string) string {
	t.Helper()
	u, err := url.Parse(pgtest.URL())
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + db
	return u.String()
}

// TestConcurrentAppendsAcrossUsersAndChats mixes users and chats from
// parallel writers, the pattern that could deadlock if Appends locked
// users and chats in different orders.
func TestConcurrentAppendsAcrossUsersAndChats(t *testing.T) {
	s, _ := newStore(t)
	const writers, each = 4, 25
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				k := brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: fmt.Sprint((w + i) % 2), UserID: fmt.Sprint(i % 3)}
				r := &brain.Record{Key: k, ChatKind: brain.ChatGroup, UserName: fmt.Sprint("kişi ", w), Role: brain.RoleUser,
					Text: "eşzamanlı", Time: braintest.T0}
				if err := s.Append(context.Background(), r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append: %v", err)
	}
	got, err := s.Between(context.Background(), braintest.T0, braintest.T0.Add(time.Second))
	if err != nil || len(got) != writers*each {
		t.Errorf("Between: got %d records, %v; want %d", len(got), err, writers*each)
	}
}

func TestStoreNightLogContract(t *testing.T) {
	braintest.TestNightLog(t, func(t *testing.T) brain.NightLog {
		s, _ := newStore(t)
		return s
	})
}
