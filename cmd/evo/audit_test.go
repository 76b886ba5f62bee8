package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jackc/pgx/v5"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// servedTelegram is `evo serve` running in-process on a fake Bot API, the
// fake Ollama and a Postgres schema of its own.
type servedTelegram struct {
	dsn  string
	tg   *telegramtest.Server
	env  map[string]string
	logs *syncBuffer
}

// serveTelegram starts evo serve with Telegram only, admins by Telegram id,
// and waits until it is healthy. The test's end stops it.
func serveTelegram(t *testing.T, admins string) *servedTelegram {
	t.Helper()
	s := &servedTelegram{dsn: pgtest.NewSchema(t)}
	llm := ollamatest.NewServer(t)
	s.tg = telegramtest.NewServer(telegramtest.DefaultToken, "evo_test_bot")
	t.Cleanup(s.tg.Close)
	httpAddr := freeAddr(t)
	s.env = map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"DATABASE_URL": s.dsn, "OLLAMA_HOST": llm.URL(), "HTTP_ADDR": httpAddr,
		"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken, "TELEGRAM_API_URL": s.tg.URL(), "TELEGRAM_ADMIN_IDS": admins,
		"TRAINING_DIR": t.TempDir(), "SPOOL_DIR": t.TempDir(), "SLEEP_SCHEDULE": "off", "ACCESS_MODE": "open"}
	s.logs = serveInProcess(t, s.env)
	eventually(t, "/healthz", func() bool {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// say posts a private message from u and waits until the bot has sent n
// messages to u's chat in all.
func (s *servedTelegram) say(t *testing.T, chat models.Chat, u models.User, text string, n int, want string) {
	t.Helper()
	s.tg.Post(models.Message{Chat: chat, From: &u, Text: text})
	eventually(t, fmt.Sprintf("the reply to %q", text), func() bool {
		msgs := s.tg.BotMessages(chat.ID)
		return len(msgs) == n && strings.Contains(msgs[n-1].Visible, want)
	})
}

// count runs a count(*) query on the test's schema.
func (s *servedTelegram) count(t *testing.T, query string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestAuditEndToEnd: through evo serve on Telegram, a non-admin's /wipe all
// and /sleep change nothing and an admin's /stats answers; evo audit then
// prints the two refusals and the admin's command, in order.
func TestAuditEndToEnd(t *testing.T) {
	s := serveTelegram(t, "1")
	ayse := models.User{ID: 42, FirstName: "Ayşe"}
	admin := models.User{ID: 1, FirstName: "Yönetici"}
	dm := func(u models.User) models.Chat { return models.Chat{ID: u.ID, Type: models.ChatTypePrivate} }

	s.say(t, dm(ayse), ayse, "Merhaba EVO", 1, "«Merhaba EVO»")
	eventually(t, "the reply to be stored", func() bool { return s.count(t, "SELECT count(*) FROM messages") == 2 })
	s.say(t, dm(ayse), ayse, "/wipe all", 2, "yalnızca yöneticiler")
	s.say(t, dm(ayse), ayse, "/sleep", 3, "yalnızca yöneticiler")
	if got := s.count(t, "SELECT count(*) FROM messages"); got != 2 {
		t.Errorf("messages after a refused /wipe all = %d, want 2", got)
	}
	if got := s.count(t, "SELECT count(*) FROM night_runs"); got != 0 {
		t.Errorf("night runs after a refused /sleep = %d, want 0", got)
	}
	s.say(t, dm(admin), admin, "/stats", 1, "Kullanıcılar: 1")
	if got := s.tg.BotMessages(admin.ID)[0].Visible; !strings.Contains(got, "Bugünkü mesajlar: 1") || !strings.Contains(got, "postgres ✓") {
		t.Errorf("/stats = %q, want today's message and postgres healthy", got)
	}
	eventually(t, "three audit entries", func() bool { return s.count(t, "SELECT count(*) FROM audit_log") == 3 })

	var out, errb syncBuffer
	if code := run(context.Background(), []string{"audit"}, strings.NewReader(""), &out, &errb, lookupFrom(s.env)); code != 0 {
		t.Fatalf("evo audit exit code = %d\n%s", code, errb.String())
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := [][]string{
		{"telegram", "42", "/wipe", "all", "refused"},
		{"telegram", "42", "/sleep", "-", "refused"},
		{"telegram", "1", "/stats", "-", "ok"},
	}
	if len(got) != len(want) {
		t.Fatalf("evo audit printed %d lines, want %d:\n%s", len(got), len(want), out.String())
	}
	ist, _ := time.LoadLocation("Europe/Istanbul")
	for i, line := range got {
		f := strings.Split(line, "\t")
		if len(f) != 6 || strings.Join(f[1:], " ") != strings.Join(want[i], " ") {
			t.Errorf("line %d = %q, want time then %q", i, line, want[i])
			continue
		}
		at, err := time.Parse(time.RFC3339, f[0])
		if err != nil || time.Since(at) > time.Hour || !strings.HasSuffix(f[0], "+03:00") {
			t.Errorf("line %d time = %q (%v), want a recent RFC 3339 time in %s", i, f[0], err, ist)
		}
	}

	t.Run("--since tomorrow's date is refused, today's shows all", func(t *testing.T) {
		var out, errb syncBuffer
		tomorrow := time.Now().In(ist).AddDate(0, 0, 1).Format(time.DateOnly)
		if code := run(context.Background(), []string{"audit", "--since", tomorrow}, strings.NewReader(""), &out, &errb, lookupFrom(s.env)); code != 2 {
			t.Errorf("evo audit --since %s: exit code %d, want 2 (usage)", tomorrow, code)
		}
		out, errb = syncBuffer{}, syncBuffer{}
		if code := run(context.Background(), []string{"audit", "--since", "bugün"}, strings.NewReader(""), &out, &errb, lookupFrom(s.env)); code != 0 {
			t.Fatalf("evo audit --since bugün: exit code %d\n%s", code, errb.String())
		}
		if n := len(strings.Split(strings.TrimSpace(out.String()), "\n")); n != 3 {
			t.Errorf("evo audit --since bugün printed %d lines, want 3:\n%s", n, out.String())
		}
	})
}
