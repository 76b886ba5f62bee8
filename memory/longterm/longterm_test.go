package longterm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
	"github.com/evo-tr/evo/memory/longterm"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newMemory(t *testing.T, rows longterm.Rows, index longterm.Index) *longterm.Memory {
	t.Helper()
	m, err := longterm.New(rows, index, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLongTermContractOverFakes(t *testing.T) {
	braintest.TestLongTermMemory(t, func(t *testing.T) braintest.LongTermMemory {
		return newMemory(t, braintest.NewMemRows(), braintest.NewMemMemory(nil, "hash"))
	})
}

func TestLongTermContractOverPostgres(t *testing.T) {
	braintest.TestLongTermMemory(t, func(t *testing.T) braintest.LongTermMemory {
		ctx := context.Background()
		st, err := postgres.Open(ctx, pgtest.NewSchema(t), quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return newMemory(t, postgres.NewMemories(st, brain.SystemClock{}), braintest.NewMemMemory(nil, "hash"))
	})
}

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func night(day string, i int, text string, sources ...int64) brain.Memory {
	return brain.Memory{ID: fmt.Sprintf("night-%s-%02d", day, i), Text: text, Time: t0.Add(time.Duration(i) * time.Minute),
		Day: day, Sources: sources}
}

func ids(ms []brain.Memory) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func TestReplaceDay(t *testing.T) {
	ctx := context.Background()
	const p, u = brain.PlatformTelegram, "100"
	const d1, d2 = "2025-03-13", "2025-03-14"
	for _, c := range []struct {
		name      string
		first     []brain.Memory
		second    []brain.Memory
		wantRows  []string
		wantIndex int
	}{
		{"fewer memories leave only the new ones",
			[]brain.Memory{night(d2, 1, "kedisi Pamuk"), night(d2, 2, "Python öğreniyor"), night(d2, 3, "İzmir'de yaşıyor")},
			[]brain.Memory{night(d2, 1, "köpeği Karabaş")},
			[]string{"night-2025-03-14-01", "night-2025-03-13-01"}, 2},
		{"no memories remove the day's",
			[]brain.Memory{night(d2, 1, "kedisi Pamuk"), night(d2, 2, "Python öğreniyor")},
			nil,
			[]string{"night-2025-03-13-01"}, 1},
		{"more memories add",
			[]brain.Memory{night(d2, 1, "kedisi Pamuk")},
			[]brain.Memory{night(d2, 1, "kedisi Pamuk"), night(d2, 2, "Python öğreniyor")},
			[]string{"night-2025-03-14-02", "night-2025-03-14-01", "night-2025-03-13-01"}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, index := braintest.NewMemRows(), braintest.NewMemMemory(nil, "hash")
			m := newMemory(t, rows, index)
			earlier := night(d1, 1, "annesi Ankara'da oturuyor")
			earlier.Time = t0.Add(-time.Hour)
			if err := m.ReplaceDay(ctx, p, u, d1, []brain.Memory{earlier}); err != nil {
				t.Fatal(err)
			}
			if err := m.ReplaceDay(ctx, p, u, d2, c.first); err != nil {
				t.Fatal(err)
			}
			if err := m.ReplaceDay(ctx, p, u, d2, c.second); err != nil {
				t.Fatal(err)
			}
			got, err := m.List(ctx, p, u, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), c.wantRows) {
				t.Errorf("rows = %q, want %q", ids(got), c.wantRows)
			}
			if n := index.Len(p, u); n != c.wantIndex {
				t.Errorf("index holds %d memories, want %d", n, c.wantIndex)
			}
			hits, err := m.Top(ctx, p, u, "kedisi Pamuk Python İzmir", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != len(c.wantRows) {
				t.Errorf("Top = %q, want the %d rows", ids(hits), len(c.wantRows))
			}
		})
	}
}

func TestReplaceDayKeepsARefreshedMemoryOne(t *testing.T) {
	ctx := context.Background()
	const p, u = brain.PlatformDiscord, "7"
	rows, index := braintest.NewMemRows(), braintest.NewMemMemory(nil, "hash")
	m := newMemory(t, rows, index)
	old := night("2025-03-13", 1, "kedisi Pamuk", 1)
	if err := m.ReplaceDay(ctx, p, u, "2025-03-13", []brain.Memory{old}); err != nil {
		t.Fatal(err)
	}
	// The next night refreshes it (its id, its day) and adds one.
	refreshed := old
	refreshed.Text, refreshed.Sources, refreshed.Time = "kedisi Pamuk artık iki yaşında", []int64{1, 5}, t0.Add(time.Hour)
	for range 2 { // and is run twice
		if err := m.ReplaceDay(ctx, p, u, "2025-03-14", []brain.Memory{refreshed, night("2025-03-14", 1, "Python öğreniyor", 6)}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := m.List(ctx, p, u, 10)
	if want := []string{"night-2025-03-13-01", "night-2025-03-14-01"}; !slices.Equal(ids(got), want) {
		t.Fatalf("rows = %q, want %q", ids(got), want)
	}
	if got[0].Text != refreshed.Text || got[0].Day != "2025-03-13" || !slices.Equal(got[0].Sources, []int64{1, 5}) {
		t.Errorf("refreshed row = %+v", got[0])
	}
	if index.Len(p, u) != 2 {
		t.Errorf("index holds %d, want 2", index.Len(p, u))
	}
	// A re-run of the second day without the refresh leaves the first day's memory.
	if err := m.ReplaceDay(ctx, p, u, "2025-03-14", nil); err != nil {
		t.Fatal(err)
	}
	got, _ = m.List(ctx, p, u, 10)
	if !slices.Equal(ids(got), []string{"night-2025-03-13-01"}) {
		t.Errorf("rows after an empty re-run of the second day = %q", ids(got))
	}
}

func TestTopDropsHitsWithoutRows(t *testing.T) {
	ctx := context.Background()
	const p, u = brain.PlatformTelegram, "100"
	rows, index := braintest.NewMemRows(), braintest.NewMemMemory(nil, "hash")
	m := newMemory(t, rows, index)
	kept := night("2025-03-14", 1, "kahve içmeyi seviyor", 3)
	if err := m.Remember(ctx, p, u, []brain.Memory{kept}); err != nil {
		t.Fatal(err)
	}
	// Index entries whose rows are gone (a write to the index that outlived its row).
	var ghosts []brain.Memory
	for i := range 5 {
		ghosts = append(ghosts, night("2025-03-10", i+1, "kahve içmeyi seviyor mu"))
	}
	if err := index.Remember(ctx, p, u, ghosts); err != nil {
		t.Fatal(err)
	}
	got, err := m.Top(ctx, p, u, "kahve içmeyi seviyor mu", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != kept.ID || got[0].Day != kept.Day || !slices.Equal(got[0].Sources, kept.Sources) {
		t.Errorf("Top = %+v, want only the memory with a row, as the row says", got)
	}
}

func TestWithoutIndex(t *testing.T) {
	ctx := context.Background()
	const p, u = brain.PlatformCLI, "ayse"
	rows := braintest.NewMemRows()
	m := newMemory(t, rows, nil)
	if err := m.ReplaceDay(ctx, p, u, "2025-03-14", []brain.Memory{night("2025-03-14", 1, "kedisi Pamuk")}); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Top(ctx, p, u, "kedisi Pamuk", 3); err != nil || len(got) != 0 {
		t.Errorf("Top without an index = %q, %v; want none", ids(got), err)
	}
	if got, err := m.List(ctx, p, u, 3); err != nil || len(got) != 1 {
		t.Errorf("List without an index = %q, %v; want the row", ids(got), err)
	}
	if err := m.Ping(ctx); err != nil {
		t.Errorf("Ping without an index: %v", err)
	}
	if _, err := m.Reindex(ctx, 0, nil); err == nil {
		t.Error("Reindex without an index: no error")
	}
	if err := m.ForgetUser(ctx, p, u); err != nil || rows.Len(p, u) != 0 {
		t.Errorf("ForgetUser: %v, %d rows left", err, rows.Len(p, u))
	}
}

func TestReindex(t *testing.T) {
	ctx := context.Background()
	rows := braintest.NewMemRows()
	m := newMemory(t, rows, braintest.NewMemMemory(nil, "hash"))
	users := []brain.UserRef{{Platform: brain.PlatformTelegram, UserID: "1"}, {Platform: brain.PlatformDiscord, UserID: "2"}}
	for i, u := range users {
		var ms []brain.Memory
		for k := range 7 + i {
			ms = append(ms, night("2025-03-14", k+1, fmt.Sprintf("anı %d numara %d", k, i)))
		}
		if err := m.Remember(ctx, u.Platform, u.UserID, ms); err != nil {
			t.Fatal(err)
		}
	}
	// The index loses everything: a fresh one over the same rows.
	index := braintest.NewMemMemory(nil, "hash")
	m = newMemory(t, rows, index)
	// A stale entry of a user is dropped with their index.
	if err := index.Remember(ctx, brain.PlatformTelegram, "1", []brain.Memory{night("2025-01-01", 1, "hayalet")}); err != nil {
		t.Fatal(err)
	}
	var seen []longterm.Progress
	pr, err := m.Reindex(ctx, 3, func(p longterm.Progress) { seen = append(seen, p) })
	if err != nil {
		t.Fatal(err)
	}
	if want := (longterm.Progress{Users: 2, UsersDone: 2, Memories: 15}); pr != want {
		t.Errorf("Reindex = %+v, want %+v", pr, want)
	}
	// Discord's 8 in batches of 3, then Telegram's 7: a call per batch and per user.
	if len(seen) != 3+1+3+1 || seen[0] != (longterm.Progress{Users: 2, Memories: 3}) || seen[len(seen)-1] != pr {
		t.Errorf("progress = %+v", seen)
	}
	if n := index.Len(brain.PlatformTelegram, "1"); n != 7 {
		t.Errorf("telegram user's index holds %d, want 7", n)
	}
	if got, _ := m.Top(ctx, brain.PlatformDiscord, "2", "anı 3 numara 1", 1); len(got) != 1 || got[0].ID != "night-2025-03-14-04" {
		t.Errorf("Top after Reindex = %+v", got)
	}
}

// downRows is a Rows whose database is down.
type downRows struct{ longterm.Rows }

var errDown = fmt.Errorf("%w: connection refused", brain.ErrStoreUnavailable)

func (downRows) Put(context.Context, brain.Platform, string, []brain.Memory) error { return errDown }
func (downRows) List(context.Context, brain.Platform, string, int) ([]brain.Memory, error) {
	return nil, errDown
}
func (downRows) Get(context.Context, brain.Platform, string, []string) ([]brain.Memory, error) {
	return nil, errDown
}

func TestRowsDownIsMemoryUnavailable(t *testing.T) {
	ctx := context.Background()
	index := braintest.NewMemMemory(nil, "hash")
	_ = index.Remember(ctx, brain.PlatformCLI, "a", []brain.Memory{night("2025-03-14", 1, "kedisi Pamuk")})
	m := newMemory(t, downRows{braintest.NewMemRows()}, index)
	err := m.Remember(ctx, brain.PlatformCLI, "a", []brain.Memory{night("2025-03-14", 2, "x y z")})
	if !errors.Is(err, brain.ErrMemoryUnavailable) {
		t.Errorf("Remember with the rows down = %v, want ErrMemoryUnavailable", err)
	}
	if index.Len(brain.PlatformCLI, "a") != 1 {
		t.Error("the index was written although the rows were not")
	}
	if _, err := m.Top(ctx, brain.PlatformCLI, "a", "kedisi Pamuk", 1); !errors.Is(err, brain.ErrMemoryUnavailable) {
		t.Errorf("Top with the rows down = %v, want ErrMemoryUnavailable", err)
	}
	if _, err := m.List(ctx, brain.PlatformCLI, "a", 1); !errors.Is(err, brain.ErrMemoryUnavailable) {
		t.Errorf("List with the rows down = %v, want ErrMemoryUnavailable", err)
	}
}
