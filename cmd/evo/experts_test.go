package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/brain/ollama/ollamareal"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// realExperts starts a real Ollama with the tiny base created (as `ollama
// pull` would) and writes an experts folder whose tr_chat is the base plus
// a LoRA adapter and whose python_coder is a full (fused) GGUF. It returns
// the environment evo needs.
func realExperts(t *testing.T) (*ollamareal.Server, map[string]string) {
	t.Helper()
	srv := ollamareal.Start(t, ollamareal.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateModel(ctx, "tiny-base", ollamareal.TinyModel(), ollamareal.BaseParameters()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"tr_chat.examples.txt", "python_coder.examples.txt", "tr_chat.keywords.txt", "python_coder.keywords.txt"} {
		data, err := os.ReadFile(filepath.Join("../../deploy/experts", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"tr_chat.yaml": "name: tr_chat\nmodel: tr_chat\nsystem_prompt: Türkçe sohbet uzmanısın.\n" +
			"packaging: adapter\nfrom: tiny-base\nfile: ${ADAPTER_TR_PATH}\n" +
			"examples_file: tr_chat.examples.txt\nkeywords_file: tr_chat.keywords.txt\n",
		"python_coder.yaml": "name: python_coder\nmodel: python_coder\nsystem_prompt: Python uzmanısın.\n" +
			"packaging: gguf\nfrom: tiny-base\nfile: ${ADAPTER_PYTHON_PATH}\n" +
			"examples_file: python_coder.examples.txt\nkeywords_file: python_coder.keywords.txt\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return srv, map[string]string{
		"OLLAMA_HOST":         srv.URL.String(),
		"EXPERTS_DIR":         dir,
		"BASE_MODEL":          "tiny-base",
		"NUM_CTX":             "2048",
		"NUM_PREDICT":         "32",
		"ADAPTER_TR_PATH":     ollamareal.WriteFile(t, "tr.lora.gguf", ollamareal.TinyAdapter()),
		"ADAPTER_PYTHON_PATH": ollamareal.WriteFile(t, "python.fused.gguf", ollamareal.TinyFused()),
		"LOG_LEVEL":           "warn",
	}
}

// listRows parses `evo experts list` into expert → its columns.
func listRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 5 {
			rows[f[0]] = f
		}
	}
	return rows
}

func TestExpertsSyncAndListAgainstRealOllama(t *testing.T) {
	srv, env := realExperts(t)

	code, out, stderr := evo(t, env, "", "experts", "list")
	if code != 0 {
		t.Fatalf("list: exit %d\n%s", code, stderr)
	}
	rows := listRows(t, out)
	for name, wantExists := range map[string]string{"base": "yes", "tr_chat": "no", "python_coder": "no"} {
		if got := rows[name]; len(got) != 5 || got[3] != wantExists {
			t.Errorf("before sync, %s row = %q, want exists %s\n%s", name, got, wantExists, out)
		}
	}
	if !strings.Contains(out, "2 model(s) missing: run `evo experts sync`") {
		t.Errorf("list does not say what to run:\n%s", out)
	}

	code, out, stderr = evo(t, env, "", "experts", "sync")
	if code != 0 {
		t.Fatalf("sync: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	t.Logf("first sync:\n%s", out)
	if !strings.Contains(out, "2 created") {
		t.Errorf("first sync output lacks \"2 created\":\n%s", out)
	}
	for _, want := range []string{"tr_chat: upload", "python_coder: create python_coder"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}

	code, out, stderr = evo(t, env, "", "experts", "sync")
	if code != 0 {
		t.Fatalf("second sync: exit %d\n%s", code, stderr)
	}
	t.Logf("second sync:\n%s", out)
	if !strings.Contains(out, "2 unchanged, nothing to do") || strings.Contains(out, "created") || strings.Contains(out, "updated") {
		t.Errorf("second sync changed something:\n%s", out)
	}

	// Load one expert: list must say exactly that one (and nothing else)
	// is loaded.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, out, stderr = evo(t, env, "", "experts", "list")
	if code != 0 {
		t.Fatalf("list: exit %d\n%s", code, stderr)
	}
	for name, row := range listRows(t, out) {
		if row[3] != "yes" || row[4] != "no" {
			t.Errorf("after sync, %s row = %q, want exists yes, loaded no", name, row)
		}
	}
	if err := preload(ctx, srv, "python_coder"); err != nil {
		t.Fatal(err)
	}
	_, out, _ = evo(t, env, "", "experts", "list")
	want := map[string]string{"base": "no", "tr_chat": "no", "python_coder": "yes"}
	for name, row := range listRows(t, out) {
		if row[4] != want[name] {
			t.Errorf("after loading python_coder, %s row = %q, want loaded %s\n%s", name, row, want[name], out)
		}
	}
}

func TestExpertsSyncResidentAndDryRun(t *testing.T) {
	_, env := realExperts(t)
	code, out, stderr := evo(t, env, "", "experts", "sync", "--dry-run")
	if code != 0 || !strings.Contains(out, "2 would create") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = evo(t, env, "", "experts", "sync", "--resident")
	if code != 0 {
		t.Fatalf("resident sync: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "adapter (resident)") || !strings.Contains(out, "2 created") {
		t.Errorf("resident sync output:\n%s", out)
	}
	// Switching back to shared updates the adapter expert only.
	code, out, _ = evo(t, env, "", "experts", "sync")
	if code != 0 || !strings.Contains(out, "1 updated, 1 unchanged") {
		t.Errorf("back to shared: exit %d\n%s", code, out)
	}
}

func TestExpertsSyncFailsClearly(t *testing.T) {
	_, env := realExperts(t)
	delete(env, "ADAPTER_TR_PATH")
	code, out, _ := evo(t, env, "", "experts", "sync")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "${ADAPTER_TR_PATH}") || !strings.Contains(out, "not set") || !strings.Contains(out, "1 created") {
		t.Errorf("output should name the unset variable and still sync the other expert:\n%s", out)
	}
	for _, args := range [][]string{{"experts"}, {"experts", "frobnicate"}, {"experts", "list", "x"}, {"experts", "sync", "x"}} {
		if code, _, _ := evo(t, env, "", args...); code != 2 {
			t.Errorf("evo %v: exit %d, want 2 (usage)", args, code)
		}
	}
}

// TestChatThroughSyncedExperts: the whole path — registry, sync, router,
// brain, real Ollama — answers in the routed expert's style.
func TestChatThroughSyncedExperts(t *testing.T) {
	_, env := realExperts(t)
	if code, out, stderr := evo(t, env, "", "experts", "sync"); code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, stderr)
	}
	env["DATABASE_URL"] = pgtest.NewSchema(t)
	tests := []struct {
		name, threshold, message string
		check                    func(string) bool
	}{
		{"router picks the Python expert", "0.3", "Python'da bir listeyi nasıl sıralarım?", ollamareal.IsExpertAnswer},
		{"base answers below the threshold", "1", "Python'da bir listeyi nasıl sıralarım?", ollamareal.IsBaseAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env["ROUTER_THRESHOLD"] = tt.threshold
			code, out, stderr := evo(t, env, tt.message+"\n", "chat", "--user", "ayse")
			if code != 0 {
				t.Fatalf("chat: exit %d\n%s", code, stderr)
			}
			reply := strings.TrimSpace(out)
			t.Logf("reply: %q", reply)
			if !tt.check(reply) {
				t.Errorf("reply %q is not in the expected model's style", reply)
			}
		})
	}
}

func preload(ctx context.Context, srv *ollamareal.Server, model string) error {
	c := ollama.New(srv.URL, nil, ollama.Options{NumCtx: 2048, KeepAlive: -1}, slog.New(slog.DiscardHandler))
	_, err := c.Preload(ctx, model)
	return err
}
