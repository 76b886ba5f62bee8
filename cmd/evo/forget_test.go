package main

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/jackc/pgx/v5"
	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/chroma/chromatest"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// TestForgetEndToEnd runs `evo serve` with the Telegram fake, the fake
// Ollama, the real Postgres and a real Chroma: two users talk, an admin's
// /sleep writes their memories and training data, then Ayşe sends /forget
// and the code it answers with. Nothing of her is left in Postgres, Chroma
// or TRAINING_DIR; Mehmet keeps everything.
func TestForgetEndToEnd(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	const ayseMemory, mehmetMemory = "Kullanıcının kedisinin adı Pamuk.", "Kullanıcı Go öğreniyor."
	llm := ollamatest.NewServer(t, ollamatest.WithModels(append(append([]string(nil), ollamatest.DefaultModels...), "bge-m3")...),
		ollamatest.WithReply(func(req api.ChatRequest) string {
			if !isSummary(req) {
				return "«" + req.Messages[len(req.Messages)-1].Content + "»"
			}
			if strings.Contains(req.Messages[1].Content, "Pamuk") {
				return `{"memories":[{"text":"` + ayseMemory + `","tags":["kedi"]}]}`
			}
			return `{"memories":[{"text":"` + mehmetMemory + `","tags":["go"]}]}`
		}))
	chromaSrv := chromatest.Start(t)
	tg := telegramtest.NewServer(telegramtest.DefaultToken, "evo_test_bot")
	t.Cleanup(tg.Close)
	trainingDir := t.TempDir()
	httpAddr := freeAddr(t)
	env := map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"DATABASE_URL": dsn, "OLLAMA_HOST": llm.URL(), "HTTP_ADDR": httpAddr,
		"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken, "TELEGRAM_API_URL": tg.URL(), "TELEGRAM_ADMIN_IDS": "99",
		"TRAINING_DIR": trainingDir, "SPOOL_DIR": t.TempDir(), "ACCESS_MODE": "open", "SLEEP_TIMEZONE": "UTC",
		"CHROMA_URL": chromaSrv.URL(), "EMBED_MODEL": "bge-m3"}

	serveInProcess(t, env)

	ayse := models.User{ID: 42, FirstName: "Ayşe", Username: "ayse"}
	mehmet := models.User{ID: 43, FirstName: "Mehmet", Username: "memo"}
	boss := models.User{ID: 99, FirstName: "Yönetici"}
	// say sends text in the user's private chat and waits for a reply
	// holding want; it returns that reply.
	say := func(u models.User, text, want string) string {
		t.Helper()
		before := len(tg.BotMessages(u.ID))
		tg.Post(models.Message{Chat: models.Chat{ID: u.ID, Type: models.ChatTypePrivate}, From: &u, Text: text})
		var got string
		eventually(t, "the reply to "+text, func() bool {
			msgs := tg.BotMessages(u.ID)
			for _, m := range msgs[min(before, len(msgs)):] {
				if strings.Contains(m.Visible, want) {
					got = m.Visible
					return true
				}
			}
			return false
		})
		return got
	}
	say(ayse, "Kedimin adı Pamuk, çok yaramaz.", "«Kedimin adı Pamuk")
	say(ayse, "Python'da bir listeyi nasıl ters sıralarım?", "«Python'da")
	say(mehmet, "Go'da bir dilimi nasıl sıralarım?", "«Go'da")
	say(mehmet, "Bana İstanbul hakkında kısa bir şiir yazar mısın?", "«Bana İstanbul")
	say(boss, "/sleep", "Gece işi tamam")

	const ayseOwner, mehmetOwner = `"user":"telegram:42"`, `"user":"telegram:43"`
	if n := linesWith(t, trainingDir, ayseOwner); n == 0 {
		t.Fatalf("the night wrote no training line of Ayşe")
	}
	mehmetLines := linesWith(t, trainingDir, mehmetOwner)
	if mehmetLines == 0 {
		t.Fatalf("the night wrote no training line of Mehmet")
	}
	say(ayse, "/memory", ayseMemory)

	ask := say(ayse, "/forget", "/forget ")
	m := regexp.MustCompile(`/forget ([A-Z]{3}[0-9]{3})`).FindStringSubmatch(ask)
	if m == nil {
		t.Fatalf("/forget does not give the command to send back: %q", ask)
	}
	done1 := say(ayse, "/forget "+m[1], "seni unuttum")
	for _, want := range []string{"4 mesaj", "1 anı", "eğitim verisinde"} {
		if !strings.Contains(done1, want) {
			t.Errorf("the reply lacks %q: %q", want, done1)
		}
	}

	// Nothing of Ayşe is left: rows, vectors, training lines.
	if n := countRows(t, dsn, `SELECT count(*) FROM users WHERE platform = 'telegram' AND platform_user_id = '42'`); n != 0 {
		t.Errorf("users rows of Ayşe: %d", n)
	}
	if n := countRows(t, dsn, `SELECT count(*) FROM messages WHERE text LIKE '%Pamuk%' OR text LIKE '%ters sıralarım%'`); n != 0 {
		t.Errorf("messages of Ayşe (or answers quoting her): %d", n)
	}
	if n := countRows(t, dsn, `SELECT count(*) FROM forgotten_users WHERE platform = 'telegram' AND platform_user_id = '42'`); n != 1 {
		t.Errorf("tombstones of Ayşe: %d, want 1", n)
	}
	if n := linesWith(t, trainingDir, ayseOwner); n != 0 {
		t.Errorf("training lines of Ayşe left: %d", n)
	}
	if n := linesWith(t, trainingDir, "Pamuk"); n != 0 {
		t.Errorf("training lines holding Ayşe's words: %d", n)
	}
	say(ayse, "/memory", "henüz bir şey yok")

	// Mehmet keeps everything.
	if n := countRows(t, dsn, `SELECT count(*) FROM messages m JOIN users u ON u.id = m.user_ref WHERE u.platform_user_id = '43'`); n != 4 {
		t.Errorf("Mehmet's messages: %d, want 4", n)
	}
	if n := linesWith(t, trainingDir, mehmetOwner); n != mehmetLines {
		t.Errorf("Mehmet's training lines: %d, want %d", n, mehmetLines)
	}
	say(mehmet, "/memory", mehmetMemory)

	// The next night leaves Ayşe out, even over the same day.
	say(boss, "/sleep", "Gece işi tamam")
	if n := linesWith(t, trainingDir, ayseOwner); n != 0 {
		t.Errorf("the next night wrote training lines of Ayşe again: %d", n)
	}
	say(ayse, "/memory", "henüz bir şey yok")
}

