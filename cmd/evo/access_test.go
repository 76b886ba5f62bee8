package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jackc/pgx/v5"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// accessRig is `evo serve` with the fake Bot API, the fake Ollama and a
// schema of its own, for the access gate and the rate limit.
type accessRig struct {
	tg   *telegramtest.Server
	llm  *ollamatest.Server
	dsn  string
	logs *syncBuffer
}

// startAccessRig runs serve in-process with env added to a base
// configuration and waits until it answers /healthz.
func startAccessRig(t *testing.T, env map[string]string) *accessRig {
	t.Helper()
	r := &accessRig{dsn: pgtest.NewSchema(t), llm: ollamatest.NewServer(t)}
	r.tg = telegramtest.NewServer(telegramtest.DefaultToken, "evo_test_bot")
	t.Cleanup(r.tg.Close)
	httpAddr := freeAddr(t)
	full := map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"DATABASE_URL": r.dsn, "OLLAMA_HOST": r.llm.URL(), "HTTP_ADDR": httpAddr,
		"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken, "TELEGRAM_API_URL": r.tg.URL(),
		"TRAINING_DIR": t.TempDir(), "SPOOL_DIR": t.TempDir(), "SLEEP_SCHEDULE": "off", "LOG_LEVEL": "debug"}
	for k, v := range env {
		full[k] = v
	}
	r.logs = serveInProcess(t, full)
	// Training the router at start takes a while under -race.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if code, body := getJSON("http://" + httpAddr + "/readyz"); code == 200 && body["postgres"] == "ok" {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for /readyz")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// say posts a private message from user id and waits until the bot's
