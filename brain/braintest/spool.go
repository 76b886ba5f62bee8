package braintest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// TestSpool is the contract of brain.Spool. open must return an empty
// spool of its own for each call; the subtests run in parallel.
func TestSpool(t *testing.T, open func(t *testing.T) brain.Spool) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s brain.Spool)
	}{
		{"empty spool", testSpoolEmpty},
		{"records come out in the order they went in", testSpoolOrder},
		{"head does not remove and returns a copy", testSpoolHead},
		{"has follows each conversation's waiting records", testSpoolHas},
		{"remove user removes only that user and keeps the order", testSpoolRemoveUser},
		{"a pop after remove user took the head removes nothing else", testSpoolRemoveHeadThenPop},
		{"every field round-trips", testSpoolRoundTrip},
		{"invalid records are refused", testSpoolInvalid},
		{"concurrent puts are all kept", testSpoolConcurrentPuts},
		{"puts and pops at once", testSpoolProducerConsumer},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
}

// SpoolRecord is a user message of k with text at T0 plus sec seconds and
// a Ref, as the brain spools it.
func SpoolRecord(k brain.ConvKey, text string, sec int) brain.Record {
	r := *rec(k, text, sec)
	r.Ref = "m:" + r.PlatformMessageID
	return r
}

// SpoolPut puts the records and fails the test on an error.
func SpoolPut(t *testing.T, s brain.Spool, rs ...brain.Record) {
	t.Helper()
	for _, r := range rs {
		if err := s.Put(context.Background(), r); err != nil {
			t.Fatalf("Put(%q): %v", r.Text, err)
		}
	}
}

// SpoolDrain pops every record, checking Head and Len on the way, and
// returns them oldest first.
func SpoolDrain(t *testing.T, s brain.Spool) []brain.Record {
	t.Helper()
	ctx := context.Background()
	var out []brain.Record
	for n := s.Len(); n > 0; n-- {
		r, ok, err := s.Head(ctx)
		if err != nil || !ok {
			t.Fatalf("Head with Len %d: got ok %v, err %v; want a record", n, ok, err)
		}
		if err := s.Pop(ctx); err != nil {
			t.Fatalf("Pop with Len %d: %v", n, err)
		}
		if got := s.Len(); got != n-1 {
			t.Fatalf("Len after Pop: got %d, want %d", got, n-1)
		}
		out = append(out, r)
	}
	if _, ok, err := s.Head(ctx); ok || err != nil {
		t.Fatalf("Head after draining: got ok %v, err %v; want false, nil", ok, err)
	}
	return out
}

func testSpoolEmpty(t *testing.T, s brain.Spool) {
	ctx := context.Background()
	if n := s.Len(); n != 0 {
		t.Errorf("Len: got %d, want 0", n)
	}
	if r, ok, err := s.Head(ctx); ok || err != nil {
		t.Errorf("Head: got %+v, %v, %v; want false, nil", r, ok, err)
	}
	if s.Has(alice) {
		t.Error("Has(alice): got true, want false")
	}
	if err := s.Pop(ctx); err == nil {
		t.Error("Pop on an empty spool: got no error, want one")
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len after a failed Pop: got %d, want 0", n)
	}
	if n, err := s.RemoveUser(ctx, alice.Platform, alice.UserID); n != 0 || err != nil {
		t.Errorf("RemoveUser: got %d, %v; want 0, nil", n, err)
	}
}

func testSpoolOrder(t *testing.T, s brain.Spool) {
	// Conversations interleave and times are not in order: the spool keeps
	// the order of Put, not of Time.
	SpoolPut(t, s, SpoolRecord(alice, "m1", 5), SpoolRecord(bob, "m2", 1), SpoolRecord(alice, "m3", 3))
	if n := s.Len(); n != 3 {
		t.Errorf("Len after 3 puts: got %d, want 3", n)
	}
	ctx := context.Background()
	first, ok, err := s.Head(ctx)
	if err != nil || !ok {
		t.Fatalf("Head: got ok %v, err %v; want a record", ok, err)
	}
	if err := s.Pop(ctx); err != nil {
		t.Fatalf("Pop: %v", err)
	}
	SpoolPut(t, s, SpoolRecord(aliceG, "m4", 4))
	got := append([]brain.Record{first}, SpoolDrain(t, s)...)
	wantTexts(t, "drained", got, "m1", "m2", "m3", "m4")
	SpoolPut(t, s, SpoolRecord(alice, "m5", 5), SpoolRecord(bob, "m6", 6))
	wantTexts(t, "drained after the spool ran empty", SpoolDrain(t, s), "m5", "m6")
}

