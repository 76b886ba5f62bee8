package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/chroma"
)

// longTerm is long-term memory as the service uses it.
type longTerm interface {
	brain.Recall
	brain.Memorizer
	brain.Forgetter
	brain.MemoryLister
	Ping(ctx context.Context) error
}

// openMemory connects long-term memory (CHROMA_URL), embedding with
// EMBED_MODEL through Ollama; nil when CHROMA_URL is empty. A Chroma that
// is down at start is no error: the brain answers without memories and the
// night retries until it is back.
func (a *app) openMemory(ctx context.Context, emb brain.Embedder) (longTerm, error) {
	if a.cfg.ChromaURL == "" {
		a.log.Info("long-term memory off (CHROMA_URL is empty)")
		return nil, nil
	}
	s, err := chroma.New(ctx, chroma.Config{URL: a.cfg.ChromaURL, Embedder: emb, EmbedModel: a.cfg.EmbedModel}, a.log)
	if err != nil {
		return nil, fmt.Errorf("CHROMA_URL: %w", err)
	}
	// Say now, once, what to run when the embedding model is missing.
	probe, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := emb.Embed(probe, a.cfg.EmbedModel, []string{"merhaba"}); errors.Is(err, brain.ErrModelNotFound) {
		a.log.Warn("long-term memory needs the embedding model: run  ollama pull "+a.cfg.EmbedModel, "EMBED_MODEL", a.cfg.EmbedModel)
	}
	return s, nil
}
