package braintest_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

func TestMemMemory(t *testing.T) {
	braintest.TestLongTermMemory(t, func(*testing.T) braintest.LongTermMemory {
		return braintest.NewMemMemory(nil, "")
	})
}

// failingEmbedder fails every call with err.
type failingEmbedder struct{ err error }

func (f failingEmbedder) Embed(context.Context, string, []string) ([][]float32, error) {
	return nil, f.err
}

func TestMemMemoryEmbedderErrors(t *testing.T) {
	ctx := context.Background()
	s := braintest.NewMemMemory(failingEmbedder{brain.ErrModelUnavailable}, "nomic")
	m := brain.Memory{ID: "a", Text: "anı", Time: braintest.T0}
	if err := s.Remember(ctx, brain.PlatformCLI, "me", []brain.Memory{m}); !errors.Is(err, brain.ErrModelUnavailable) {
		t.Errorf("Remember with a failing embedder: got %v, want ErrModelUnavailable", err)
	}
	if got, want := s.Len(brain.PlatformCLI, "me"), 0; got != want {
		t.Errorf("memories after a failed Remember: got %d, want %d", got, want)
	}
}

func TestHashEmbedder(t *testing.T) {
	ctx := context.Background()
	vecs, err := braintest.HashEmbedder{}.Embed(ctx, "any", []string{
		"İstanbul'da yaşıyor", "istanbul'da YAŞIYOR", "kedisi var", "", "Kedisi Pamuk",
	})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	for i, v := range vecs {
		if got, want := len(v), 64; got != want {
			t.Fatalf("vector %d: got %d dims, want %d", i, got, want)
		}
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("vector %d: squared norm %v, want 1", i, n)
		}
	}
	for _, c := range []struct {
		name   string
		a, b   int
		lo, hi float64
	}{
		{"Turkish casing is ignored", 0, 1, 0, 1e-6},
		{"a shared word is nearer than none", 2, 4, 0, 0.8},
		{"no shared word is far", 0, 2, 0.8, 1.01},
	} {
		d := braintest.CosineDistance(vecs[c.a], vecs[c.b])
		if d < c.lo || d > c.hi {
			t.Errorf("%s: distance %.4f, want within [%v, %v]", c.name, d, c.lo, c.hi)
		}
	}
	again, _ := braintest.HashEmbedder{Dims: 8}.Embed(ctx, "", []string{"kedisi var"})
	if got, want := len(again[0]), 8; got != want {
		t.Errorf("Dims 8: got %d dims, want %d", got, want)
	}
}

func TestCosineDistance(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b []float32
		want float64
	}{
		{"same direction", []float32{1, 2}, []float32{2, 4}, 0},
		{"orthogonal", []float32{1, 0}, []float32{0, 3}, 1},
		{"opposite", []float32{1, 0}, []float32{-1, 0}, 2},
		{"zero vector", []float32{0, 0}, []float32{1, 0}, 1},
		{"different lengths", []float32{1}, []float32{1, 0}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := braintest.CosineDistance(c.a, c.b); math.Abs(got-c.want) > 1e-9 {
				t.Errorf("CosineDistance(%v, %v): got %v, want %v", c.a, c.b, got, c.want)
			}
		})
	}
}