func testSpoolHead(t *testing.T, s brain.Spool) {
	ctx := context.Background()
	first := SpoolRecord(alice, "ilk", 1)
	first.Role, first.Decision = brain.RoleAssistant, &brain.Decision{Expert: "tr_chat", Model: "evo-tr", Confidence: 0.9}
	SpoolPut(t, s, first, SpoolRecord(alice, "ikinci", 2))
	first.Text, first.Decision.Expert = "değişti", "python_coder" // the caller's copy
	for i := range 2 {
		r, ok, err := s.Head(ctx)
		if err != nil || !ok {
			t.Fatalf("Head %d: got ok %v, err %v", i, ok, err)
		}
		if r.Text != "ilk" || r.Decision == nil || r.Decision.Expert != "tr_chat" {
			t.Fatalf("Head %d: got %q by %+v, want %q by tr_chat", i, r.Text, r.Decision, "ilk")
		}
		r.Text, r.Decision.Expert = "değişti", "python_coder" // the returned copy
	}
	if n := s.Len(); n != 2 {
		t.Errorf("Len after two Heads: got %d, want 2", n)
	}
}

func testSpoolHas(t *testing.T, s brain.Spool) {
	ctx := context.Background()
	SpoolPut(t, s, SpoolRecord(alice, "a1", 1), SpoolRecord(bob, "b1", 2), SpoolRecord(alice, "a2", 3))
	check := func(when string, want map[brain.ConvKey]bool) {
		t.Helper()
		for _, k := range []brain.ConvKey{alice, bob, aliceG, bobG, aliceDC} {
			if got := s.Has(k); got != want[k] {
				t.Errorf("%s: Has(%s) got %v, want %v", when, k, got, want[k])
			}
		}
	}
	check("after puts", map[brain.ConvKey]bool{alice: true, bob: true})
	for _, c := range []struct {
		when string
		want map[brain.ConvKey]bool
	}{
		{"after popping a1", map[brain.ConvKey]bool{alice: true, bob: true}},
		{"after popping b1", map[brain.ConvKey]bool{alice: true}},
		{"after popping a2", map[brain.ConvKey]bool{}},
	} {
		if err := s.Pop(ctx); err != nil {
			t.Fatalf("Pop: %v", err)
		}
		check(c.when, c.want)
	}
	SpoolPut(t, s, SpoolRecord(bobG, "b2", 4))
	check("after a put to an empty spool", map[brain.ConvKey]bool{bobG: true})
}

func testSpoolRemoveUser(t *testing.T, s brain.Spool) {
	ctx := context.Background()
	SpoolPut(t, s, SpoolRecord(alice, "a1", 1), SpoolRecord(bob, "b1", 2), SpoolRecord(aliceG, "a group", 3),
		SpoolRecord(bobG, "b group", 4), SpoolRecord(aliceDC, "a discord", 5), SpoolRecord(alice, "a2", 6),
		SpoolRecord(bob, "b2", 7))
	if err := s.Pop(ctx); err != nil { // a1: stored already, not counted
		t.Fatalf("Pop: %v", err)
	}
	for _, c := range []struct {
		name    string
		p       brain.Platform
		userID  string
		wantN   int
		wantLen int
	}{
		{"alice on telegram", brain.PlatformTelegram, alice.UserID, 2, 4},
		{"alice again", brain.PlatformTelegram, alice.UserID, 0, 4},
		{"a user who never wrote", brain.PlatformTelegram, "999", 0, 4},
	} {
		n, err := s.RemoveUser(ctx, c.p, c.userID)
		if err != nil {
			t.Fatalf("RemoveUser(%s): %v", c.name, err)
		}
		if n != c.wantN || s.Len() != c.wantLen {
			t.Errorf("RemoveUser(%s): got %d removed, Len %d; want %d, %d", c.name, n, s.Len(), c.wantN, c.wantLen)
		}
	}
	for _, k := range []brain.ConvKey{alice, aliceG} {
		if s.Has(k) {
			t.Errorf("Has(%s) after RemoveUser: got true, want false", k)
		}
	}
	for _, k := range []brain.ConvKey{bob, bobG, aliceDC} {
		if !s.Has(k) {
			t.Errorf("Has(%s) after RemoveUser of another user: got false, want true", k)
		}
	}
	if _, err := s.RemoveUser(ctx, brain.PlatformTelegram, ""); err == nil {
		t.Error("RemoveUser with an empty user id: got no error, want one")
	}
	wantTexts(t, "drained after RemoveUser", SpoolDrain(t, s), "b1", "b group", "a discord", "b2")
	if n, err := s.RemoveUser(ctx, brain.PlatformDiscord, aliceDC.UserID); n != 0 || err != nil {
		t.Errorf("RemoveUser on the drained spool: got %d, %v; want 0, nil", n, err)
	}
}

