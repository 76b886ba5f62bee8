package braintest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// T0 is the time the History contract's messages start at.
var T0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// TestHistory is the contract of brain.History. newHistory must return an
// empty History of its own for each call; the subtests run in parallel.
func TestHistory(t *testing.T, newHistory func(t *testing.T) brain.History) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, h brain.History)
	}{
		{"empty history", testEmpty},
		{"recent returns the last n oldest first", testRecentOrder},
		{"conversations are isolated per user, chat and platform", testIsolation},
		{"reset hides earlier messages but keeps them", testReset},
		{"delete user removes only that user", testDeleteUser},
		{"between includes from and excludes to", testBetween},
		{"decision, tokens and latency round-trip", testRoundTrip},
		{"Turkish text and emoji round-trip", testUnicode},
		{"identity keeps the latest name and chat kind", testIdentity},
		{"returned records are copies", testCopies},
		{"invalid records are refused", testInvalid},
		{"concurrent appends get distinct ids", testConcurrent},
		{"a ref is stored once per chat", testDuplicateRef},
		{"unanswered lists user messages no reply names", testUnanswered},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newHistory(t))
		})
	}
}

var (
	alice   = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "100", UserID: "100"}
	bob     = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "200", UserID: "200"}
	aliceG  = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-500", UserID: "100"}
	bobG    = brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-500", UserID: "200"}
	aliceDC = brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "100", UserID: "100"}
)

// rec is a user message of k with text at T0 plus sec seconds.
func rec(k brain.ConvKey, text string, sec int) *brain.Record {
	return &brain.Record{Key: k, ChatKind: brain.ChatPrivate, UserName: "Ayşe", Role: brain.RoleUser,
		Text: text, PlatformMessageID: fmt.Sprint(sec), Time: T0.Add(time.Duration(sec) * time.Second)}
}

// add appends records and fails the test on an error.
func add(t *testing.T, h brain.History, rs ...*brain.Record) {
	t.Helper()
	for _, r := range rs {
		if err := h.Append(context.Background(), r); err != nil {
			t.Fatalf("Append(%q): %v", r.Text, err)
		}
		if r.ID <= 0 {
			t.Fatalf("Append(%q) set ID %d, want > 0", r.Text, r.ID)
		}
	}
}

func recent(t *testing.T, h brain.History, k brain.ConvKey, n int) []brain.Record {
	t.Helper()
	got, err := h.Recent(context.Background(), k, n)
	if err != nil {
		t.Fatalf("Recent(%s, %d): %v", k, n, err)
	}
	return got
}

func between(t *testing.T, h brain.History, from, to time.Time) []brain.Record {
	t.Helper()
	got, err := h.Between(context.Background(), from, to)
	if err != nil {
		t.Fatalf("Between(%s, %s): %v", from, to, err)
	}
	return got
}

func texts(rs []brain.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}

func wantTexts(t *testing.T, what string, got []brain.Record, want ...string) {
	t.Helper()
	if g := texts(got); !reflect.DeepEqual(g, want) && !(len(g) == 0 && len(want) == 0) {
		t.Errorf("%s: got %q, want %q", what, g, want)
	}
}

