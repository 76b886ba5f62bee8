package braintest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// MemoryRows is the store of long-term memories as rows: the truth that
// the search index (Chroma) is rebuilt from. memory/longterm declares the
// same interface where it uses it.
type MemoryRows interface {
	// Put writes memories of the user; a memory whose ID the user already
	// has replaces it (its Day too). Nothing is written when one memory
	// is invalid.
	Put(ctx context.Context, p brain.Platform, userID string, ms []brain.Memory) error
	// ReplaceDay makes ms the user's memories of day (YYYY-MM-DD): the
	// user's memories of that day whose IDs ms lacks are deleted and ms is
	// written, in one transaction. A memory of ms with an empty Day gets
	// day; one with another Day (an earlier day's memory the night
	// refreshed) keeps it. It returns the deleted IDs, sorted.
	ReplaceDay(ctx context.Context, p brain.Platform, userID, day string, ms []brain.Memory) ([]string, error)
	// Get returns the user's memories with the given IDs, in the order of
	// ids; unknown IDs are left out.
	Get(ctx context.Context, p brain.Platform, userID string, ids []string) ([]brain.Memory, error)
	// List returns up to limit memories of the user, newest first (ties
	// by ID).
	List(ctx context.Context, p brain.Platform, userID string, limit int) ([]brain.Memory, error)
	// DeleteUser deletes every memory of the user and reports how many.
	DeleteUser(ctx context.Context, p brain.Platform, userID string) (int, error)
	// Users returns every user with a memory, by platform then user ID.
	Users(ctx context.Context) ([]brain.UserRef, error)
}