func testSpoolRemoveHeadThenPop(t *testing.T, s brain.Spool) {
	// The replay holds the head (Head, then storing it) when /forget
	// removes it: its Pop must not take the next user's record, which is
	// not stored.
	ctx := context.Background()
	SpoolPut(t, s, SpoolRecord(alice, "a1", 1), SpoolRecord(bob, "b1", 2), SpoolRecord(bob, "b2", 3))
	if r, ok, err := s.Head(ctx); err != nil || !ok || r.Text != "a1" {
		t.Fatalf("Head: got %q, %v, %v; want a1", r.Text, ok, err)
	}
	if n, err := s.RemoveUser(ctx, alice.Platform, alice.UserID); n != 1 || err != nil {
		t.Fatalf("RemoveUser: got %d, %v; want 1, nil", n, err)
	}
	if err := s.Pop(ctx); err != nil {
		t.Fatalf("Pop of the removed head: %v", err)
	}
	wantTexts(t, "after Head, RemoveUser of the head's user and Pop", SpoolDrain(t, s), "b1", "b2")

	// RemoveUser that leaves the head alone does not change what Pop does.
	SpoolPut(t, s, SpoolRecord(bob, "b3", 4), SpoolRecord(alice, "a2", 5), SpoolRecord(bob, "b4", 6))
	if r, ok, err := s.Head(ctx); err != nil || !ok || r.Text != "b3" {
		t.Fatalf("Head: got %q, %v, %v; want b3", r.Text, ok, err)
	}
	if n, err := s.RemoveUser(ctx, alice.Platform, alice.UserID); n != 1 || err != nil {
		t.Fatalf("RemoveUser: got %d, %v; want 1, nil", n, err)
	}
	if err := s.Pop(ctx); err != nil {
		t.Fatalf("Pop: %v", err)
	}
	wantTexts(t, "after Head, RemoveUser of another user and Pop", SpoolDrain(t, s), "b4")
}

// SpoolRoundTripRecords are records with every field set, Decision both
// nil and full, and times with nanoseconds in several zones.
func SpoolRoundTripRecords() []brain.Record {
	ist := time.FixedZone("TRT", 3*3600)
	user := brain.Record{Key: aliceG, ChatKind: brain.ChatGroup, UserName: "Şükrü Öztürk 🎉", Role: brain.RoleUser,
		Text:              "sıralama algoritması yaz\nikinci satır \u2028 \"tırnak\" \\ <b>&</b> 👨‍👩‍👧",
		PlatformMessageID: "7781", Time: T0.Add(123456789 * time.Nanosecond).In(ist), Ref: "m:7781"}
	answer := brain.Record{ID: 42, Key: aliceG, ChatKind: brain.ChatGroup, UserName: "Şükrü Öztürk 🎉",
		Role: brain.RoleAssistant, Text: "```python\nsorted(x)\n```",
		Decision: &brain.Decision{Expert: "python_coder", Model: "evo-python", Confidence: 0.8125,
			RunnerUp: "tr_chat", RunnerUpConfidence: 0.1234567890123, Candidate: "python_coder"},
		PromptTokens: 812, ReplyTokens: 64, Latency: 2345678901 * time.Nanosecond, Time: T0.Add(3 * time.Second),
		Ref: "a:m:7781", ReplyTo: "m:7781"}
	failed := brain.Record{Key: bob, ChatKind: brain.ChatPrivate, Role: brain.RoleAssistant, Text: "model yanıt vermedi",
		Decision: &brain.Decision{Expert: brain.BaseExpert, Model: "qwen2.5:3b-instruct", Confidence: 0.25,
			Fallback: true, Candidate: "tr_chat"},
		Failed: true, Latency: time.Minute, Time: time.Date(2025, 12, 31, 23, 59, 59, 999999999, time.FixedZone("UTC+05:45", 5*3600+45*60)),
		Ref: "a:r:x1", ReplyTo: "r:x1"}
	forced := brain.Record{Key: aliceDC, ChatKind: brain.ChatThread, Role: brain.RoleAssistant, Text: "tamam",
		Decision: &brain.Decision{Expert: "tr_chat", Model: "evo-tr", Confidence: 1, Forced: true},
		Time:     T0.Add(5 * time.Second).In(time.FixedZone("", -(9*3600 + 30*60))), Ref: "a:m:9", ReplyTo: "m:9"}
	return []brain.Record{user, answer, failed, forced}
}

