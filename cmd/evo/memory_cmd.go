package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/evo-tr/evo/memory/longterm"
)

// cmdMemory runs `evo memory reindex`: it rebuilds Chroma, the search
// index, from the memories' rows in Postgres (after Chroma lost its data,
// a new EMBED_MODEL or a Chroma upgrade).
func cmdMemory(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "reindex" {
		return fmt.Errorf("%w: evo memory reindex [--batch N]", errUsage)
	}
	fl := flag.NewFlagSet("memory reindex", flag.ContinueOnError)
	fl.SetOutput(a.stderr)
	batch := fl.Int("batch", longterm.DefaultBatch, "memories per write to Chroma; progress is printed after each")
	if err := fl.Parse(args[1:]); err != nil {
		return errUsage
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fl.Arg(0))
	}
	if *batch <= 0 {
		return fmt.Errorf("%w: --batch must be at least 1", errUsage)
	}
	if a.cfg.ChromaURL == "" {
		return errors.New("evo memory reindex rebuilds Chroma from the memories in Postgres: set CHROMA_URL")
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	llm, err := a.ollamaClient()
	if err != nil {
		return err
	}
	mem, err := a.openMemory(ctx, st, llm)
	if err != nil {
		return err
	}
	if err := mem.Ping(ctx); err != nil {
		return fmt.Errorf("chroma does not answer at CHROMA_URL: %w", err)
	}
	fmt.Fprintln(a.stdout, "Rebuilding Chroma from the memories in Postgres…")
	pr, err := mem.Reindex(ctx, *batch, func(p longterm.Progress) {
		fmt.Fprintf(a.stdout, "  users %d/%d, memories %d\n", p.UsersDone, p.Users, p.Memories)
	})
	if err != nil {
		return fmt.Errorf("reindex (users %d/%d, memories %d done): %w", pr.UsersDone, pr.Users, pr.Memories, err)
	}
	fmt.Fprintf(a.stdout, "Done: %d memories of %d users are in Chroma again.\n", pr.Memories, pr.Users)
	return nil
}
