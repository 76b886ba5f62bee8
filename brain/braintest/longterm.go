package braintest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// TestLongTermMemory is the contract of a long-term memory store
// (brain.Recall, brain.Memorizer and brain.Forgetter). newStore must return
// an empty store of its own for each call, embedding with HashEmbedder
// (the expected orders rest on texts that share words being near); the
// subtests run in parallel.
func TestLongTermMemory(t *testing.T, newStore func(t *testing.T) LongTermMemory) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s LongTermMemory)
	}{
		{"a user with no memories gets none", testMemEmpty},
		{"top returns the nearest first, at most k", testMemNearest},
		{"the same id replaces", testMemReplace},
		{"users and platforms are isolated", testMemIsolation},
		{"forget user removes only that user", testMemForget},
		{"Turkish text, emoji, tags and time round-trip", testMemRoundTrip},
		{"invalid input is refused", testMemInvalid},
		{"concurrent writers of a new user", testMemConcurrent},
		{"list returns the newest first, at most limit", testMemList},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// Users of the long-term memory contract: the same user id on two
// platforms is two users.
const (
	memAlice = "100"
	memBob   = "200"
)

// mem is a memory with id, text and tags at T0 plus sec seconds.
func mem(id, text string, sec int, tags ...string) brain.Memory {
	return brain.Memory{ID: id, Text: text, Tags: tags, Time: T0.Add(time.Duration(sec) * time.Second)}
}

// remember stores ms and fails the test on an error.
func remember(t *testing.T, s LongTermMemory, p brain.Platform, userID string, ms ...brain.Memory) {
	t.Helper()
	if err := s.Remember(context.Background(), p, userID, ms); err != nil {
		t.Fatalf("Remember(%s, %s, %d memories): %v", p, userID, len(ms), err)
	}
}

// top recalls and fails the test on an error.
func top(t *testing.T, s LongTermMemory, p brain.Platform, userID, text string, k int) []brain.Memory {
	t.Helper()
	got, err := s.Top(context.Background(), p, userID, text, k)
	if err != nil {
		t.Fatalf("Top(%s, %s, %q, %d): %v", p, userID, text, k, err)
	}
	return got
}

func memIDs(ms []brain.Memory) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// wantIDs compares the ids of got, in order, with want.
func wantIDs(t *testing.T, what string, got []brain.Memory, want ...string) {
	t.Helper()
	if g := memIDs(got); !slices.Equal(g, want) {
		t.Errorf("%s: got ids %q, want %q", what, g, want)
	}
}

// wantSortedIDs compares the ids of got, in any order, with want.
func wantSortedIDs(t *testing.T, what string, got []brain.Memory, want ...string) {
	t.Helper()
	g := slices.Sorted(slices.Values(memIDs(got)))
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Errorf("%s: got ids %q, want %q in any order", what, g, w)
	}
}

func testMemEmpty(t *testing.T, s LongTermMemory) {
	ctx := context.Background()
	for _, p := range []brain.Platform{brain.PlatformTelegram, brain.PlatformDiscord, brain.PlatformCLI} {
		got, err := s.Top(ctx, p, memAlice, "kedimin adı ne", 5)
		if err != nil || len(got) != 0 {
			t.Errorf("Top(%s) of a user with no memories: got %d memories, %v; want none, nil", p, len(got), err)
		}
	}
	if err := s.ForgetUser(ctx, brain.PlatformTelegram, memAlice); err != nil {
		t.Errorf("ForgetUser of a user with no memories: %v", err)
	}
	if err := s.Remember(ctx, brain.PlatformTelegram, memAlice, nil); err != nil {
		t.Errorf("Remember of no memories: %v", err)
	}
	if got := top(t, s, brain.PlatformTelegram, memAlice, "kedimin adı ne", 5); len(got) != 0 {
		t.Errorf("Top after Remember of no memories: got %d memories, want none", len(got))
	}
}

