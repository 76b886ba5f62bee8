package ollama_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/brain/ollama/gguf"
	"github.com/evo-tr/evo/brain/ollama/ollamareal"
	"github.com/evo-tr/evo/brain/ollama/ollamatest"
)

// These tests run against a real Ollama server (v0.6.5, built by
// .ci/ollama.sh) serving the tiny generated models. They fail, never
// skip, when the server cannot be built or started.

// tiny is a real server with the tiny base created (as `ollama pull`
// would) and the expert files written to disk.
type tiny struct {
	srv     *ollamareal.Server
	client  *ollama.Client
	adapter string // path of the LoRA adapter GGUF
	fused   string // path of the fused expert GGUF
}

const tinyBase = "tiny-base"

func newTiny(t testing.TB, cfg ollamareal.Config) *tiny {
	t.Helper()
	srv := ollamareal.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateModel(ctx, tinyBase, ollamareal.TinyModel(), ollamareal.BaseParameters()); err != nil {
		t.Fatal(err)
	}
	return &tiny{
		srv:     srv,
		client:  ollama.New(srv.URL, nil, ollama.Options{NumCtx: 2048, KeepAlive: -1}, discard()),
		adapter: ollamareal.WriteFile(t, "tr_chat.lora.gguf", ollamareal.TinyAdapter()),
		fused:   ollamareal.WriteFile(t, "python_coder.gguf", ollamareal.TinyFused()),
	}
}

// experts is a registry with both packagings.
func (x *tiny) experts() []brain.Expert {
	return []brain.Expert{
		{Name: "tr_chat", Model: "tr_chat", Packaging: brain.PackagingAdapter, From: tinyBase, File: x.adapter},
		{Name: "python_coder", Model: "python_coder", Packaging: brain.PackagingGGUF, From: tinyBase, File: x.fused},
		{Name: "base", Model: tinyBase, Packaging: brain.PackagingExisting},
	}
}

func (x *tiny) sync(t *testing.T, experts []brain.Expert, opts ollama.SyncOptions) ollama.SyncReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := x.client.Sync(ctx, experts, opts)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return rep
}

func (x *tiny) answer(t *testing.T, model string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b strings.Builder
	_, err := x.client.Chat(ctx, brain.ChatRequest{Model: model, Messages: []brain.ChatMessage{
		{Role: brain.RoleUser, Content: "Merhaba! Bana kısa bir şey söyler misin?"}}},
		func(d string) error { b.WriteString(d); return nil })
	if err != nil {
		t.Fatalf("chat %s: %v", model, err)
	}
	return b.String()
}

func actions(rep ollama.SyncReport) map[string]ollama.SyncAction {
	out := map[string]ollama.SyncAction{}
	for _, r := range rep.Results {
		out[r.Expert] = r.Action
	}
	return out
}