// forgetInChat runs evo chat as user, sends /forget, then the command its
// reply asks for, and returns everything the chat printed.
func forgetInChat(t *testing.T, env map[string]string, user string) string {
	t.Helper()
	full := map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"TRAINING_DIR": t.TempDir(), "SPOOL_DIR": t.TempDir()}
	for k, v := range env {
		full[k] = v
	}
	in, feed := io.Pipe()
	defer feed.Close()
	var out, errb syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"chat", "--user", user}, in, &out, &errb, lookupFrom(full)) }()
	code := regexp.MustCompile(`/forget ([A-Z]{3}[0-9]{3})`)
	io.WriteString(feed, "/forget\n")
	eventually(t, "the confirmation code", func() bool { return code.MatchString(out.String()) })
	io.WriteString(feed, "/forget "+code.FindStringSubmatch(out.String())[1]+"\n")
	eventually(t, "the forget's reply", func() bool { return strings.Contains(out.String(), "unuttum") })
	feed.Close()
	if c := <-exit; c != 0 {
		t.Fatalf("evo chat exit %d: %s", c, errb.String())
	}
	return out.String()
}

// linesWith counts the lines holding s in the .jsonl files under dir.
func linesWith(t *testing.T, dir, s string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, s) {
				n++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countRows runs a count query on the test's database.
func countRows(t *testing.T, dsn, query string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