// n-th message in that chat says want (replies stream in: the first
// version is partial); it returns that message's visible text.
func (r *accessRig) say(t *testing.T, id int64, text string, n int, want string) string {
	t.Helper()
	from := models.User{ID: id, FirstName: "Kullanıcı" + strconv.FormatInt(id, 10)}
	r.tg.Post(models.Message{Chat: models.Chat{ID: id, Type: models.ChatTypePrivate}, From: &from, Text: text})
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if msgs := r.tg.BotMessages(id); len(msgs) >= n {
			if last = msgs[n-1].Visible; strings.Contains(last, want) {
				return last
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("bot message %d to %d after %q = %q, want it to say %q", n, id, text, last, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rows counts the stored messages of a Telegram user: theirs and the
// replies to them.
func (r *accessRig) rows(t *testing.T, userID int64) (user, all int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE m.role = 'user'), count(*)
		FROM messages m JOIN users u ON u.id = m.user_ref
		WHERE u.platform = 'telegram' AND u.platform_user_id = $1`, strconv.FormatInt(userID, 10)).Scan(&user, &all)
	if err != nil {
		t.Fatalf("count messages: %v", err)
	}
	return user, all
}

// chatsFor counts the chat requests that reached the fake Ollama for a
// user text containing s.
func (r *accessRig) chatsFor(s string) int {
	n := 0
	for _, req := range r.llm.ChatRequests() {
		if strings.Contains(ollamatest.LastUser(req), s) {
			n++
		}
	}
	return n
}

func TestServeAllowlistRefusesStrangers(t *testing.T) {
	r := startAccessRig(t, map[string]string{"ACCESS_MODE": "allowlist", "ALLOWED_USERS": "telegram:2"})
	r.say(t, 7, "Merhaba, ben bir yabancıyım", 1, "listede değilsin")
	r.say(t, 2, "Merhaba, ben listedeyim", 1, "«Merhaba, ben listedeyim»")
	if user, all := r.rows(t, 7); all != 0 {
		t.Errorf("rows of the stranger = %d (%d theirs), want 0", all, user)
	}
	if n := r.chatsFor("yabancıyım"); n != 0 {
		t.Errorf("chat requests for the stranger's text = %d, want 0", n)
	}
	if user, _ := r.rows(t, 2); user != 1 {
		t.Errorf("stored messages of the allowed user = %d, want 1", user)
	}
}

var sixDigits = regexp.MustCompile(`\b([0-9]{6})\b`)

func TestServePairing(t *testing.T) {
	r := startAccessRig(t, map[string]string{"TELEGRAM_ADMIN_IDS": "1"}) // ACCESS_MODE: the default, pairing
	notice := r.say(t, 7, "Merhaba, içeri alır mısın?", 1, "Eşleştirme kodun")
	code := sixDigits.FindStringSubmatch(notice)
	if code == nil {
		t.Fatalf("reply to a stranger = %q, want a pairing code", notice)
	}
	if _, all := r.rows(t, 7); all != 0 {
		t.Errorf("rows of the stranger before /allow = %d, want 0", all)
	}
	r.say(t, 1, "/allow "+code[1], 1, "(telegram:7) artık")
	r.say(t, 7, "Şimdi cevap verir misin?", 2, "«Şimdi cevap verir misin?»")
	if n := r.chatsFor("içeri alır mısın"); n != 0 {
		t.Errorf("chat requests for the text before /allow = %d, want 0", n)
	}
	if user, _ := r.rows(t, 7); user != 1 {
		t.Errorf("stored messages of the paired user = %d, want 1 (the one after /allow)", user)
	}
	// The admin's /allow is in the audit trail as ok.
	code2, out, stderr := evo(t, map[string]string{"DATABASE_URL": r.dsn}, "", "audit")
	if code2 != 0 {
		t.Fatalf("evo audit: exit %d: %s", code2, stderr)
	}
	found := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[1] == "telegram" && f[2] == "1" && f[3] == "/allow" && f[len(f)-1] == "ok" {
			found = true
		}
	}
	if !found {
		t.Errorf("evo audit does not show the admin's /allow as ok:\n%s", out)
	}
}

func TestServeRateLimit(t *testing.T) {
	r := startAccessRig(t, map[string]string{"ACCESS_MODE": "open", "RATE_LIMIT_PER_MINUTE": "5"})
	from := models.User{ID: 9, FirstName: "Hızlı"}
	for i := range 12 {
		r.tg.Post(models.Message{Chat: models.Chat{ID: 9, Type: models.ChatTypePrivate}, From: &from,
			Text: fmt.Sprintf("hızlı mesaj %d", i)})
	}
	// Every message gets its stored reply: an answer, the notice, or the
	// silent failed one that keeps a restart from answering it.
	eventually(t, "12 messages and 12 replies stored", func() bool {
		user, all := r.rows(t, 9)
		return user == 12 && all == 24
	})
	n := r.chatsFor("hızlı mesaj")
	t.Logf("12 messages at RATE_LIMIT_PER_MINUTE=5: %d chat requests reached Ollama, 12 stored", n)
	if n > 6 {
		t.Errorf("chat requests that reached Ollama = %d, want at most 6", n)
	}
	notices := 0
	eventually(t, "the bot's replies", func() bool {
		notices = 0
		for _, m := range r.tg.BotMessages(9) {
			if strings.Contains(m.Visible, "Çok hızlı yazıyorsun") {
				notices++
			}
		}
		return notices >= 1
	})
	if notices != 1 {
		t.Errorf("rate-limit notices = %d, want 1", notices)
	}
}

func TestUsersCommand(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	env := map[string]string{"DATABASE_URL": dsn, "ALLOWED_USERS": "discord:5", "USER": "root"}
	if code, _, stderr := evo(t, env, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SavePairing(ctx, brain.Pairing{Code: "123456", Platform: brain.PlatformTelegram, UserID: "7",
		UserName: "Ayşe", Expires: time.Now().Add(time.Hour)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args     []string
		wantCode int
		want     string // in stdout, or stderr when the code is not 0; spaces collapsed
	}{
		{[]string{"users", "allow", "123456"}, 0, "allowed telegram:7 Ayşe"},
		{[]string{"users", "list"}, 0, "telegram:7 Ayşe cli:root"},
		{[]string{"users", "list"}, 0, "discord:5 ALLOWED_USERS"},
		{[]string{"users", "allow", "123456"}, 1, "unknown, used or expired"},
		{[]string{"users", "deny", "telegram:7"}, 0, "revoked telegram:7"},
		{[]string{"users", "deny", "telegram:7"}, 0, "was not approved"},
		{[]string{"users", "list"}, 0, "0 approved, 1 in ALLOWED_USERS"},
		{[]string{"users", "deny", "7"}, 2, "not platform:id"},
		{[]string{"users", "allow", "12ab"}, 2, "not a 6-digit pairing code"},
		{[]string{"users"}, 2, "usage"},
	}
	for _, s := range steps {
		code, out, stderr := evo(t, env, "", s.args...)
		got := out
		if s.wantCode != 0 {
			got = stderr
		}
		if code != s.wantCode || !strings.Contains(strings.Join(strings.Fields(got), " "), s.want) {
			t.Errorf("evo %s = %d\n%s%s\nwant %d and %q", strings.Join(s.args, " "), code, out, stderr, s.wantCode, s.want)
		}
	}
}

func TestAccessConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // names the key; "" loads
	}{
		{"defaults", nil, ""},
		{"all set", map[string]string{"ACCESS_MODE": "allowlist", "ALLOWED_USERS": "telegram:1, discord:2", "RATE_LIMIT_PER_MINUTE": "0"}, ""},
		{"unknown mode", map[string]string{"ACCESS_MODE": "herkes"}, "ACCESS_MODE"},
		{"user without platform", map[string]string{"ALLOWED_USERS": "telegram:1,42"}, "ALLOWED_USERS"},
		{"unknown platform", map[string]string{"ALLOWED_USERS": "slack:42"}, "ALLOWED_USERS"},
		{"negative rate", map[string]string{"RATE_LIMIT_PER_MINUTE": "-1"}, "RATE_LIMIT_PER_MINUTE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envFileKey: "/dev/null"}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := LoadConfig(lookupFrom(env))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("LoadConfig: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("LoadConfig error = %v, want one naming %s", err, tt.wantErr)
			case tt.name == "defaults" && (cfg.AccessMode != "pairing" || cfg.RateLimitPerMinute != 20 || len(cfg.AllowedUsers) != 0):
				t.Errorf("defaults = %q, %d, %v; want pairing, 20, none", cfg.AccessMode, cfg.RateLimitPerMinute, cfg.AllowedUsers)
			}
		})
	}
}
