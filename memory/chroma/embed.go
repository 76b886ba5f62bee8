package chroma

import (
	"context"
	"errors"
	"fmt"

	"github.com/amikos-tech/chroma-go/pkg/embeddings"

	"github.com/evo-tr/evo/brain"
)

// embedFunc is chroma-go's embedding function made of a brain.Embedder and
// a model. The Store embeds texts itself and hands Chroma the vectors, but
// it passes this function whenever it creates or opens a collection: a
// collection opened without one makes chroma-go download an ONNX runtime
// and model at run time, which fails offline.
type embedFunc struct {
	e     brain.Embedder
	model string
}

var _ embeddings.EmbeddingFunction = (*embedFunc)(nil)

// embed returns one vector per text, checking that the embedder kept its
// promise: as many vectors as texts, all of one non-zero length.
func (f *embedFunc) embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := f.e.Embed(ctx, f.model, texts)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("embedder returned %d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		if len(v) == 0 {
			return nil, fmt.Errorf("embedder returned an empty vector for text %d", i)
		}
		if len(v) != len(vecs[0]) {
			return nil, fmt.Errorf("embedder returned vectors of %d and %d dimensions", len(vecs[0]), len(v))
		}
	}
	return vecs, nil
}

// EmbedDocuments returns a vector for each text.
func (f *embedFunc) EmbedDocuments(ctx context.Context, texts []string) ([]embeddings.Embedding, error) {
	vecs, err := f.embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	out := make([]embeddings.Embedding, len(vecs))
	for i, v := range vecs {
		out[i] = embeddings.NewEmbeddingFromFloat32(v)
	}
	return out, nil
}

// EmbedQuery embeds one text.
func (f *embedFunc) EmbedQuery(ctx context.Context, text string) (embeddings.Embedding, error) {
	out, err := f.EmbedDocuments(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	if len(out) != 1 {
		return nil, errors.New("embedder returned no vector")
	}
	return out[0], nil
}

// Name identifies the function; Chroma does not store it (the Store
// creates collections without embedding function configuration).
func (f *embedFunc) Name() string { return "evo_embedder" }

// GetConfig returns the model.
func (f *embedFunc) GetConfig() embeddings.EmbeddingFunctionConfig {
	return embeddings.EmbeddingFunctionConfig{"model": f.model}
}

// DefaultSpace is cosine: the Store creates collections in that space.
func (f *embedFunc) DefaultSpace() embeddings.DistanceMetric { return embeddings.COSINE }

// SupportedSpaces lists the spaces the vectors make sense in.
func (f *embedFunc) SupportedSpaces() []embeddings.DistanceMetric {
	return []embeddings.DistanceMetric{embeddings.COSINE, embeddings.L2, embeddings.IP}
}