func TestSyncCreatesExpertsThatAnswerDifferently(t *testing.T) {
	x := newTiny(t, ollamareal.Config{})
	rep := x.sync(t, x.experts(), ollama.SyncOptions{})
	want := map[string]ollama.SyncAction{"tr_chat": ollama.SyncCreated, "python_coder": ollama.SyncCreated, "base": ollama.SyncPresent}
	if got := actions(rep); !mapsEqual(got, want) {
		t.Fatalf("first sync: actions = %v, want %v", got, want)
	}

	answers := map[string]string{}
	for _, m := range []string{tinyBase, "tr_chat", "python_coder"} {
		answers[m] = x.answer(t, m)
		t.Logf("%s answered %q", m, answers[m])
	}
	if !ollamareal.IsBaseAnswer(answers[tinyBase]) {
		t.Errorf("base answered %q, want lowercase words", answers[tinyBase])
	}
	for _, m := range []string{"tr_chat", "python_coder"} {
		if !ollamareal.IsExpertAnswer(answers[m]) {
			t.Errorf("expert %s answered %q, want capitals and digits (its adapter's style)", m, answers[m])
		}
		if answers[m] == answers[tinyBase] {
			t.Errorf("expert %s and the base answered the same %q", m, answers[m])
		}
	}

	t.Run("second sync changes nothing", func(t *testing.T) {
		before := modifiedAt(t, x.srv, "tr_chat", "python_coder")
		rep := x.sync(t, x.experts(), ollama.SyncOptions{})
		want := map[string]ollama.SyncAction{"tr_chat": ollama.SyncUnchanged, "python_coder": ollama.SyncUnchanged, "base": ollama.SyncPresent}
		if got := actions(rep); !mapsEqual(got, want) {
			t.Errorf("second sync: actions = %v, want %v", got, want)
		}
		if rep.Changed() != 0 {
			t.Errorf("second sync changed %d models, want 0", rep.Changed())
		}
		for _, r := range rep.Results {
			if r.Uploaded != 0 {
				t.Errorf("%s: uploaded %d bytes on the second sync, want 0", r.Expert, r.Uploaded)
			}
		}
		if after := modifiedAt(t, x.srv, "tr_chat", "python_coder"); !slices.Equal(before, after) {
			t.Errorf("models rewritten by the second sync: modified %v, then %v", before, after)
		}
	})

	t.Run("a changed adapter file updates its expert only", func(t *testing.T) {
		retag(t, x.adapter, "evo-tiny-expert v2")
		rep := x.sync(t, x.experts(), ollama.SyncOptions{})
		want := map[string]ollama.SyncAction{"tr_chat": ollama.SyncUpdated, "python_coder": ollama.SyncUnchanged, "base": ollama.SyncPresent}
		if got := actions(rep); !mapsEqual(got, want) {
			t.Errorf("actions = %v, want %v", got, want)
		}
		if r := rep.Results[0]; r.Why != "adapter changed" || r.Uploaded == 0 {
			t.Errorf("tr_chat: why %q, uploaded %d; want \"adapter changed\" and an upload", r.Why, r.Uploaded)
		}
		if a := x.answer(t, "tr_chat"); !ollamareal.IsExpertAnswer(a) {
			t.Errorf("updated expert answered %q, want the expert's style", a)
		}
	})

	t.Run("dry run reports and changes nothing", func(t *testing.T) {
		retag(t, x.fused, "evo-tiny-fused v2")
		rep := x.sync(t, x.experts(), ollama.SyncOptions{DryRun: true})
		if got := actions(rep)["python_coder"]; got != ollama.SyncStale {
			t.Errorf("python_coder: %q, want %q", got, ollama.SyncStale)
		}
		rep = x.sync(t, x.experts(), ollama.SyncOptions{DryRun: true})
		if got := actions(rep)["python_coder"]; got != ollama.SyncStale {
			t.Errorf("after a dry run python_coder is %q, want still %q", got, ollama.SyncStale)
		}
	})
}

func TestSyncFailuresNameTheFix(t *testing.T) {
	x := newTiny(t, ollamareal.Config{})
	tests := []struct {
		name   string
		expert brain.Expert
		want   string
	}{
		{"missing existing model", brain.Expert{Name: "e", Model: "nope", Packaging: brain.PackagingExisting}, "ollama pull nope"},
		{"missing base", brain.Expert{Name: "e", Model: "e", Packaging: brain.PackagingAdapter, From: "no-base", File: x.adapter}, "base model"},
		{"missing file", brain.Expert{Name: "e", Model: "e", Packaging: brain.PackagingGGUF, File: x.fused + ".missing"}, "no such file"},
		{"unset variable", brain.Expert{Name: "e", Model: "e", Packaging: brain.PackagingGGUF, File: "${ADAPTER_TR_PATH}"}, "not set"},
		{"not a GGUF", brain.Expert{Name: "e", Model: "e", Packaging: brain.PackagingGGUF, File: ollamareal.WriteFile(t, "x.gguf", []byte("hello"))}, "create e"},
		{"unknown packaging", brain.Expert{Name: "e", Model: "e", Packaging: "zip", File: x.fused}, "unknown packaging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rep, err := x.client.Sync(ctx, []brain.Expert{tt.expert}, ollama.SyncOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if got := rep.Results[0].Action; got != ollama.SyncFailed {
				t.Errorf("action = %q, want failed", got)
			}
		})
	}
}