// memFacts are five memories of a user; each query below shares words
// with one of them only.
var memFacts = []brain.Memory{
	mem("kedi", "kedisinin adı Pamuk, beyaz bir Van kedisi", 1, "evcil_hayvan"),
	mem("python", "Python ile veri analizi öğreniyor, pandas kullanıyor", 2, "python", "öğrenme"),
	mem("sehir", "İzmir'de yaşıyor ve deniz kenarında yürümeyi seviyor", 3, "şehir"),
	mem("kahve", "sabahları sütsüz filtre kahve içiyor", 4, "tercih"),
	mem("futbol", "hafta sonları futbol maçı izliyor, Göztepe taraftarı", 5, "spor"),
}

func testMemNearest(t *testing.T, s LongTermMemory) {
	remember(t, s, brain.PlatformTelegram, memAlice, memFacts...)
	for _, c := range []struct {
		query string
		want  string
	}{
		{"kedisinin adı neydi?", "kedi"},
		{"pandas ile veri analizi nasıl yapılır", "python"},
		{"İzmir'de deniz kenarında ne yapılır", "sehir"},
		{"filtre kahve mi içiyor?", "kahve"},
		{"futbol maçı ne zaman", "futbol"},
	} {
		got := top(t, s, brain.PlatformTelegram, memAlice, c.query, 3)
		if len(got) != 3 {
			t.Errorf("Top(%q, k=3): got %d memories, want 3", c.query, len(got))
			continue
		}
		if got[0].ID != c.want {
			t.Errorf("Top(%q): nearest is %q (%.3f), want %q; all %q", c.query, got[0].ID, got[0].Distance, c.want, memIDs(got))
		}
		wantAscending(t, fmt.Sprintf("Top(%q)", c.query), got)
		if got[0].Distance >= got[1].Distance {
			t.Errorf("Top(%q): nearest distance %.4f is not below the next %.4f", c.query, got[0].Distance, got[1].Distance)
		}
	}

	all := top(t, s, brain.PlatformTelegram, memAlice, "kedisinin adı neydi?", 50)
	wantSortedIDs(t, "Top with k above the count", all, "kedi", "python", "sehir", "kahve", "futbol")
	wantAscending(t, "Top with k above the count", all)
	wantIDs(t, "Top with k=1", top(t, s, brain.PlatformTelegram, memAlice, "kedisinin adı neydi?", 1), "kedi")

	same := top(t, s, brain.PlatformTelegram, memAlice, memFacts[3].Text, 1)
	if len(same) != 1 || same[0].ID != "kahve" || math.Abs(same[0].Distance) > 1e-3 {
		t.Errorf("Top with a memory's own text: got %+v, want %q at distance 0", same, "kahve")
	}
	for _, k := range []int{0, -1} {
		if got, err := s.Top(context.Background(), brain.PlatformTelegram, memAlice, "kahve", k); err != nil || len(got) != 0 {
			t.Errorf("Top(k=%d): got %d memories, %v; want none, nil", k, len(got), err)
		}
	}
	if got, err := s.Top(context.Background(), brain.PlatformTelegram, memAlice, "  \n", 3); err != nil || len(got) != 0 {
		t.Errorf("Top with a blank text: got %d memories, %v; want none, nil", len(got), err)
	}
}

// wantAscending checks that distances never decrease and lie in [0, 2].
func wantAscending(t *testing.T, what string, got []brain.Memory) {
	t.Helper()
	for i, m := range got {
		if m.Distance < -1e-4 || m.Distance > 2+1e-4 || math.IsNaN(m.Distance) {
			t.Errorf("%s: distance of %q is %v, want within [0, 2]", what, m.ID, m.Distance)
		}
		if i > 0 && m.Distance < got[i-1].Distance {
			t.Errorf("%s: distance %.4f of %q is below %.4f of %q before it", what, m.Distance, m.ID,
				got[i-1].Distance, got[i-1].ID)
		}
	}
}

