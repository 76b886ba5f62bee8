package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// evo runs one evo invocation in-process with env as its whole
// environment and returns its exit code, stdout and stderr.
func evo(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	full := map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts", "LOG_LEVEL": "debug",
		"TRAINING_DIR": t.TempDir(), "SPOOL_DIR": t.TempDir()}
	for k, v := range env {
		full[k] = v
	}
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb, lookupFrom(full))
	return code, out.String(), errb.String()
}

// userMessages returns the stored texts of a CLI user, oldest first.
func storedMessages(t *testing.T, dsn, user string) []brain.Record {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Recent(ctx, brain.ConvKey{Platform: brain.PlatformCLI, ChatID: "terminal", UserID: user}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestChatEndToEndContextSurvivesRestart(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	srv := ollamatest.NewServer(t)
	env := map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL(), "CONTEXT_MESSAGES": "6"}

	code, out, stderr := evo(t, env, "Merhaba\nNasılsın?\n", "chat", "--user", "ayse")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "«Merhaba»") || !strings.Contains(lines[1], "«Nasılsın?»") {
		t.Fatalf("stdout = %q, want two replies, one per line", out)
	}
	chats := srv.ChatRequests()
	if len(chats) != 2 {
		t.Fatalf("chat requests = %d, want 2", len(chats))
	}
	second := chats[1].Messages
	if len(second) != 4 || second[1].Content != "Merhaba" || second[2].Content != lines[0] || second[3].Content != "Nasılsın?" {
		t.Errorf("second request does not carry the first exchange: %+v", second)
	}
	if got := len(storedMessages(t, dsn, "ayse")); got != 4 {
		t.Errorf("stored messages of ayse = %d, want 4", got)
	}

	// A second run continues the same context, bounded by CONTEXT_MESSAGES.
	for i, line := range []string{"Ben kimim?", "Hatırlıyor musun?"} {
		if code, _, stderr := evo(t, env, line+"\n", "chat", "--user", "ayse"); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i+2, code, stderr)
		}
	}
	chats = srv.ChatRequests()
	third, fourth := chats[2].Messages, chats[3].Messages
	if len(third) != 1+4+1 || third[1].Content != "Merhaba" {
		t.Errorf("after restart the request carries %d messages (%+v), want system + 4 earlier + 1", len(third), third)
	}
	if earlier := len(fourth) - 2; earlier != 6 {
		t.Errorf("fourth request carries %d earlier messages, want CONTEXT_MESSAGES=6", earlier)
	}
	for i, c := range chats {
		if c.Options["num_ctx"] != chats[0].Options["num_ctx"] || c.Options["num_ctx"] == nil {
			t.Errorf("request %d num_ctx = %v, want the same on every request", i, c.Options["num_ctx"])
		}
	}
	// Other users do not see ayse's context.
	evo(t, env, "Merhaba\n", "chat", "--user", "mehmet")
	chats = srv.ChatRequests()
	if got := len(chats[len(chats)-1].Messages); got != 2 {
		t.Errorf("mehmet's request carries %d messages, want 2", got)
	}
}

func TestChatWithOllamaDown(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	code, out, stderr := evo(t, map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": closed},
		"Merhaba\nNasılsın?\n", "chat", "--user", "ayse")
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstderr: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout = %q, want one line per message", out)
	}
	for _, l := range lines {
		if !strings.Contains(l, "dil modeline ulaşamıyorum") {
			t.Errorf("reply = %q, want a clear Turkish error", l)
		}
	}
	if !strings.Contains(stderr, "ollama unreachable") {
		t.Errorf("log does not say what is wrong: %s", stderr)
	}
	var users []string
	for _, r := range storedMessages(t, dsn, "ayse") {
		if r.Role == brain.RoleUser {
			users = append(users, r.Text)
		}
	}
	if strings.Join(users, "|") != "Merhaba|Nasılsın?" {
		t.Errorf("stored user messages = %q, want both", users)
	}
}

func TestChatModelMissingSaysWhatToRun(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	srv := ollamatest.NewServer(t, ollamatest.WithModels("something-else"))
	code, out, stderr := evo(t, map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL()}, "Merhaba\n", "chat", "--user", "u")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "kurulmamış") {
		t.Errorf("reply = %q, want the model-missing message", out)
	}
	if !strings.Contains(stderr, "ollama pull") {
		t.Errorf("log does not name the command to run: %s", stderr)
	}
}

// The one-shot and terminal commands fail fast without Postgres; evo serve
// keeps running (durability_test.go).
func TestPostgresDownAtStartFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, cmd := range []string{"chat", "migrate"} {
		t.Run(cmd, func(t *testing.T) {
			code, _, stderr := evo(t, map[string]string{"DATABASE_URL": "postgres://postgres@" + addr + "/evo?sslmode=disable&connect_timeout=2"}, "", cmd)
			if code == 0 {
				t.Fatalf("exit 0 with Postgres down")
			}
			if !strings.Contains(stderr, "unreachable (is it running?") {
				t.Errorf("stderr = %q, want a clear error", stderr)
			}
		})
	}
}

func TestHelpAndUnknownCommand(t *testing.T) {
	code, out, _ := evo(t, nil, "", "help")
	if code != 0 {
		t.Fatalf("help exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name) {
			t.Errorf("help does not list %s:\n%s", c.name, out)
		}
	}
	if code, _, stderr := evo(t, nil, "", "fly"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := evo(t, map[string]string{"CONTEXT_MESSAGES": "many"}, "", "chat"); code != 2 || !strings.Contains(stderr, "CONTEXT_MESSAGES") {
		t.Errorf("bad config: exit %d, stderr %q", code, stderr)
	}
}

func TestChatExpertAndWhyCommands(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	srv := ollamatest.NewServer(t)
	env := map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL()}
	in := strings.Join([]string{
		"Python'da liste nasıl sıralanır?",
		"/why",
		"/expert tr_chat",
		"sorted() ile mi?",
		"/why",
		"/expert auto",
		"/expert cobol",
	}, "\n") + "\n"
	code, out, stderr := evo(t, env, in, "chat", "--user", "ayse")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := []string{
		"Yanıtlayan model: python_coder",
		"Son cevabı **python_coder** verdi",
		"bundan sonra **tr_chat** cevap verecek",
		"Yanıtlayan model: tr_chat",
		"Bu uzmanı sen seçtin",
		"otomatik yönlendirme",
		"Böyle bir uzman yok",
	}
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (in order):\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
	if !strings.Contains(out, "İkinci aday: tr_chat") {
		t.Errorf("/why does not show the runner-up:\n%s", out)
	}
}