// TestResidentExpertsStayLoaded: with --resident each adapter expert has
// its own copy of the base file, so warming all of them leaves all loaded;
// sharing one base file, each load pushes the other expert out.
func TestResidentExpertsStayLoaded(t *testing.T) {
	x := newTiny(t, ollamareal.Config{MaxLoaded: 4})
	adapter2 := ollamareal.WriteFile(t, "second.lora.gguf", ollamareal.TinyAdapter())
	retag(t, adapter2, "second expert")
	shared := []brain.Expert{
		{Name: "a", Model: "shared_a", Packaging: brain.PackagingAdapter, From: tinyBase, File: x.adapter},
		{Name: "b", Model: "shared_b", Packaging: brain.PackagingAdapter, From: tinyBase, File: adapter2},
	}
	resident := []brain.Expert{
		{Name: "a", Model: "resident_a", Packaging: brain.PackagingAdapter, From: tinyBase, File: x.adapter},
		{Name: "b", Model: "resident_b", Packaging: brain.PackagingAdapter, From: tinyBase, File: adapter2},
	}
	x.sync(t, shared, ollama.SyncOptions{})
	rep := x.sync(t, resident, ollama.SyncOptions{Resident: true})
	for _, r := range rep.Results {
		if r.Action != ollama.SyncCreated || !r.Resident {
			t.Errorf("%s: action %q resident %v, want created and resident", r.Model, r.Action, r.Resident)
		}
	}
	if rep := x.sync(t, resident, ollama.SyncOptions{Resident: true}); rep.Changed() != 0 {
		t.Errorf("second resident sync changed %d models, want 0", rep.Changed())
	}

	froms := map[string]string{}
	for _, m := range []string{tinyBase, "shared_a", "shared_b", "resident_a", "resident_b"} {
		froms[m] = fromLine(t, x.srv, m)
	}
	if froms["shared_a"] != froms[tinyBase] || froms["shared_b"] != froms[tinyBase] {
		t.Errorf("shared experts should use the base's file: %v", froms)
	}
	if froms["resident_a"] == froms[tinyBase] || froms["resident_b"] == froms[tinyBase] || froms["resident_a"] == froms["resident_b"] {
		t.Errorf("resident experts need files of their own: %v", froms)
	}

	tests := []struct {
		name        string
		models      []string
		wantEvicted []string
	}{
		{"shared base: the first expert is pushed out", []string{"shared_a", "shared_b"}, []string{"shared_a"}},
		{"resident: all stay", []string{tinyBase, "resident_a", "resident_b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var evicted []string
			for r := range ollama.Warm(ctx, x.client, tt.models, discard()) {
				if r.Err != nil {
					t.Errorf("warm %s: %v", r.Model, r.Err)
				}
				if r.Evicted {
					evicted = append(evicted, r.Model)
				}
			}
			if !slices.Equal(evicted, tt.wantEvicted) {
				t.Errorf("evicted = %v, want %v", evicted, tt.wantEvicted)
			}
			for _, m := range tt.models {
				a := x.answer(t, m)
				if want := m == tinyBase; ollamareal.IsBaseAnswer(a) != want {
					t.Errorf("%s answered %q", m, a)
				}
			}
		})
	}
}

// TestContractRealServer runs the adapter's contract (the same checks the
// fake passes) against the real server: the base and an adapter expert.
func TestContractRealServer(t *testing.T) {
	x := newTiny(t, ollamareal.Config{})
	x.sync(t, x.experts()[:1], ollama.SyncOptions{})
	for _, model := range []string{tinyBase, "tr_chat"} {
		t.Run(model, func(t *testing.T) {
			ollamatest.Contract(t, x.srv.URL.String(), ollamatest.ContractModels{Chat: model})
		})
	}
}

// retag changes a GGUF file's general.name: new bytes, same weights.
func retag(t testing.TB, path, name string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := gguf.Rewrite(&out, bytes.NewReader(data), func(h *gguf.Header) error {
		h.Set("general.name", name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func modifiedAt(t *testing.T, s *ollamareal.Server, models ...string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, m := range models {
		r, err := s.API.Show(context.Background(), &api.ShowRequest{Model: m})
		if err != nil {
			t.Fatalf("show %s: %v", m, err)
		}
		out = append(out, r.ModifiedAt)
	}
	return out
}

func fromLine(t *testing.T, s *ollamareal.Server, model string) string {
	t.Helper()
	r, err := s.API.Show(context.Background(), &api.ShowRequest{Model: model})
	if err != nil {
		t.Fatalf("show %s: %v", model, err)
	}
	for _, line := range strings.Split(r.Modelfile, "\n") {
		if strings.HasPrefix(line, "FROM ") {
			return line
		}
	}
	t.Fatalf("show %s: no FROM line in %q", model, r.Modelfile)
	return ""
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
