package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
	"github.com/evo-tr/evo/memory/chroma/chromatest"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// memoryRows reads a CLI user's memory rows straight from Postgres.
func memoryRows(t *testing.T, dsn, user string) []brain.Memory {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, err := postgres.NewMemories(st, brain.SystemClock{}).List(ctx, brain.PlatformCLI, user, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestReindexBringsMemoriesBack: after a night the memories are rows in
// Postgres; Chroma loses its data and recall finds nothing; evo memory
// reindex rebuilds Chroma from the rows and the next prompt carries the
// memory again.
func TestReindexBringsMemoriesBack(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	chromaSrv := chromatest.Start(t)
	const memory = "Kullanıcının kedisinin adı Pamuk."
	srv := ollamatest.NewServer(t,
		ollamatest.WithModels(append(append([]string(nil), ollamatest.DefaultModels...), "bge-m3")...),
		ollamatest.WithReply(func(req api.ChatRequest) string {
			if isSummary(req) {
				return `{"memories":[{"text":"` + memory + `","tags":["kedi"]}]}`
			}
			return "Tamam."
		}))
	env := map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL(), "CHROMA_URL": chromaSrv.URL(),
		"EMBED_MODEL": "bge-m3", "SLEEP_TIMEZONE": "UTC"}
	if code, out, stderr := evo(t, env, "Kedimin adı Pamuk, çok yaramaz.\nBugün onu veterinere götürdüm.\n/sleep\n", "chat", "--user", "ayse"); code != 0 || !strings.Contains(out, "1 anı yazdım") {
		t.Fatalf("day and night: exit %d\n%s\nstderr: %s", code, out, stderr)
	}
	rows := memoryRows(t, dsn, "ayse")
	if len(rows) != 1 || rows[0].Text != memory || rows[0].Day == "" || len(rows[0].Sources) != 4 {
		t.Fatalf("memory rows after the night = %+v, want the memory with its day and its 4 messages", rows)
	}

	prompt := func() string {
		t.Helper()
		srv.ResetRecords()
		if code, _, stderr := evo(t, env, "Kedim için mama önerir misin?\n", "chat", "--user", "ayse"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		chats := srv.ChatRequests()
		if len(chats) != 1 {
			t.Fatalf("chat requests = %d, want 1", len(chats))
		}
		return chats[0].Messages[0].Content
	}
	if !strings.Contains(prompt(), memory) {
		t.Fatal("before the loss the prompt does not carry the memory")
	}

	// Chroma loses its data: the same server, an empty data folder.
	chromaSrv.Stop()
	if err := os.RemoveAll(filepath.Join(chromaSrv.Dir, "data")); err != nil {
		t.Fatal(err)
	}
	chromaSrv.Restart(t)
	if strings.Contains(prompt(), memory) {
		t.Fatal("with Chroma's data gone the prompt still carries the memory: was it lost?")
	}
	if code, out, _ := evo(t, env, "/memory\n", "chat", "--user", "ayse"); code != 0 || !strings.Contains(out, memory) {
		t.Errorf("/memory lists the rows even while Chroma has lost them: exit %d\n%s", code, out)
	}

	code, out, stderr := evo(t, env, "", "memory", "reindex", "--batch", "1")
	if code != 0 || !strings.Contains(out, "users 1/1, memories 1") || !strings.Contains(out, "1 memories of 1 users") {
		t.Fatalf("evo memory reindex: exit %d\n%s\nstderr: %s", code, out, stderr)
	}
	if !strings.Contains(prompt(), memory) {
		t.Error("after evo memory reindex the prompt does not carry the memory")
	}
	// Reindexing again changes nothing.
	if code, _, stderr := evo(t, env, "", "memory", "reindex"); code != 0 {
		t.Fatalf("second reindex: exit %d: %s", code, stderr)
	}
	if !strings.Contains(prompt(), memory) {
		t.Error("after a second reindex the prompt does not carry the memory")
	}
}

func TestReindexErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no CHROMA_URL", nil, []string{"memory", "reindex"}, 1, "set CHROMA_URL"},
		{"no subcommand", nil, []string{"memory"}, 2, "evo memory reindex"},
		{"stray argument", map[string]string{"CHROMA_URL": "http://127.0.0.1:1"}, []string{"memory", "reindex", "x"}, 2, "unexpected argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x"}
			for k, v := range c.env {
				env[k] = v
			}
			code, _, stderr := evo(t, env, "", c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want %d naming %q", code, stderr, c.code, c.want)
			}
		})
	}
}

// TestRerunOfADayLeavesOnlyItsNewMemories: the model that gave three
// memories gives one when the day is run again; /memory shows only it,
// and recall brings back none of the old ones.
func TestRerunOfADayLeavesOnlyItsNewMemories(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	chromaSrv := chromatest.Start(t)
	var runs atomic.Int32
	srv := ollamatest.NewServer(t,
		ollamatest.WithModels(append(append([]string(nil), ollamatest.DefaultModels...), "bge-m3")...),
		ollamatest.WithReply(func(req api.ChatRequest) string {
			if !isSummary(req) {
				return "Tamam."
			}
			if runs.Add(1) == 1 {
				return `{"memories":[{"text":"Kullanıcının kedisi Pamuk."},{"text":"Kullanıcı İzmir'de yaşıyor."},{"text":"Kullanıcı Python öğreniyor."}]}`
			}
			return `{"memories":[{"text":"Kullanıcı Django ile site yapıyor."}]}`
		}))
	env := map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": srv.URL(), "CHROMA_URL": chromaSrv.URL(),
		"EMBED_MODEL": "bge-m3", "SLEEP_TIMEZONE": "UTC"}
	if code, out, stderr := evo(t, env, "Kedim Pamuk, İzmir'de yaşıyorum.\nPython öğreniyorum.\n/sleep\n", "chat", "--user", "ayse"); code != 0 || !strings.Contains(out, "3 anı yazdım") {
		t.Fatalf("first night: exit %d\n%s\nstderr: %s", code, out, stderr)
	}
	if code, out, stderr := evo(t, env, "/sleep\n", "chat", "--user", "ayse"); code != 0 || !strings.Contains(out, "1 anı yazdım") {
		t.Fatalf("the re-run: exit %d\n%s\nstderr: %s", code, out, stderr)
	}
	code, out, _ := evo(t, env, "/memory\n", "chat", "--user", "ayse")
	if code != 0 || !strings.Contains(out, "Django") {
		t.Fatalf("/memory after the re-run: exit %d\n%s", code, out)
	}
	for _, old := range []string{"Pamuk", "İzmir", "Python"} {
		if strings.Contains(out, old) {
			t.Errorf("/memory after the re-run still shows %q:\n%s", old, out)
		}
	}
	if rows := memoryRows(t, dsn, "ayse"); len(rows) != 1 {
		t.Errorf("memory rows after the re-run = %+v, want one", rows)
	}
	srv.ResetRecords()
	evo(t, env, "Kedim Pamuk İzmir'de Python öğreniyor mu?\n", "chat", "--user", "ayse")
	chats := srv.ChatRequests()
	if len(chats) != 1 {
		t.Fatalf("chat requests = %d", len(chats))
	}
	sys := chats[0].Messages[0].Content
	if !strings.Contains(sys, "Django") {
		t.Errorf("the prompt does not carry the new memory:\n%s", sys)
	}
	for _, old := range []string{"kedisi Pamuk", "İzmir'de yaşıyor", "Python öğreniyor"} {
		if strings.Contains(sys, old) {
			t.Errorf("the prompt carries the replaced memory %q:\n%s", old, sys)
		}
	}
}