// TestMemoryRows is the contract of a MemoryRows. newStore must return an
// empty store of its own for each call; the subtests run in parallel.
func TestMemoryRows(t *testing.T, newStore func(t *testing.T) MemoryRows) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s MemoryRows)
	}{
		{"an empty store has nothing", testRowsEmpty},
		{"a memory round-trips whole", testRowsRoundTrip},
		{"the same id replaces", testRowsReplace},
		{"list returns the newest first, at most limit", testRowsList},
		{"users are isolated and deleted alone", testRowsUsers},
		{"replace day removes the day's old set only", testRowsReplaceDay},
		{"invalid input is refused", testRowsInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// row is a memory of day with sources, at T0 plus sec seconds.
func row(id, text, day string, sec int, sources ...int64) brain.Memory {
	m := mem(id, text, sec)
	m.Day, m.Sources = day, sources
	return m
}

func putRows(t *testing.T, s MemoryRows, p brain.Platform, userID string, ms ...brain.Memory) {
	t.Helper()
	if err := s.Put(context.Background(), p, userID, ms); err != nil {
		t.Fatalf("Put(%s, %s, %d memories): %v", p, userID, len(ms), err)
	}
}

func listRows(t *testing.T, s MemoryRows, p brain.Platform, userID string) []brain.Memory {
	t.Helper()
	got, err := s.List(context.Background(), p, userID, 1000)
	if err != nil {
		t.Fatalf("List(%s, %s): %v", p, userID, err)
	}
	return got
}

// sameRow compares everything a row keeps: time to the second.
func sameRow(t *testing.T, what string, got, want brain.Memory) {
	t.Helper()
	if got.ID != want.ID || got.Text != want.Text || got.Day != want.Day {
		t.Errorf("%s: got %q %q day %q, want %q %q day %q", what, got.ID, got.Text, got.Day, want.ID, want.Text, want.Day)
	}
	if !(len(got.Tags) == 0 && len(want.Tags) == 0) && !reflect.DeepEqual(got.Tags, want.Tags) {
		t.Errorf("%s: tags %q, want %q", what, got.Tags, want.Tags)
	}
	if !(len(got.Sources) == 0 && len(want.Sources) == 0) && !slices.Equal(got.Sources, want.Sources) {
		t.Errorf("%s: sources %v, want %v", what, got.Sources, want.Sources)
	}
	if wt := want.Time.Truncate(time.Second); !got.Time.Equal(wt) {
		t.Errorf("%s: time %s, want %s", what, got.Time, wt)
	}
}

func testRowsEmpty(t *testing.T, s MemoryRows) {
	ctx := context.Background()
	if got := listRows(t, s, brain.PlatformTelegram, memAlice); len(got) != 0 {
		t.Errorf("List = %q, want none", memIDs(got))
	}
	if got, err := s.Get(ctx, brain.PlatformTelegram, memAlice, []string{"x"}); err != nil || len(got) != 0 {
		t.Errorf("Get = %q, %v; want none, nil", memIDs(got), err)
	}
	if got, err := s.Users(ctx); err != nil || len(got) != 0 {
		t.Errorf("Users = %v, %v; want none, nil", got, err)
	}
	if n, err := s.DeleteUser(ctx, brain.PlatformTelegram, memAlice); err != nil || n != 0 {
		t.Errorf("DeleteUser = %d, %v; want 0, nil", n, err)
	}
	if gone, err := s.ReplaceDay(ctx, brain.PlatformTelegram, memAlice, "2025-03-14", nil); err != nil || len(gone) != 0 {
		t.Errorf("ReplaceDay with nothing = %q, %v; want none, nil", gone, err)
	}
	putRows(t, s, brain.PlatformTelegram, memAlice)
	if got := listRows(t, s, brain.PlatformTelegram, memAlice); len(got) != 0 {
		t.Errorf("List after Put of nothing = %q, want none", memIDs(got))
	}
}

func testRowsRoundTrip(t *testing.T, s MemoryRows) {
	ist := time.FixedZone("TRT", 3*3600)
	full := brain.Memory{ID: "unicode-ğüşiöçİ", Text: "Çığ düştü; 🙂👍🏽 \"çift\" \\ \t sekme\nyeni satır 日本語",
		Tags: []string{"aile", "şehir", "emoji_🙂"}, Time: time.Date(2025, 3, 14, 12, 30, 15, 987654321, ist),
		Day: "2025-03-14", Sources: []int64{7, 3, 9000000000}}
	bare := mem("bare", "etiketsiz, günsüz bir anı", 1)
	putRows(t, s, brain.PlatformTelegram, memAlice, full, bare)
	got, err := s.Get(context.Background(), brain.PlatformTelegram, memAlice, []string{"bare", "yok", full.ID})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("Get = %q, want bare and the full one, in that order", memIDs(got))
	}
	sameRow(t, "bare", got[0], bare)
	sameRow(t, "full", got[1], full)
	// The caller's slices are not kept.
	full.Tags[0], full.Sources[0] = "değişti", 1
	got, _ = s.Get(context.Background(), brain.PlatformTelegram, memAlice, []string{full.ID})
	if len(got) != 1 || got[0].Tags[0] != "aile" || got[0].Sources[0] != 7 {
		t.Errorf("after the caller changed its slices: got %+v, want the stored ones", got)
	}
}

func testRowsReplace(t *testing.T, s MemoryRows) {
	putRows(t, s, brain.PlatformTelegram, memAlice, row("tercih", "çayı şekerli içiyor", "2025-03-13", 1, 1, 2),
		row("diger", "kitap okumayı seviyor", "2025-03-13", 2))
	second := row("tercih", "çayı artık şekersiz içiyor", "2025-03-14", 9, 5)
	second.Tags = []string{"içecek"}
	putRows(t, s, brain.PlatformTelegram, memAlice, second)
	got := listRows(t, s, brain.PlatformTelegram, memAlice)
	wantIDs(t, "List after writing an id twice", got, "tercih", "diger")
	if len(got) == 2 {
		sameRow(t, "replaced", got[0], second)
	}
}

func testRowsList(t *testing.T, s MemoryRows) {
	ctx := context.Background()
	putRows(t, s, brain.PlatformTelegram, memAlice, mem("old", "eski", 10), mem("new", "yeni", 30),
		mem("mid-b", "orta b", 20), mem("mid-a", "orta a", 20))
	wantIDs(t, "List", listRows(t, s, brain.PlatformTelegram, memAlice), "new", "mid-a", "mid-b", "old")
	if got, err := s.List(ctx, brain.PlatformTelegram, memAlice, 2); err != nil {
		t.Fatal(err)
	} else {
		wantIDs(t, "List limit 2", got, "new", "mid-a")
	}
	if got, err := s.List(ctx, brain.PlatformTelegram, memAlice, 0); err != nil || len(got) != 0 {
		t.Errorf("List limit 0 = %q, %v; want none", memIDs(got), err)
	}
}

func testRowsUsers(t *testing.T, s MemoryRows) {
	ctx := context.Background()
	putRows(t, s, brain.PlatformTelegram, memAlice, mem("a1", "bir", 1), mem("a2", "iki", 2))
	putRows(t, s, brain.PlatformTelegram, memBob, mem("b1", "üç", 3))
	putRows(t, s, brain.PlatformDiscord, memAlice, mem("a1", "dört", 4))
	users, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []brain.UserRef{{Platform: brain.PlatformDiscord, UserID: memAlice},
		{Platform: brain.PlatformTelegram, UserID: memAlice}, {Platform: brain.PlatformTelegram, UserID: memBob}}
	if !slices.Equal(users, want) {
		t.Errorf("Users = %v, want %v", users, want)
	}
	if got := listRows(t, s, brain.PlatformDiscord, memAlice); len(got) != 1 || got[0].Text != "dört" {
		t.Errorf("the same id of the same user id on another platform: %+v", got)
	}
	if n, err := s.DeleteUser(ctx, brain.PlatformTelegram, memAlice); err != nil || n != 2 {
		t.Errorf("DeleteUser = %d, %v; want 2, nil", n, err)
	}
	wantIDs(t, "List of the deleted user", listRows(t, s, brain.PlatformTelegram, memAlice))
	wantIDs(t, "List of another user", listRows(t, s, brain.PlatformTelegram, memBob), "b1")
	wantIDs(t, "List on another platform", listRows(t, s, brain.PlatformDiscord, memAlice), "a1")
}

func testRowsReplaceDay(t *testing.T, s MemoryRows) {
	ctx := context.Background()
	const d1, d2 = "2025-03-13", "2025-03-14"
	putRows(t, s, brain.PlatformTelegram, memAlice,
		row("d1-a", "birinci gün a", d1, 1), row("d1-b", "birinci gün b", d1, 2), row("d1-c", "birinci gün c", d1, 3),
		row("d2-x", "ikinci gün x", d2, 4), mem("free", "günsüz", 5))
	putRows(t, s, brain.PlatformTelegram, memBob, row("d1-a", "bob'un birinci günü", d1, 6))

	// A re-run of d1 with fewer memories: only they are left of d1.
	again := row("d1-a", "birinci gün a, yeniden", d1, 7, 11)
	fresh := mem("d1-d", "birinci gün d", 8) // no Day: it gets d1
	gone, err := s.ReplaceDay(ctx, brain.PlatformTelegram, memAlice, d1, []brain.Memory{again, fresh})
	if err != nil {
		t.Fatalf("ReplaceDay: %v", err)
	}
	if !slices.Equal(gone, []string{"d1-b", "d1-c"}) {
		t.Errorf("ReplaceDay removed %q, want d1-b and d1-c", gone)
	}
	got := listRows(t, s, brain.PlatformTelegram, memAlice)
	wantIDs(t, "List after ReplaceDay", got, "d1-d", "d1-a", "free", "d2-x")
	for _, m := range got {
		switch m.ID {
		case "d1-a":
			sameRow(t, "re-run memory", m, again)
		case "d1-d":
			if m.Day != d1 {
				t.Errorf("a memory without a day written by ReplaceDay(%s) has day %q", d1, m.Day)
			}
		case "free":
			if m.Day != "" {
				t.Errorf("a memory without a day got day %q", m.Day)
			}
		}
	}
	wantIDs(t, "another user's memory of the day", listRows(t, s, brain.PlatformTelegram, memBob), "d1-a")

	// d2 refreshes d1's memory: it stays d1's, and a re-run of d2 without
	// it leaves it.
	refreshed := again
	refreshed.Text, refreshed.Time = "birinci gün a, ikinci günün sözleriyle", T0.Add(20*time.Second)
	if _, err := s.ReplaceDay(ctx, brain.PlatformTelegram, memAlice, d2, []brain.Memory{refreshed, row("d2-x", "ikinci gün x", d2, 4)}); err != nil {
		t.Fatalf("ReplaceDay(%s): %v", d2, err)
	}
	gone, err = s.ReplaceDay(ctx, brain.PlatformTelegram, memAlice, d2, nil)
	if err != nil || !slices.Equal(gone, []string{"d2-x"}) {
		t.Errorf("ReplaceDay(%s, none) = %q, %v; want d2-x removed", d2, gone, err)
	}
	got, _ = s.Get(ctx, brain.PlatformTelegram, memAlice, []string{"d1-a"})
	if len(got) != 1 {
		t.Fatalf("the refreshed memory of an earlier day is gone after a re-run of %s", d2)
	}
	sameRow(t, "refreshed memory", got[0], refreshed)
}

func testRowsInvalid(t *testing.T, s MemoryRows) {
	ctx := context.Background()
	good := row("ok", "geçerli bir anı", "2025-03-14", 1, 1)
	bad := func(f func(m *brain.Memory)) []brain.Memory {
		m := good
		m.ID = "x"
		f(&m)
		return []brain.Memory{good, m}
	}
	for _, c := range []struct {
		name string
		p    brain.Platform
		user string
		ms   []brain.Memory
	}{
		{"empty platform", "", memAlice, []brain.Memory{good}},
		{"empty user id", brain.PlatformTelegram, "", []brain.Memory{good}},
		{"empty text", brain.PlatformTelegram, memAlice, bad(func(m *brain.Memory) { m.Text = " " })},
		{"NUL in text", brain.PlatformTelegram, memAlice, bad(func(m *brain.Memory) { m.Text = "a\x00b" })},
		{"zero time", brain.PlatformTelegram, memAlice, bad(func(m *brain.Memory) { m.Time = time.Time{} })},
		{"malformed day", brain.PlatformTelegram, memAlice, bad(func(m *brain.Memory) { m.Day = "14.03.2025" })},
		{"impossible day", brain.PlatformTelegram, memAlice, bad(func(m *brain.Memory) { m.Day = "2025-02-30" })},
		{"a source that is no message id", brain.PlatformTelegram, memAlice, bad(func(m *brain.Memory) { m.Sources = []int64{0} })},
		{"the same id twice", brain.PlatformTelegram, memAlice, bad(func(m *brain.Memory) { m.ID = good.ID })},
	} {
		if err := s.Put(ctx, c.p, c.user, c.ms); err == nil {
			t.Errorf("Put(%s): got no error, want one", c.name)
		} else if errors.Is(err, brain.ErrStoreUnavailable) {
			t.Errorf("Put(%s): %v, want an error that is not ErrStoreUnavailable", c.name, err)
		}
		if _, err := s.ReplaceDay(ctx, c.p, c.user, "2025-03-14", c.ms); err == nil {
			t.Errorf("ReplaceDay(%s): got no error, want one", c.name)
		}
	}
	for _, day := range []string{"", "dün", "2025-3-14"} {
		if _, err := s.ReplaceDay(ctx, brain.PlatformTelegram, memAlice, day, []brain.Memory{good}); err == nil {
			t.Errorf("ReplaceDay(day %q): got no error, want one", day)
		}
	}
	if got := listRows(t, s, brain.PlatformTelegram, memAlice); len(got) != 0 {
		t.Errorf("List after refused writes = %q, want none", memIDs(got))
	}
	if _, err := s.List(ctx, brain.PlatformTelegram, "", 10); err == nil {
		t.Error("List accepted an empty user id")
	}
	if _, err := s.Get(ctx, "", memAlice, []string{"ok"}); err == nil {
		t.Error("Get accepted an empty platform")
	}
	if _, err := s.DeleteUser(ctx, brain.PlatformTelegram, ""); err == nil {
		t.Error("DeleteUser accepted an empty user id")
	}
}