// sameRecord compares every field; times by instant.
func sameRecord(t *testing.T, what string, got, want brain.Record) {
	t.Helper()
	if !got.Time.Equal(want.Time) {
		t.Errorf("%s: Time got %s, want %s", what, got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v (decision %+v)\n want %+v (decision %+v)", what, got, got.Decision, want, want.Decision)
	}
}

func testEmpty(t *testing.T, h brain.History) {
	ctx := context.Background()
	if got := recent(t, h, alice, 20); len(got) != 0 {
		t.Errorf("Recent on an empty history: got %d records, want 0", len(got))
	}
	if got := between(t, h, T0.Add(-time.Hour), T0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("Between on an empty history: got %d records, want 0", len(got))
	}
	if err := h.Reset(ctx, alice); err != nil {
		t.Errorf("Reset of an unknown conversation: %v", err)
	}
	n, err := h.DeleteUser(ctx, alice.Platform, alice.UserID)
	if err != nil || n != 0 {
		t.Errorf("DeleteUser of an unknown user: got %d, %v; want 0, nil", n, err)
	}
}

func testRecentOrder(t *testing.T, h brain.History) {
	var last int64
	for i := 1; i <= 5; i++ {
		r := rec(alice, fmt.Sprintf("m%d", i), i)
		add(t, h, r)
		if r.ID <= last {
			t.Errorf("ID of message %d: got %d, want more than %d", i, r.ID, last)
		}
		last = r.ID
	}
	for _, c := range []struct {
		n    int
		want []string
	}{
		{1, []string{"m5"}},
		{3, []string{"m3", "m4", "m5"}},
		{5, []string{"m1", "m2", "m3", "m4", "m5"}},
		{1000, []string{"m1", "m2", "m3", "m4", "m5"}},
		{0, nil},
	} {
		wantTexts(t, fmt.Sprintf("Recent(n=%d)", c.n), recent(t, h, alice, c.n), c.want...)
	}
}

func testIsolation(t *testing.T, h brain.History) {
	add(t, h, rec(alice, "alice private", 1), rec(bob, "bob private", 2), rec(aliceG, "alice group", 3),
		rec(bobG, "bob group", 4), rec(aliceDC, "alice discord", 5))
	for _, c := range []struct {
		k    brain.ConvKey
		want string
	}{
		{alice, "alice private"}, {bob, "bob private"}, {aliceG, "alice group"}, {bobG, "bob group"},
		{aliceDC, "alice discord"},
	} {
		wantTexts(t, "Recent("+c.k.String()+")", recent(t, h, c.k, 10), c.want)
	}
	stranger := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-500", UserID: "300"}
	wantTexts(t, "Recent of a user who never wrote in a known chat", recent(t, h, stranger, 10))
}

func testReset(t *testing.T, h brain.History) {
	ctx := context.Background()
	add(t, h, rec(alice, "old1", 1), rec(alice, "old2", 2), rec(aliceG, "group", 3))
	if err := h.Reset(ctx, alice); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	wantTexts(t, "Recent right after Reset", recent(t, h, alice, 10))
	wantTexts(t, "Recent of another chat of the same user", recent(t, h, aliceG, 10), "group")
	add(t, h, rec(alice, "new1", 4), rec(alice, "new2", 5))
	wantTexts(t, "Recent after Reset and two messages", recent(t, h, alice, 10), "new1", "new2")
	wantTexts(t, "Between after Reset (every message stays stored)",
		between(t, h, T0, T0.Add(time.Hour)), "old1", "old2", "group", "new1", "new2")
	if err := h.Reset(ctx, alice); err != nil {
		t.Fatalf("second Reset: %v", err)
	}
	if err := h.Reset(ctx, alice); err != nil {
		t.Fatalf("Reset with nothing new: %v", err)
	}
	wantTexts(t, "Recent after a second Reset", recent(t, h, alice, 10))
	add(t, h, rec(alice, "newest", 6))
	wantTexts(t, "Recent after the second Reset and a message", recent(t, h, alice, 10), "newest")
}

func testDeleteUser(t *testing.T, h brain.History) {
	ctx := context.Background()
	reply := rec(alice, "reply to alice", 2)
	reply.Role, reply.Decision = brain.RoleAssistant, &brain.Decision{Expert: "tr_chat", Model: "m", Confidence: 0.9}
	add(t, h, rec(alice, "a1", 1), reply, rec(aliceG, "a group", 3), rec(bobG, "b group", 4),
		rec(bob, "b private", 5), rec(aliceDC, "a discord", 6))
	if err := h.Reset(ctx, aliceG); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	n, err := h.DeleteUser(ctx, brain.PlatformTelegram, alice.UserID)
	if err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if n != 3 {
		t.Errorf("DeleteUser count: got %d, want 3", n)
	}
	wantTexts(t, "Recent of the deleted user", recent(t, h, alice, 10))
	wantTexts(t, "Recent of the deleted user in the group", recent(t, h, aliceG, 10))
	wantTexts(t, "Recent of another user in the same group", recent(t, h, bobG, 10), "b group")
	wantTexts(t, "Recent of the same user id on another platform", recent(t, h, aliceDC, 10), "a discord")
	wantTexts(t, "Between after DeleteUser", between(t, h, T0, T0.Add(time.Hour)), "b group", "b private", "a discord")
	if n, err := h.DeleteUser(ctx, brain.PlatformTelegram, alice.UserID); err != nil || n != 0 {
		t.Errorf("second DeleteUser: got %d, %v; want 0, nil", n, err)
	}
	back := rec(aliceG, "back again", 7)
	back.UserName = "Yeni İsim"
	add(t, h, back)
	got := recent(t, h, aliceG, 10)
	wantTexts(t, "Recent of a deleted user who writes again", got, "back again")
	if len(got) == 1 && got[0].UserName != "Yeni İsim" {
		t.Errorf("user name after coming back: got %q, want %q", got[0].UserName, "Yeni İsim")
	}
}

func testBetween(t *testing.T, h brain.History) {
	// Stored out of time order, as when messages kept during an outage are
	// written later.
	add(t, h, rec(alice, "t2", 2), rec(bob, "t0", 0), rec(aliceG, "t3", 3), rec(alice, "t1", 1),
		rec(bobG, "t4", 4))
	for _, c := range []struct {
		name     string
		from, to int
		want     []string
	}{
		{"all", 0, 5, []string{"t0", "t1", "t2", "t3", "t4"}},
		{"from is included, to is not", 1, 3, []string{"t1", "t2"}},
		{"one second", 4, 5, []string{"t4"}},
		{"empty range", 2, 2, nil},
		{"reversed range", 3, 1, nil},
		{"after every message", 5, 9, nil},
	} {
		from, to := T0.Add(time.Duration(c.from)*time.Second), T0.Add(time.Duration(c.to)*time.Second)
		wantTexts(t, "Between "+c.name, between(t, h, from, to), c.want...)
	}
	// The same instants in another zone.
	ist := time.FixedZone("TRT", 3*3600)
	wantTexts(t, "Between in +03:00", between(t, h, T0.Add(time.Second).In(ist), T0.Add(3*time.Second).In(ist)), "t1", "t2")
}

func testRoundTrip(t *testing.T, h brain.History) {
	user := brain.Record{Key: aliceG, ChatKind: brain.ChatGroup, UserName: "Ayşe", Role: brain.RoleUser,
		Text: "sıralama algoritması yaz", PlatformMessageID: "7781", Time: T0.Add(123456 * time.Microsecond)}
	answer := brain.Record{Key: aliceG, ChatKind: brain.ChatGroup, UserName: "Ayşe", Role: brain.RoleAssistant,
		Text: "```python\nsorted(x)\n```",
		Decision: &brain.Decision{Expert: "python_coder", Model: "evo-python", Confidence: 0.8125,
			RunnerUp: "tr_chat", RunnerUpConfidence: 0.125},
		PromptTokens: 812, ReplyTokens: 64, Latency: 2345 * time.Millisecond, Time: T0.Add(3 * time.Second)}
	fallback := brain.Record{Key: aliceG, ChatKind: brain.ChatGroup, UserName: "Ayşe", Role: brain.RoleAssistant,
		Text: "model yanıt vermedi",
		Decision: &brain.Decision{Expert: brain.BaseExpert, Model: "qwen2.5:3b-instruct", Confidence: 0.25,
			Fallback: true, Candidate: "tr_chat"},
		Failed: true, Latency: time.Minute, Time: T0.Add(4 * time.Second)}
	forced := brain.Record{Key: aliceG, ChatKind: brain.ChatGroup, UserName: "Ayşe", Role: brain.RoleAssistant,
		Text: "tamam", Decision: &brain.Decision{Expert: "tr_chat", Model: "evo-tr", Confidence: 1, Forced: true},
		Time: T0.Add(5 * time.Second)}
	want := []brain.Record{user, answer, fallback, forced}
	for i := range want {
		r := clone(want[i])
		add(t, h, &r)
		want[i].ID = r.ID
	}
	got := recent(t, h, aliceG, 10)
	if len(got) != len(want) {
		t.Fatalf("Recent: got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		sameRecord(t, fmt.Sprintf("Recent record %d", i), got[i], want[i])
	}
	got = between(t, h, T0, T0.Add(time.Hour))
	if len(got) != len(want) {
		t.Fatalf("Between: got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		sameRecord(t, fmt.Sprintf("Between record %d", i), got[i], want[i])
	}
}

func testUnicode(t *testing.T, h brain.History) {
	const text = "Çığ düştü, şoför ağır yükü İĞDIR'a götürdü; ıslak öğün. 🙂👍🏽👨‍👩‍👧 — ‘tırnak’ \"çift\" \\ \t sekme\nyeni satır 日本語"
	r := rec(alice, text, 1)
	r.UserName = "Şükrü Öztürk 🎉"
	r.PlatformMessageID = "ileti-ğüşiöç"
	add(t, h, r)
	for what, got := range map[string][]brain.Record{
		"Recent":  recent(t, h, alice, 1),
		"Between": between(t, h, T0, T0.Add(time.Hour)),
	} {
		if len(got) != 1 {
			t.Errorf("%s: got %d records, want 1", what, len(got))
			continue
		}
		if got[0].Text != text || got[0].UserName != r.UserName || got[0].PlatformMessageID != r.PlatformMessageID {
			t.Errorf("%s: got %q by %q (%q), want %q by %q (%q)", what, got[0].Text, got[0].UserName,
				got[0].PlatformMessageID, text, r.UserName, r.PlatformMessageID)
		}
	}
}

func testIdentity(t *testing.T, h brain.History) {
	first := rec(aliceG, "merhaba", 1)
	first.UserName, first.ChatKind, first.Handle = "Ali", brain.ChatGroup, "ali_eski"
	second := rec(aliceG, "nasılsın", 2)
	second.UserName, second.ChatKind, second.Handle = "Ali Veli", "", "ali_veli"
	third := rec(aliceG, "ben", 3)
	third.UserName = ""
	third.ChatKind = ""
	add(t, h, first, second, third)
	for _, r := range recent(t, h, aliceG, 10) {
		if r.UserName != "Ali Veli" || r.ChatKind != brain.ChatGroup || r.Handle != "ali_veli" {
			t.Errorf("record %q: got name %q kind %q handle %q, want %q %q %q", r.Text, r.UserName, r.ChatKind, r.Handle,
				"Ali Veli", brain.ChatGroup, "ali_veli")
		}
	}
}

// UserFinderHistory is a History that finds its users (brain.UserFinder).
type UserFinderHistory interface {
	brain.History
	brain.UserFinder
}

// TestUserFinder is the contract of brain.UserFinder over a History's
// users. newHistory must return an empty History of its own for each
// call; the subtests run in parallel.
func TestUserFinder(t *testing.T, newHistory func(t *testing.T) UserFinderHistory) {
	t.Helper()
	ctx := context.Background()
	user := func(k brain.ConvKey, name, handle string) *brain.Record {
		r := rec(k, "merhaba", 1)
		r.UserName, r.Handle = name, handle
		return r
	}
	seed := func(t *testing.T, h UserFinderHistory) {
		t.Helper()
		add(t, h,
			user(brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "42", UserID: "42"}, "Ayşe Yılmaz", "ayse"),
			user(brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "43", UserID: "43"}, "Mehmet", "Memo"),
			user(brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "44", UserID: "44"}, "Mehmet", ""),
			user(brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "45", UserID: "45"}, "ayse", ""),
			user(brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "46", UserID: "46"}, "46", "kirk_alti"),
			user(brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "d1", UserID: "900"}, "Mehmet", "ayse"),
		)
	}
	ids := func(ms []brain.UserMatch) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, string(m.Platform)+":"+m.UserID)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		p     brain.Platform
		query string
		want  []string
	}{
		{"by id", brain.PlatformTelegram, "43", []string{"telegram:43"}},
		{"by @username, case-insensitively", brain.PlatformTelegram, "@MEMO", []string{"telegram:43"}},
		{"@ matches the username only", brain.PlatformTelegram, "@ayse", []string{"telegram:42"}},
		{"a bare word matches username and display name", brain.PlatformTelegram, "ayse", []string{"telegram:42", "telegram:45"}},
		{"by display name, Turkish letters", brain.PlatformTelegram, "Ayşe Yılmaz", []string{"telegram:42"}},
		{"by display name, case-insensitively", brain.PlatformTelegram, "mehmet", []string{"telegram:43", "telegram:44"}},
		{"a name that is an id", brain.PlatformTelegram, "46", []string{"telegram:46"}},
		{"within the platform only", brain.PlatformDiscord, "ayse", []string{"discord:900"}},
		{"nobody", brain.PlatformTelegram, "kimse", []string{}},
		{"no partial matches", brain.PlatformTelegram, "Ayşe", []string{}},
		{"empty query: every user of the platform", brain.PlatformTelegram, "", []string{"telegram:42", "telegram:43", "telegram:44", "telegram:45", "telegram:46"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHistory(t)
			seed(t, h)
			got, err := h.FindUsers(ctx, c.p, c.query)
			if err != nil {
				t.Fatalf("FindUsers(%s, %q): %v", c.p, c.query, err)
			}
			if g := ids(got); !reflect.DeepEqual(g, c.want) {
				t.Errorf("FindUsers(%s, %q) = %v, want %v", c.p, c.query, g, c.want)
			}
		})
	}
	t.Run("a match carries the name and username", func(t *testing.T) {
		t.Parallel()
		h := newHistory(t)
		seed(t, h)
		got, err := h.FindUsers(ctx, brain.PlatformTelegram, "42")
		want := []brain.UserMatch{{Platform: brain.PlatformTelegram, UserID: "42", Name: "Ayşe Yılmaz", Handle: "ayse"}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("FindUsers = %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("a deleted user is not found", func(t *testing.T) {
		t.Parallel()
		h := newHistory(t)
		seed(t, h)
		if _, err := h.DeleteUser(ctx, brain.PlatformTelegram, "42"); err != nil {
			t.Fatal(err)
		}
		got, err := h.FindUsers(ctx, brain.PlatformTelegram, "@ayse")
		if err != nil || len(got) != 0 {
			t.Errorf("FindUsers after DeleteUser = %+v, %v; want none", got, err)
		}
	})
}

func testCopies(t *testing.T, h brain.History) {
	r := rec(alice, "özgün", 1)
	r.Role, r.Decision = brain.RoleAssistant, &brain.Decision{Expert: "tr_chat", Model: "evo-tr", Confidence: 0.9}
	add(t, h, r)
	r.Text, r.Decision.Expert = "değişti", "python_coder"
	got := recent(t, h, alice, 1)
	if len(got) != 1 || got[0].Text != "özgün" || got[0].Decision == nil || got[0].Decision.Expert != "tr_chat" {
		t.Fatalf("after changing the appended record: got %+v, want the original", got)
	}
	got[0].Text, got[0].Decision.Expert = "değişti", "python_coder"
	again := recent(t, h, alice, 1)
	if again[0].Text != "özgün" || again[0].Decision.Expert != "tr_chat" {
		t.Errorf("after changing a returned record: got %q by %q, want %q by %q",
			again[0].Text, again[0].Decision.Expert, "özgün", "tr_chat")
	}
}

func testInvalid(t *testing.T, h brain.History) {
	ctx := context.Background()
	edit := func(f func(r *brain.Record)) *brain.Record {
		r := rec(alice, "geçerli", 1)
		f(r)
		return r
	}
	for _, c := range []struct {
		name string
		r    *brain.Record
	}{
		{"nil record", nil},
		{"empty platform", edit(func(r *brain.Record) { r.Key.Platform = "" })},
		{"empty chat id", edit(func(r *brain.Record) { r.Key.ChatID = "" })},
		{"empty user id", edit(func(r *brain.Record) { r.Key.UserID = "" })},
		{"system role", edit(func(r *brain.Record) { r.Role = brain.RoleSystem })},
		{"empty role", edit(func(r *brain.Record) { r.Role = "" })},
		{"zero time", edit(func(r *brain.Record) { r.Time = time.Time{} })},
		{"invalid UTF-8 text", edit(func(r *brain.Record) { r.Text = "bozuk \xff\xfe metin" })},
		{"NUL in text", edit(func(r *brain.Record) { r.Text = "a\x00b" })},
		{"invalid UTF-8 user name", edit(func(r *brain.Record) { r.UserName = "\xc3" })},
		{"invalid UTF-8 user id", edit(func(r *brain.Record) { r.Key.UserID = "\xc3\x28" })},
		{"NUL in expert", edit(func(r *brain.Record) { r.Decision = &brain.Decision{Expert: "x\x00"} })},
	} {
		err := h.Append(ctx, c.r)
		if err == nil {
			t.Errorf("Append(%s): got no error, want one", c.name)
		} else if errors.Is(err, brain.ErrStoreUnavailable) {
			t.Errorf("Append(%s): got %v, want an error that is not ErrStoreUnavailable", c.name, err)
		}
	}
	wantTexts(t, "Between after refused appends", between(t, h, time.Time{}.Add(time.Hour), T0.Add(time.Hour)))
	for _, k := range []brain.ConvKey{{}, {Platform: brain.PlatformTelegram, UserID: "1"}} {
		if _, err := h.Recent(ctx, k, 10); err == nil {
			t.Errorf("Recent(%q): got no error, want one", k.String())
		}
		if err := h.Reset(ctx, k); err == nil {
			t.Errorf("Reset(%q): got no error, want one", k.String())
		}
	}
	if _, err := h.DeleteUser(ctx, brain.PlatformTelegram, ""); err == nil {
		t.Error("DeleteUser with an empty user id: got no error, want one")
	}
}

func testConcurrent(t *testing.T, h brain.History) {
	const writers, each = 4, 10
	ids := make(chan int64, writers*each)
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := rec(aliceG, fmt.Sprintf("w%d-%d", w, i), w*each+i)
				if err := h.Append(context.Background(), r); err != nil {
					errs <- err
					return
				}
				ids <- r.ID
			}
		}()
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append: %v", err)
	}
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("ID %d given twice", id)
		}
		seen[id] = true
	}
	if got := recent(t, h, aliceG, 1000); len(got) != writers*each {
		t.Errorf("Recent after concurrent appends: got %d records, want %d", len(got), writers*each)
	}
}

