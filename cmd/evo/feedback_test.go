package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/bots/telegram/telegramtest"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// TestFeedbackEndToEnd runs `evo serve` with the Telegram fake, the fake
// Ollama and the real Postgres: a user asks a Python question and a
// Turkish chat question in a private chat, reacts 👎 to the first answer
// and 👍 to the second; after an admin's /sleep the 👎 exchange is in no
// training file (nor the router's) and the 👍 one is in its expert's file
// marked "feedback":"good".
func TestFeedbackEndToEnd(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	llm := ollamatest.NewServer(t, ollamatest.WithReply(func(req api.ChatRequest) string {
		if isSummary(req) {
			return `{"memories":[]}`
		}
		return "«" + req.Messages[len(req.Messages)-1].Content + "»"
	}))
	tg := telegramtest.NewServer(telegramtest.DefaultToken, "evo_test_bot")
	t.Cleanup(tg.Close)
	trainingDir := t.TempDir()
	env := map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"DATABASE_URL": dsn, "OLLAMA_HOST": llm.URL(), "HTTP_ADDR": freeAddr(t),
		"TELEGRAM_BOT_TOKEN": telegramtest.DefaultToken, "TELEGRAM_API_URL": tg.URL(), "TELEGRAM_ADMIN_IDS": "99",
		"TRAINING_DIR": trainingDir, "SPOOL_DIR": t.TempDir(), "ACCESS_MODE": "open",
		"SLEEP_SCHEDULE": "off", "SLEEP_TIMEZONE": "UTC", "CHROMA_URL": ""}

	serveInProcess(t, env)

	ayse := models.User{ID: 42, FirstName: "Ayşe", Username: "ayse"}
	boss := models.User{ID: 99, FirstName: "Yönetici"}
	// say sends text in the user's private chat and waits for a bot
	// message holding want; it returns that message.
	say := func(u models.User, text, want string) telegramtest.Message {
		t.Helper()
		before := len(tg.BotMessages(u.ID))
		tg.Post(models.Message{Chat: models.Chat{ID: u.ID, Type: models.ChatTypePrivate}, From: &u, Text: text})
		var got telegramtest.Message
		eventually(t, "the reply to "+text, func() bool {
			msgs := tg.BotMessages(u.ID)
			for _, m := range msgs[min(before, len(msgs)):] {
				if strings.Contains(m.Visible, want) {
					got = m
					return true
				}
			}
			return false
		})
		return got
	}
	const badText = "Python'da bir listeyi nasıl ters çeviririm?"
	const goodText = "Bana İstanbul'da gezilecek yerleri anlatır mısın?"
	bad := say(ayse, badText, "«"+badText+"»")
	// The second question may be stored before the first answer (store on
	// arrival): the night pairs each answer with its own question
	// (brain.Thread), whatever the order of their times.
	good := say(ayse, goodText, "«"+goodText+"»")

	// A reaction finds its answer only once the delivery is recorded: the
	// answer is on screen a moment before that.
	chat := strconv.FormatInt(ayse.ID, 10)
	for _, m := range []telegramtest.Message{bad, good} {
		q := `SELECT count(*) FROM bot_messages WHERE platform = 'telegram' AND platform_chat_id = '` + chat +
			`' AND platform_message_id = '` + strconv.Itoa(m.ID) + `'`
		eventually(t, "the delivery of message "+strconv.Itoa(m.ID), func() bool { return countRows(t, dsn, q) == 1 })
	}
	tg.React(ayse.ID, bad.ID, ayse, nil, "👎")
	tg.React(ayse.ID, good.ID, ayse, nil, "👍")
	rated := func(m telegramtest.Message, value int) string {
		return `SELECT count(*) FROM feedback f JOIN bot_messages b
			ON b.platform = f.platform AND b.chat_id = f.platform_chat_id AND b.reply_ref = f.reply_ref
			WHERE f.platform = 'telegram' AND b.platform_chat_id = '` + chat + `' AND b.platform_message_id = '` +
			strconv.Itoa(m.ID) + `' AND f.platform_user_id = '` + chat + `' AND f.value = ` + strconv.Itoa(value) +
			` AND f.source = 'reaction'`
	}
	eventually(t, "the feedback rows", func() bool {
		return countRows(t, dsn, rated(bad, -1)) == 1 && countRows(t, dsn, rated(good, 1)) == 1
	})
	if n := countRows(t, dsn, `SELECT count(*) FROM feedback`); n != 2 {
		t.Errorf("feedback rows: %d, want 2", n)
	}

	say(boss, "/sleep", "Gece işi tamam")

	files, err := filepath.Glob(filepath.Join(trainingDir, "*", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("the night wrote no training file under %s", trainingDir)
	}
	var goodFile string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "ters çeviririm") {
				t.Errorf("%s holds the 👎 exchange: %s", filepath.Base(f), line)
			}
			if filepath.Base(f) != "router.jsonl" && strings.Contains(line, goodText) {
				goodFile = filepath.Base(f)
				if !strings.Contains(line, `"feedback":"good"`) {
					t.Errorf("%s holds the 👍 exchange without \"feedback\":\"good\": %s", goodFile, line)
				}
			}
		}
	}
	if goodFile != "tr_chat.jsonl" {
		t.Errorf("the 👍 exchange is in expert file %q, want tr_chat.jsonl", goodFile)
	}
	if n := linesWith(t, trainingDir, goodText); n < 2 {
		t.Errorf("lines holding the 👍 exchange: %d, want its expert's and the router's", n)
	}
	if n := linesWith(t, trainingDir, `"feedback":"good"`); n != 1 {
		t.Errorf(`lines marked "feedback":"good": %d, want 1`, n)
	}
}
