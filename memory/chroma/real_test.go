package chroma_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/brain/ollama/ollamareal"
	"github.com/evo-tr/evo/memory/chroma"
	"github.com/evo-tr/evo/memory/chroma/chromatest"
)

// TestRealOllamaEmbeddings stores memories embedded by a real Ollama (the
// tiny generated model) in a real Chroma: the contract holds with real
// vectors, and a memory's own text finds it first.
func TestRealOllamaEmbeddings(t *testing.T) {
	srv := ollamareal.Start(t, ollamareal.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.CreateModel(ctx, "tiny-embed", ollamareal.TinyModel(), ollamareal.BaseParameters()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	emb := ollama.New(srv.URL, nil, ollama.Options{NumCtx: 512}, log)
	store, err := chroma.New(ctx, chroma.Config{URL: chromatest.Start(t).URL(), Embedder: emb, EmbedModel: "tiny-embed"}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })

	when := time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC)
	mems := []brain.Memory{
		{ID: "m1", Text: "Kullanıcının kedisinin adı Pamuk.", Tags: []string{"kedi"}, Time: when},
		{ID: "m2", Text: "Kullanıcı Python ile bir Flask projesi geliştiriyor.", Tags: []string{"python"}, Time: when},
		{ID: "m3", Text: "Kullanıcı her sabah koşuya çıkıyor.", Tags: []string{"spor"}, Time: when},
	}
	if err := store.Remember(ctx, brain.PlatformTelegram, "42", mems); err != nil {
		t.Fatalf("Remember with real embeddings: %v", err)
	}
	for _, m := range mems {
		got, err := store.Top(ctx, brain.PlatformTelegram, "42", m.Text, 3)
		if err != nil {
			t.Fatalf("Top: %v", err)
		}
		if len(got) != 3 {
			t.Fatalf("Top(%q) returned %d memories, want 3", m.Text, len(got))
		}
		if got[0].ID != m.ID || got[0].Distance > 1e-3 {
			t.Errorf("Top(%q) first = %s at distance %.4f, want %s at ~0", m.Text, got[0].ID, got[0].Distance, m.ID)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Distance < got[i-1].Distance {
				t.Errorf("Top(%q) not nearest first: %v", m.Text, got)
			}
		}
	}
}