func testDuplicateRef(t *testing.T, h brain.History) {
	ctx := context.Background()
	first := rec(alice, "merhaba", 1)
	first.Ref = "m:1"
	add(t, h, first)
	again := rec(alice, "merhaba (yeniden)", 2)
	again.Ref = "m:1"
	err := h.Append(ctx, again)
	if !errors.Is(err, brain.ErrDuplicate) {
		t.Fatalf("Append of a stored ref: got %v, want ErrDuplicate", err)
	}
	if again.ID != first.ID {
		t.Errorf("duplicate's ID: got %d, want the stored %d", again.ID, first.ID)
	}
	// The same ref in another chat, on another platform, and empty refs
	// are different messages.
	other := rec(bob, "selam", 3)
	other.Ref = "m:1"
	otherDC := rec(aliceDC, "selam", 4)
	otherDC.Ref = "m:1"
	add(t, h, other, otherDC, rec(alice, "boş ref", 5), rec(alice, "boş ref", 6))
	wantTexts(t, "alice's conversation", recent(t, h, alice, 10), "merhaba", "boş ref", "boş ref")
	wantTexts(t, "bob's conversation", recent(t, h, bob, 10), "selam")
	// A group: two users' messages share the chat, so one ref is one message.
	g1 := rec(aliceG, "grup", 7)
	g1.Ref = "m:9"
	add(t, h, g1)
	g2 := rec(bobG, "grup kopya", 8)
	g2.Ref = "m:9"
	if err := h.Append(ctx, g2); !errors.Is(err, brain.ErrDuplicate) {
		t.Errorf("same ref in the same chat from another user: got %v, want ErrDuplicate", err)
	}
}

