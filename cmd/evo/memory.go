package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/chroma"
	"github.com/evo-tr/evo/memory/longterm"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/sleep"
)

// longTerm is long-term memory as the service uses it: rows in Postgres,
// Chroma the search index over them.
type longTerm interface {
	brain.Recall
	brain.Memorizer
	brain.Forgetter
	brain.MemoryLister
	sleep.DayReplacer
	Reindex(ctx context.Context, batch int, progress func(longterm.Progress)) (longterm.Progress, error)
	Ping(ctx context.Context) error
}

// openMemory connects long-term memory: its rows in st and, when
// CHROMA_URL is set, the Chroma index over them, embedding with
// EMBED_MODEL through Ollama. Without CHROMA_URL the rows are still
// written, listed and deleted, but nothing is recalled. A Chroma that is
// down at start is no error: the brain answers without memories and the
// night retries until it is back.
func (a *app) openMemory(ctx context.Context, st *postgres.Store, emb brain.Embedder) (longTerm, error) {
	rows := postgres.NewMemories(st, brain.SystemClock{})
	if a.cfg.ChromaURL == "" {
		a.log.Info("long-term memory search off (CHROMA_URL is empty): memories are kept but not recalled")
		return longterm.New(rows, nil, a.log)
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
	return longterm.New(rows, s, a.log)
}