func testMemReplace(t *testing.T, s LongTermMemory) {
	remember(t, s, brain.PlatformTelegram, memAlice, mem("tercih", "çayı şekerli içiyor", 1, "içecek"),
		mem("diger", "kitap okumayı seviyor", 2))
	remember(t, s, brain.PlatformTelegram, memAlice, mem("tercih", "çayı artık şekersiz içiyor", 9, "içecek", "sağlık"))
	got := top(t, s, brain.PlatformTelegram, memAlice, "çay nasıl içiyor", 10)
	wantSortedIDs(t, "Top after writing an id twice", got, "tercih", "diger")
	for _, m := range got {
		if m.ID != "tercih" {
			continue
		}
		if m.Text != "çayı artık şekersiz içiyor" || !slices.Equal(m.Tags, []string{"içecek", "sağlık"}) ||
			!m.Time.Equal(T0.Add(9*time.Second)) {
			t.Errorf("replaced memory: got %q %q %s, want the second write", m.Text, m.Tags, m.Time)
		}
	}
}

func testMemIsolation(t *testing.T, s LongTermMemory) {
	const text = "en sevdiği renk mavi"
	remember(t, s, brain.PlatformTelegram, memAlice, mem("renk", text+" (telegram alice)", 1))
	remember(t, s, brain.PlatformTelegram, memBob, mem("renk", text+" (telegram bob)", 2))
	remember(t, s, brain.PlatformDiscord, memAlice, mem("renk", text+" (discord alice)", 3))
	for _, c := range []struct {
		p    brain.Platform
		user string
		want string
	}{
		{brain.PlatformTelegram, memAlice, text + " (telegram alice)"},
		{brain.PlatformTelegram, memBob, text + " (telegram bob)"},
		{brain.PlatformDiscord, memAlice, text + " (discord alice)"},
	} {
		got := top(t, s, c.p, c.user, text, 10)
		if len(got) != 1 || got[0].Text != c.want {
			t.Errorf("Top(%s, %s): got %+v, want only %q", c.p, c.user, got, c.want)
		}
	}
	for _, c := range []struct {
		p    brain.Platform
		user string
	}{{brain.PlatformDiscord, memBob}, {brain.PlatformCLI, memAlice}, {brain.PlatformTelegram, "1000"}} {
		if got := top(t, s, c.p, c.user, text, 10); len(got) != 0 {
			t.Errorf("Top(%s, %s) of a user with no memories: got %q, want none", c.p, c.user, memIDs(got))
		}
	}
}

func testMemForget(t *testing.T, s LongTermMemory) {
	ctx := context.Background()
	remember(t, s, brain.PlatformTelegram, memAlice, mem("a1", "annesinin doğum günü mayısta", 1), mem("a2", "kardeşi Ankara'da", 2))
	remember(t, s, brain.PlatformTelegram, memBob, mem("b1", "annesinin doğum günü haziranda", 3))
	remember(t, s, brain.PlatformDiscord, memAlice, mem("d1", "annesinin doğum günü temmuzda", 4))
	if err := s.ForgetUser(ctx, brain.PlatformTelegram, memAlice); err != nil {
		t.Fatalf("ForgetUser: %v", err)
	}
	const q = "annesinin doğum günü ne zaman"
	wantIDs(t, "Top of the forgotten user", top(t, s, brain.PlatformTelegram, memAlice, q, 10))
	wantIDs(t, "Top of another user", top(t, s, brain.PlatformTelegram, memBob, q, 10), "b1")
	wantIDs(t, "Top of the same user id on another platform", top(t, s, brain.PlatformDiscord, memAlice, q, 10), "d1")
	if err := s.ForgetUser(ctx, brain.PlatformTelegram, memAlice); err != nil {
		t.Errorf("second ForgetUser: %v", err)
	}
	// A forgotten user who talks again starts a new memory.
	remember(t, s, brain.PlatformTelegram, memAlice, mem("a3", "annesinin doğum günü için pasta aldı", 5))
	wantIDs(t, "Top of a forgotten user who is remembered again", top(t, s, brain.PlatformTelegram, memAlice, q, 10), "a3")
}