func testSpoolRoundTrip(t *testing.T, s brain.Spool) {
	want := SpoolRoundTripRecords()
	SpoolPut(t, s, want...)
	got := SpoolDrain(t, s)
	if len(got) != len(want) {
		t.Fatalf("drained %d records, want %d", len(got), len(want))
	}
	for i := range want {
		sameRecord(t, fmt.Sprintf("record %d", i), got[i], want[i])
	}
}

func testSpoolInvalid(t *testing.T, s brain.Spool) {
	ctx := context.Background()
	edit := func(f func(r *brain.Record)) brain.Record {
		r := SpoolRecord(alice, "geçerli", 1)
		f(&r)
		return r
	}
	for _, c := range []struct {
		name string
		r    brain.Record
	}{
		{"empty user id", edit(func(r *brain.Record) { r.Key.UserID = "" })},
		{"empty role", edit(func(r *brain.Record) { r.Role = "" })},
		{"zero time", edit(func(r *brain.Record) { r.Time = time.Time{} })},
		{"invalid UTF-8 text", edit(func(r *brain.Record) { r.Text = "bozuk \xff metin" })},
	} {
		if err := s.Put(ctx, c.r); err == nil {
			t.Errorf("Put(%s): got no error, want one", c.name)
		}
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len after refused puts: got %d, want 0", n)
	}
}

func testSpoolConcurrentPuts(t *testing.T, s brain.Spool) {
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "g", UserID: fmt.Sprint(w)}
			for i := range each {
				if err := s.Put(context.Background(), SpoolRecord(k, fmt.Sprintf("w%d-%d", w, i), i)); err != nil {
					t.Errorf("concurrent Put: %v", err)
					return
				}
				s.Has(k)
				s.Len()
			}
		}()
	}
	wg.Wait()
	if n := s.Len(); n != writers*each {
		t.Fatalf("Len after concurrent puts: got %d, want %d", n, writers*each)
	}
	checkPerWriterOrder(t, SpoolDrain(t, s), writers, each)
}

func testSpoolProducerConsumer(t *testing.T, s brain.Spool) {
	const writers, each = 4, 25
	ctx := context.Background()
	var wg sync.WaitGroup
	defer wg.Wait() // also when the consumer fails
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "g", UserID: fmt.Sprint(w)}
			for i := range each {
				if err := s.Put(ctx, SpoolRecord(k, fmt.Sprintf("w%d-%d", w, i), i)); err != nil {
					t.Errorf("concurrent Put: %v", err)
					return
				}
			}
		}()
	}
	// One consumer, as the brain's replay: Head, then Pop once stored.
	var got []brain.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < writers*each && time.Now().Before(deadline) {
		r, ok, err := s.Head(ctx)
		if err != nil {
			t.Fatalf("Head: %v", err)
		}
		if !ok {
			time.Sleep(time.Millisecond)
			continue
		}
		if err := s.Pop(ctx); err != nil {
			t.Fatalf("Pop: %v", err)
		}
		got = append(got, r)
	}
	wg.Wait()
	if n := s.Len(); n != 0 {
		t.Errorf("Len after consuming everything: got %d, want 0", n)
	}
	checkPerWriterOrder(t, got, writers, each)
}

// checkPerWriterOrder checks that got holds each writer's records once, in
// the order that writer put them.
func checkPerWriterOrder(t *testing.T, got []brain.Record, writers, each int) {
	t.Helper()
	if len(got) != writers*each {
		t.Fatalf("got %d records, want %d", len(got), writers*each)
	}
	next := make(map[string]int, writers)
	for _, r := range got {
		want := fmt.Sprintf("w%s-%d", r.Key.UserID, next[r.Key.UserID])
		if r.Text != want {
			t.Fatalf("writer %s: got %q, want %q (lost, duplicated or out of order)", r.Key.UserID, r.Text, want)
		}
		next[r.Key.UserID]++
	}
}
