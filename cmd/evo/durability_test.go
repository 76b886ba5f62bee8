package main

// End-to-end durability tests of the real binary: `evo serve` runs as a
// child process against a private Postgres cluster (pgtest.NewCluster),
// the fake Ollama and the fake Bot API, and is stopped with SIGTERM or
// killed with SIGKILL, with Postgres up or down. The tests assert on rows
// in Postgres and on what the fake Bot API holds, never on log lines. The
// helpers are in proc_test.go.

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
)

// streamDelay is the fake Ollama's delay between tokens where a test needs
// a reply still streaming when it signals: about 4 s for fakeAnswer.
const streamDelay = 120 * time.Millisecond

// TestDurabilitySIGTERMDuringStream: Ayşe asks a question whose answer
// streams slowly; once its first words are on Telegram she sends a second
// message (queued behind the first, same user) and evo gets SIGTERM.
// Acceptance: the first reply's final text on Telegram is the whole answer
// (not what had streamed when the signal came) and it is stored once; the
// second message is stored once and answered, before the exit or after the
// next start; evo exits 0 within 30 s.
func TestDurabilitySIGTERMDuringStream(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.llm.SetTokenDelay(streamDelay)
	r.startEvo()
	ayse := newUser(101, "Ayşe")
	const first, second = "Birinci soru: bana uzun bir cevap ver", "İkinci soru, sırada bekliyor"

	r.say(ayse, first)
	r.await(15*time.Second, "the first words of the streaming reply on Telegram", func() bool {
		return len(r.answers(ayse, first)) > 0
	})
	sent := time.Now()
	r.say(ayse, second)
	// Best effort: let evo fetch the second message before the signal.
	waitUntil(3*time.Second, func() bool { return r.fetchedSince(sent) })
	if r.answered(ayse, first) {
		t.Fatal("the first reply was complete before SIGTERM: the test did not signal mid-stream (stream too fast?)")
	}

	r.evo.stopGracefully()

	if a := r.answers(ayse, first); len(a) == 0 {
		t.Errorf("no reply to %q on Telegram", first)
	} else if got := a[len(a)-1].Visible; got != fakeAnswer(first) {
		t.Errorf("the streamed reply was cut by SIGTERM:\n got  %q\n want %q", got, fakeAnswer(first))
	}
	if got := r.storedAnswers(first); len(got) != 1 || got[0] != fakeAnswer(first) {
		t.Errorf("stored answers to %q = %q, want exactly the whole answer once", first, got)
	}
	if r.answered(ayse, second) {
		t.Logf("the queued message was answered before the exit")
	} else {
		t.Logf("the queued message was not answered before the exit; restarting")
		r.startEvo()
		r.await(20*time.Second, "the queued message answered after the restart", func() bool {
			return r.answered(ayse, second) && r.replies(second) >= 1
		})
		r.evo.stopGracefully()
	}
	r.expectAnsweredOnce(ayse, first, second)
}