func testMemRoundTrip(t *testing.T, s LongTermMemory) {
	ist := time.FixedZone("TRT", 3*3600)
	when := time.Date(2025, 3, 14, 12, 30, 15, 987654321, ist)
	want := []brain.Memory{
		{ID: "unicode-ğüşiöçİ", Text: "Çığ düştü, şoför ağır yükü İĞDIR'a götürdü; 🙂👍🏽👨‍👩‍👧 \"çift\" \\ \t sekme\nyeni satır 日本語",
			Tags: []string{"aile", "şehir", "ünlü-yer", "emoji_🙂"}, Time: when},
		{ID: "no-tags", Text: "etiketsiz bir anı", Time: T0},
	}
	remember(t, s, brain.PlatformTelegram, memAlice, want...)
	got := top(t, s, brain.PlatformTelegram, memAlice, want[0].Text, 10)
	if len(got) != 2 {
		t.Fatalf("Top: got %d memories, want 2", len(got))
	}
	for _, g := range got {
		i := slices.IndexFunc(want, func(m brain.Memory) bool { return m.ID == g.ID })
		if i < 0 {
			t.Errorf("Top returned an unknown id %q", g.ID)
			continue
		}
		w := want[i]
		if g.Text != w.Text {
			t.Errorf("memory %q text: got %q, want %q", w.ID, g.Text, w.Text)
		}
		if !(len(g.Tags) == 0 && len(w.Tags) == 0) && !reflect.DeepEqual(g.Tags, w.Tags) {
			t.Errorf("memory %q tags: got %q, want %q", w.ID, g.Tags, w.Tags)
		}
		if wt := w.Time.Truncate(time.Second); !g.Time.Equal(wt) {
			t.Errorf("memory %q time: got %s, want %s (to the second)", w.ID, g.Time, wt)
		}
	}
	if got[0].ID != want[0].ID {
		t.Errorf("Top with a memory's own text: nearest is %q, want %q", got[0].ID, want[0].ID)
	}
	// The caller's slice is not kept.
	want[0].Tags[0] = "değişti"
	if again := top(t, s, brain.PlatformTelegram, memAlice, want[1].Text, 1); len(again) != 1 || again[0].ID != "no-tags" {
		t.Errorf("Top with the second memory's text: got %q, want %q", memIDs(again), "no-tags")
	}
	if again := top(t, s, brain.PlatformTelegram, memAlice, want[0].Text, 1); len(again) == 1 && again[0].Tags[0] != "aile" {
		t.Errorf("tags after the caller changed its slice: got %q, want the stored ones", again[0].Tags)
	}
}