func testUnanswered(t *testing.T, h brain.History) {
	ctx := context.Background()
	mk := func(k brain.ConvKey, role brain.Role, text, ref, replyTo string, sec int) *brain.Record {
		r := rec(k, text, sec)
		r.Role, r.Ref, r.ReplyTo = role, ref, replyTo
		return r
	}
	add(t, h,
		mk(alice, brain.RoleUser, "eski", "m:1", "", 1),                           // before since
		mk(alice, brain.RoleUser, "cevaplandı", "m:2", "", 10),                    // answered below
		mk(alice, brain.RoleUser, "bekliyor 1", "m:3", "", 11),                    // queued behind m:2
		mk(alice, brain.RoleAssistant, "cevap", "a:m:2", "m:2", 12),               // answers m:2 only
		mk(bob, brain.RoleUser, "bob bekliyor", "m:3", "", 13),                    // same ref, other chat
		mk(alice, brain.RoleUser, "ref yok", "", "", 14),                          // no ref: never resumed
		mk(aliceG, brain.RoleUser, "grupta bekliyor", "m:5", "", 15),              // unanswered
		mk(bob, brain.RoleAssistant, "başka sohbetin cevabı", "a:m:9", "m:9", 16), // answers nothing here
	)
	got, err := h.Unanswered(ctx, T0.Add(5*time.Second))
	if err != nil {
		t.Fatalf("Unanswered: %v", err)
	}
	wantTexts(t, "unanswered", got, "bekliyor 1", "bob bekliyor", "grupta bekliyor")
	for _, r := range got {
		if r.Ref == "" || r.Role != brain.RoleUser {
			t.Errorf("unanswered record %q: ref %q role %q", r.Text, r.Ref, r.Role)
		}
	}
	add(t, h, mk(alice, brain.RoleAssistant, "geç cevap", "a:m:3", "m:3", 17))
	got, err = h.Unanswered(ctx, T0.Add(5*time.Second))
	if err != nil {
		t.Fatalf("Unanswered: %v", err)
	}
	wantTexts(t, "unanswered after the late reply", got, "bob bekliyor", "grupta bekliyor")
}
