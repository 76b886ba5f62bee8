package ollamareal_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/evo-tr/evo/brain/ollama/ollamareal"
)

// chat asks model one question and returns the whole answer.
func chat(t *testing.T, s *ollamareal.Server, model string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	err := s.API.Chat(ctx, &api.ChatRequest{
		Model:    model,
		Messages: []api.Message{{Role: "user", Content: "merhaba, nasılsın?"}},
	}, func(r api.ChatResponse) error {
		out.WriteString(r.Message.Content)
		return nil
	})
	if err != nil {
		t.Fatalf("chat %s: %v", model, err)
	}
	return out.String()
}

// TestTinyModelsServeDistinctAnswers creates the tiny base, an adapter
// expert and a fused expert in a real server and checks who answers how.
func TestTinyModelsServeDistinctAnswers(t *testing.T) {
	s := ollamareal.Start(t, ollamareal.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.CreateModel(ctx, "tiny-base", ollamareal.TinyModel(), ollamareal.BaseParameters()); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateModel(ctx, "tiny-fused", ollamareal.TinyFused(), ollamareal.BaseParameters()); err != nil {
		t.Fatal(err)
	}
	adapter := ollamareal.TinyAdapter()
	if err := s.API.CreateBlob(ctx, ollamareal.Digest(adapter), bytes.NewReader(adapter)); err != nil {
		t.Fatal(err)
	}
	stream := false
	if err := s.API.Create(ctx, &api.CreateRequest{Model: "tiny-expert", From: "tiny-base",
		Adapters: map[string]string{"lora.gguf": ollamareal.Digest(adapter)}, Stream: &stream},
		func(api.ProgressResponse) error { return nil }); err != nil {
		t.Fatalf("create adapter expert: %v", err)
	}

	tests := []struct {
		model string
		check func(string) bool
	}{
		{"tiny-base", ollamareal.IsBaseAnswer},
		{"tiny-expert", ollamareal.IsExpertAnswer},
		{"tiny-fused", ollamareal.IsExpertAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			got := chat(t, s, tt.model)
			t.Logf("%s: %q", tt.model, got)
			if !tt.check(got) {
				t.Errorf("%s answered %q: not in its style", tt.model, got)
			}
		})
	}
}

func TestTinyModelsAreDeterministic(t *testing.T) {
	for name, gen := range map[string]func() []byte{
		"model": ollamareal.TinyModel, "adapter": ollamareal.TinyAdapter, "fused": ollamareal.TinyFused,
	} {
		t.Run(name, func(t *testing.T) {
			a, b := gen(), gen()
			if !bytes.Equal(a, b) {
				t.Errorf("two calls gave different bytes (%d, %d): digests would differ between syncs", len(a), len(b))
			}
		})
	}
}