// TestDurabilityPostgresOutage: Ayşe talks to evo; Postgres stops
// (pg_ctl stop -m fast); Ayşe and Mehmet each write; evo is stopped with
// SIGTERM while Postgres is still down; then Postgres and evo start again
// on the same SPOOL_DIR. Acceptance: every message is stored exactly once,
// users' messages and replies alike (a reply written during the outage may
// be the model's answer or a "could not store it" notice); each message
// gets one reply on Telegram, none twice after the restart.
func TestDurabilityPostgresOutage(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]string{"SHUTDOWN_TIMEOUT": "10s"})
	r.startEvo()
	ayse, mehmet := newUser(201, "Ayşe"), newUser(202, "Mehmet")
	const before, duringA, duringM = "Kesintiden önce yazdım", "Kesinti sırasında Ayşe yazıyor", "Kesinti sırasında Mehmet yazıyor"

	r.say(ayse, before)
	r.await(15*time.Second, "the answer before the outage, stored", func() bool {
		return r.answered(ayse, before) && r.rows(before) == 1 && r.replies(before) == 1
	})

	r.db.Stop(t)
	sent := time.Now()
	r.say(ayse, duringA)
	r.say(mehmet, duringM)
	r.await(10*time.Second, "evo to fetch the messages written during the outage", func() bool { return r.fetchedSince(sent) })
	if waitUntil(10*time.Second, func() bool { return len(r.tg.BotMessages(ayse.ID)) >= 2 && len(r.tg.BotMessages(mehmet.ID)) >= 1 }) {
		t.Logf("replies during the outage: Ayşe %q, Mehmet %q", lastVisible(r.tg.BotMessages(ayse.ID)), lastVisible(r.tg.BotMessages(mehmet.ID)))
	} else {
		t.Logf("the messages written during the outage got no reply while Postgres was down")
	}

	r.evo.signal(syscall.SIGTERM)
	code := r.evo.wait(30 * time.Second)
	t.Logf("evo exited with %d on SIGTERM while Postgres was down", code)

	r.db.Start(t)
	r.startEvo()
	r.await(30*time.Second, "every message and a reply to it stored after Postgres came back", func() bool {
		for _, text := range []string{before, duringA, duringM} {
			if r.rows(text) < 1 || r.replies(text) < 1 {
				return false
			}
		}
		return true
	})
	r.evo.stopGracefully()
	r.expectStoredOnce(before, duringA, duringM)
	if n := len(r.tg.BotMessages(ayse.ID)); n != 2 {
		t.Errorf("Ayşe's chat holds %d bot messages for her 2 messages, want 2: %q", n, visibles(r.tg.BotMessages(ayse.ID)))
	}
	if n := len(r.tg.BotMessages(mehmet.ID)); n != 1 {
		t.Errorf("Mehmet's chat holds %d bot messages for his 1 message, want 1: %q", n, visibles(r.tg.BotMessages(mehmet.ID)))
	}
}

// TestDurabilityStartWithoutPostgres: evo starts while Postgres is down.
// Acceptance: the process keeps running and /readyz answers 503 with
// status "degraded"; a message sent then is stored exactly once (with one
// reply, stored once and sent once) after Postgres comes up; /readyz
// turns 200, not before evo migrated the schema.
func TestDurabilityStartWithoutPostgres(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.db.Stop(t)
	r.evo.start()
	r.await(30*time.Second, `/readyz answering 503 "degraded"`, func() bool {
		code, body := r.readyz()
		return code == http.StatusServiceUnavailable && body["status"] == "degraded" && body["postgres"] != "ok"
	})
	ayse := newUser(301, "Ayşe")
	const text = "Veritabanı kapalıyken yazdım"
	sent := time.Now()
	r.say(ayse, text)
	r.await(10*time.Second, "evo to fetch the message", func() bool { return r.fetchedSince(sent) })
	if !r.evo.running() {
		t.Fatalf("evo serve exited (code %d) while Postgres was down", r.evo.exitCode())
	}
	if code, body := r.readyz(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while Postgres is down = %d %v, want 503", code, body)
	}

	r.db.Start(t)
	// /readyz must not say ok before evo can store: until the schema is
	// migrated, messages still go to the spool with a "database down"
	// notice. (Migration commits before evo is ready, so a 200 seen while
	// the schema is not migrated yet is certainly early.)
	early := false
	r.await(30*time.Second, "/readyz answering 200", func() bool {
		if code, _ := r.readyz(); code != http.StatusOK {
			return false
		}
		early = !r.migrated()
		return true
	})
	if early {
		t.Errorf("/readyz answered 200 while the schema was not migrated yet (evo cannot store then)")
	}
	r.await(30*time.Second, "the message and a reply stored after Postgres came up", func() bool {
		return r.rows(text) >= 1 && r.replies(text) >= 1
	})
	r.evo.stopGracefully()
	r.expectStoredOnce(text)
	if got := r.tg.BotMessages(ayse.ID); len(got) != 1 {
		t.Errorf("the chat holds %d bot messages for 1 message, want 1: %q", len(got), visibles(got))
	} else {
		t.Logf("the reply: %q", got[0].Visible)
	}
}

