package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/evo-tr/evo/brain"
)

// fakeEmbedder embeds texts starting with "a" as (1, 0), with "b" as
// (0, 1), and others by its table; it fails when err is set.
type fakeEmbedder struct {
	mu      sync.Mutex
	table   map[string][]float32
	err     error
	calls   int
	lengths []int
	badLen  bool
}

var _ brain.Embedder = (*fakeEmbedder)(nil)

func (f *fakeEmbedder) Embed(_ context.Context, model string, texts []string) ([][]float32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.lengths = append(f.lengths, len(texts))
	if f.err != nil {
		return nil, f.err
	}
	if model != "emb" {
		return nil, fmt.Errorf("model %q not found", model)
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		switch {
		case f.table[t] != nil:
			out[i] = f.table[t]
		case strings.HasPrefix(t, "a"):
			out[i] = []float32{2, 0}
		default:
			out[i] = []float32{0, 3}
		}
		if f.badLen && i == len(texts)-1 {
			out[i] = []float32{1, 2, 3}
		}
	}
	return out, nil
}

// abRouter routes texts of x's to expert a and of y's to expert b; its
// examples start with the expert's letter.
func abRouter(t *testing.T, opts ...Option) *Router {
	t.Helper()
	var as, bs []string
	for i := range 70 {
		as = append(as, fmt.Sprintf("a xxx %d xx", i))
		bs = append(bs, fmt.Sprintf("b yyy %d yy", i))
	}
	r, err := New([]brain.Expert{
		{Name: "a", Model: "a", Examples: as},
		{Name: "b", Model: "b", Examples: bs},
	}, testBase, 0.6, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestUseEmbeddingsBlendsTheVote(t *testing.T) {
	const query = "xxx xxx" // the classifier says a, the embedding says b
	tests := []struct {
		name   string
		weight float64
		want   string
	}{
		{"vote alone", 1, "b"},
		{"small weight", 0.05, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := abRouter(t)
			before := r.Route(context.Background(), query)
			if before.Expert != "a" {
				t.Fatalf("classifier alone: %s, want a", before)
			}
			fe := &fakeEmbedder{table: map[string][]float32{query: {0, 1}}}
			if err := r.UseEmbeddings(context.Background(), fe, "emb", tt.weight); err != nil {
				t.Fatal(err)
			}
			if got, want := fe.lengths, []int{64, 64, 12}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("batches = %v, want %v", got, want)
			}
			d := r.Route(context.Background(), query)
			if d.Expert != tt.want {
				t.Errorf("with the vote: %s, want %s", d, tt.want)
			}
			// The b vote (all 7 neighbours) moves weight from a to b.
			wantConf := (1-tt.weight)*before.RunnerUpConfidence + tt.weight
			if tt.want == "a" {
				wantConf = (1 - tt.weight) * before.Confidence
			}
			if math.Abs(d.Confidence-wantConf) > 1e-9 {
				t.Errorf("confidence = %v, want %v", d.Confidence, wantConf)
			}
		})
	}
}

func TestEmbeddingFailureLeavesTheClassifier(t *testing.T) {
	var logs bytes.Buffer
	r := abRouter(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	want := r.Route(context.Background(), "yyy")
	fe := &fakeEmbedder{}
	if err := r.UseEmbeddings(context.Background(), fe, "emb", 0.5); err != nil {
		t.Fatal(err)
	}
	fe.mu.Lock()
	fe.err = errors.New("connection refused")
	fe.mu.Unlock()
	if got := r.Route(context.Background(), "yyy"); got != want {
		t.Errorf("Route = %+v, want the classifier's %+v", got, want)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("log = %q, want the embedding error", logs.String())
	}
}

func TestUseEmbeddingsErrors(t *testing.T) {
	tests := []struct {
		name   string
		e      brain.Embedder
		model  string
		weight float64
		want   string
	}{
		{"no embedder", nil, "emb", 0.5, "no embedder"},
		{"no model", &fakeEmbedder{}, "", 0.5, "no embedder or model"},
		{"zero weight", &fakeEmbedder{}, "emb", 0, "weight"},
		{"weight above 1", &fakeEmbedder{}, "emb", 1.5, "weight"},
		{"server down", &fakeEmbedder{err: errors.New("connection refused")}, "emb", 0.5, "connection refused"},
		{"unknown model", &fakeEmbedder{}, "nope", 0.5, `"nope" not found`},
		{"unequal vectors", &fakeEmbedder{badLen: true}, "emb", 0.5, "unequal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := abRouter(t)
			want := r.Route(context.Background(), "xxx")
			err := r.UseEmbeddings(context.Background(), tt.e, tt.model, tt.weight)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if got := r.Route(context.Background(), "xxx"); got != want {
				t.Errorf("after a failed UseEmbeddings: %+v, want %+v", got, want)
			}
		})
	}
}