func testMemInvalid(t *testing.T, s LongTermMemory) {
	ctx := context.Background()
	good := mem("ok", "geçerli bir anı", 1, "etiket")
	edit := func(f func(m *brain.Memory)) []brain.Memory {
		m := good
		m.Tags = slices.Clone(good.Tags)
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
		{"invalid UTF-8 user id", brain.PlatformTelegram, "\xc3\x28", []brain.Memory{good}},
		{"empty id", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.ID = "" })},
		{"empty text", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.ID, m.Text = "x", "" })},
		{"blank text", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.ID, m.Text = "x", " \n\t" })},
		{"invalid UTF-8 text", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.ID, m.Text = "x", "bozuk \xff metin" })},
		{"NUL in text", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.ID, m.Text = "x", "a\x00b" })},
		{"zero time", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.ID, m.Time = "x", time.Time{} })},
		{"empty tag", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.ID, m.Tags = "x", []string{"a", ""} })},
		{"tag with a comma", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.ID, m.Tags = "x", []string{"a,b"} })},
		{"the same id twice", brain.PlatformTelegram, memAlice, edit(func(m *brain.Memory) { m.Text = "başka" })},
	} {
		err := s.Remember(ctx, c.p, c.user, c.ms)
		if err == nil {
			t.Errorf("Remember(%s): got no error, want one", c.name)
		} else if errors.Is(err, brain.ErrMemoryUnavailable) {
			t.Errorf("Remember(%s): got %v, want an error that is not ErrMemoryUnavailable", c.name, err)
		}
	}
	if got := top(t, s, brain.PlatformTelegram, memAlice, good.Text, 10); len(got) != 0 {
		t.Errorf("Top after refused writes: got %q, want none (a refused write stores nothing)", memIDs(got))
	}
	for _, c := range []struct {
		name string
		p    brain.Platform
		user string
	}{{"empty platform", "", memAlice}, {"empty user id", brain.PlatformTelegram, ""}} {
		if _, err := s.Top(ctx, c.p, c.user, "merhaba", 3); err == nil {
			t.Errorf("Top(%s): got no error, want one", c.name)
		}
		if err := s.ForgetUser(ctx, c.p, c.user); err == nil {
			t.Errorf("ForgetUser(%s): got no error, want one", c.name)
		}
	}
	if _, err := s.Top(ctx, brain.PlatformTelegram, memAlice, "bozuk \xff", 3); err == nil {
		t.Error("Top with invalid UTF-8 text: got no error, want one")
	}
}

func testMemConcurrent(t *testing.T, s LongTermMemory) {
	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ms []brain.Memory
			for i := range each {
				ms = append(ms, mem(fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("yazar %d anı %d", w, i), i))
			}
			errs <- s.Remember(context.Background(), brain.PlatformDiscord, memBob, ms)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Remember: %v", err)
		}
	}
	if got := top(t, s, brain.PlatformDiscord, memBob, "yazar anı", 100); len(got) != writers*each {
		t.Errorf("Top after %d concurrent writers: got %d memories, want %d", writers, len(got), writers*each)
	}
}

func testMemList(t *testing.T, s LongTermMemory) {
	ctx := context.Background()
	list := func(p brain.Platform, user string, limit int) []brain.Memory {
		t.Helper()
		got, err := s.List(ctx, p, user, limit)
		if err != nil {
			t.Fatalf("List(%s, %s, %d): %v", p, user, limit, err)
		}
		return got
	}
	if got := list(brain.PlatformTelegram, memAlice, 10); len(got) != 0 {
		t.Errorf("List of a user with no memories = %v, want none", memIDs(got))
	}
	remember(t, s, brain.PlatformTelegram, memAlice,
		mem("old", "eski bir anı", 10, "a"),
		mem("new", "en yeni anı", 30, "b", "c"),
		mem("mid-b", "ortadaki anı b", 20),
		mem("mid-a", "ortadaki anı a", 20))
	remember(t, s, brain.PlatformDiscord, memAlice, mem("other", "başka platform", 40))
	got := list(brain.PlatformTelegram, memAlice, 10)
	if want := []string{"new", "mid-a", "mid-b", "old"}; !slices.Equal(memIDs(got), want) {
		t.Errorf("List order = %v, want %v (newest first, ties by id)", memIDs(got), want)
	}
	if len(got) > 0 && (got[0].Text != "en yeni anı" || !slices.Equal(got[0].Tags, []string{"b", "c"}) || !got[0].Time.Equal(T0.Add(30*time.Second))) {
		t.Errorf("List first = %+v, want the whole memory", got[0])
	}
	if got := list(brain.PlatformTelegram, memAlice, 2); !slices.Equal(memIDs(got), []string{"new", "mid-a"}) {
		t.Errorf("List limit 2 = %v", memIDs(got))
	}
	if got := list(brain.PlatformTelegram, memAlice, 0); len(got) != 0 {
		t.Errorf("List limit 0 = %v, want none", memIDs(got))
	}
	if _, err := s.List(ctx, brain.PlatformTelegram, "", 10); err == nil {
		t.Error("List accepted an empty user id")
	}
}