// TestDurabilityKill9DuringReply: evo is killed with SIGKILL while a
// reply streams, then started again on the same database and spool.
// Acceptance: the message is answered after the restart (an assistant row,
// and the whole answer sent to the chat), and both the message and its
// answer are stored exactly once.
func TestDurabilityKill9DuringReply(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.llm.SetTokenDelay(streamDelay)
	r.startEvo()
	ayse := newUser(401, "Ayşe")
	const text = "Cevabın ortasında öldürülecek soru"

	r.say(ayse, text)
	r.await(15*time.Second, "the first words of the reply on Telegram", func() bool {
		return len(r.answers(ayse, text)) > 0
	})
	if r.answered(ayse, text) {
		t.Fatal("the reply was complete before the kill: the test did not kill mid-stream (stream too fast?)")
	}
	r.evo.kill()
	r.evo.wait(10 * time.Second)
	if n := r.replies(text); n > 0 {
		t.Logf("a reply row existed right after the kill (%d)", n)
	}

	r.startEvo()
	r.await(20*time.Second, "the message answered after the restart", func() bool {
		return r.answered(ayse, text) && r.replies(text) >= 1
	})
	r.evo.stopGracefully()
	r.expectStoredOnce(text)
	if got := r.storedAnswers(text); len(got) != 1 || got[0] != fakeAnswer(text) {
		t.Errorf("stored answers = %q, want exactly the whole answer once", got)
	}
	// The killed run's partial message may stay on screen; more than one
	// complete answer means the message was answered twice.
	complete := 0
	for _, m := range r.answers(ayse, text) {
		if m.Visible == fakeAnswer(text) {
			complete++
		}
	}
	if complete != 1 {
		t.Errorf("%d complete answers on Telegram, want 1", complete)
	}
}

// TestDurabilityDuplicateUpdate: the same Telegram message reaches evo
// twice, once as the same update (same update_id, handed back by the
// proxy in front of the fake, as Telegram does when an offset was not
// confirmed) and once as a new update carrying the same message
// (message_id). A third message, answered after both copies, shows they
// were handled. Acceptance: one row and one answer per message.
func TestDurabilityDuplicateUpdate(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.startEvo()
	ayse := newUser(501, "Ayşe")
	const sameUpdate, sameMessage, after = "Bu güncelleme iki kez gelecek", "Bu mesaj iki güncellemeyle gelecek", "Kopyalardan sonraki mesaj"

	id := r.tg.Queue(r.tg.Record(ayse.message(sameUpdate)))
	r.await(15*time.Second, "the first message answered and stored", func() bool {
		return r.answered(ayse, sameUpdate) && r.replies(sameUpdate) >= 1
	})
	r.proxy.Redeliver(id)
	r.await(10*time.Second, "evo to receive the same update again", func() bool {
		d := r.proxy.Redelivered()
		return len(d) == 1 && r.fetchedSince(d[0])
	})

	u := r.tg.Record(ayse.message(sameMessage))
	r.tg.Queue(u)
	r.await(15*time.Second, "the second message answered and stored", func() bool {
		return r.answered(ayse, sameMessage) && r.replies(sameMessage) >= 1
	})
	r.tg.Queue(u)
	r.await(10*time.Second, "evo to confirm the copy of the second message", func() bool { return r.tg.Pending() == 0 })

	r.say(ayse, after)
	r.await(15*time.Second, "the message after the copies answered", func() bool {
		return r.answered(ayse, after) && r.replies(after) >= 1
	})
	r.evo.stopGracefully()
	r.expectAnsweredOnce(ayse, sameUpdate, sameMessage, after)
}

// visibles are the texts of messages, for failure messages.
func visibles(ms []telegramtest.Message) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Visible)
	}
	return out
}

// lastVisible is the text of the last message, "" for none.
func lastVisible(ms []telegramtest.Message) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1].Visible
}
