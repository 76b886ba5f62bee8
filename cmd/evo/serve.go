package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/memory/postgres"
)

// pinger is anything /readyz checks.
type pinger interface {
	Ping(ctx context.Context) error
}

// cmdServe runs the configured bots and the HTTP server until interrupted.
// It starts while PostgreSQL is down (messages wait in the spool until it
// arrives). On SIGTERM or SIGINT it stops taking updates, lets the replies
// in flight finish within SHUTDOWN_TIMEOUT, writes the spool to the
// database if it can, and exits 0.
func cmdServe(ctx context.Context, a *app, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this run to FILE when it stops (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	svc, err := a.openServing(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	b, st, llm, experts := svc.brain, svc.store, svc.llm, svc.experts
	a.log.Info("starting evo", "version", version, "config", a.cfg.String())
	// One attempt now, so that a database that is up is ready before the
	// first update; a database that is down is waited for in the
	// background while the bots answer from the spool.
	if err := st.Migrate(ctx); err != nil {
		a.log.Warn("starting without the database: messages wait in the spool until it answers",
			"spool", a.cfg.SpoolDir, "err", err)
	}
	deps := map[string]pinger{"postgres": st, "ollama": llm}
	if a.cfg.ChromaURL != "" {
		deps["chroma"] = svc.memory
	}

	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: healthHandler(b, deps, svc.metrics),
		ReadHeaderTimeout: 5 * time.Second}

	var wg sync.WaitGroup
	errc := make(chan error, 4)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	goRun := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	goRun("http", func(ctx context.Context) error {
		a.log.Info("http listening", "addr", ln.Addr().String())
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	goRun("outbox", func(ctx context.Context) error { flushLoop(ctx, a, b); return nil })
	delivers := map[brain.Platform]brain.Deliverer{}
	// Warm-up runs in the background: start-up never waits for a model.
	models := []string{a.cfg.BaseModel}
	for _, e := range experts {
		models = append(models, e.Model)
	}
	ollama.Warm(runCtx, llm, models, a.log)

	night, err := a.startNight(runCtx, svc.night)
	if err == nil && night != nil {
		defer func() {
			if err := night.Stop(); err != nil {
				a.log.Warn("stop night", "err", err)
			}
		}()
	}
	var bots int
	if err == nil {
		bots, err = a.startBots(runCtx, b, goRun, delivers)
	}
	if err != nil {
		cancel()
		wg.Wait()
		return err
	}
	// Written by startBots only: the map is read from here on.
	goRun("database", func(ctx context.Context) error {
		a.waitForDatabase(ctx, st, b, delivers)
		return nil
	})
	if bots == 0 {
		a.log.Warn("no bot token set (TELEGRAM_BOT_TOKEN, DISCORD_BOT_TOKEN): serving /healthz, /readyz and /metrics only; talk to the brain with `evo chat`")
	}

	select {
	case <-ctx.Done():
		a.log.Info("shutting down")
	case err = <-errc:
		a.log.Error("stopping", "err", err)
	}
	// The bots stop taking updates (runCtx) but deliver the replies in
	// flight, which run on the brain's own context until SHUTDOWN_TIMEOUT.
	cancel()
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer done()
	if werr := b.Shutdown(shutdownCtx); werr != nil {
		a.log.Warn("replies cut at shutdown; their messages are stored and answered after the next start",
			"timeout", a.cfg.ShutdownTimeout)
	}
	flushCtx, flushed := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer flushed()
	if b.Pending() > 0 {
		if ferr := b.Flush(flushCtx); ferr != nil {
			a.log.Warn("the database is unavailable; messages stay in the spool for the next start",
				"pending", b.Pending(), "dir", a.cfg.SpoolDir, "err", ferr)
		}
	}
	_ = srv.Shutdown(flushCtx)
	wg.Wait()
	a.log.Info("stopped")
	return err
}

// waitForDatabase migrates the database once it answers, writes the spool
// to it, and answers the messages the last run left unanswered.
func (a *app) waitForDatabase(ctx context.Context, st *postgres.Store, b *brain.Brain, delivers map[brain.Platform]brain.Deliverer) {
	if !st.Ready() {
		if err := st.MigrateWhenUp(ctx, 30*time.Second); err != nil {
			return // shutting down
		}
	}
	if b.Pending() > 0 {
		if err := b.Flush(ctx); err != nil {
			a.log.Warn("database lost again while writing the spool", "pending", b.Pending(), "err", err)
		}
	}
	if a.cfg.ResumeWindow <= 0 {
		return
	}
	n, err := b.Resume(ctx, time.Now().Add(-a.cfg.ResumeWindow), delivers)
	if err != nil {
		a.log.Warn("could not look for messages left unanswered", "err", err)
		return
	}
	if n > 0 {
		a.log.Info("answering messages the last run left unanswered", "count", n, "window", a.cfg.ResumeWindow)
	}
}

// flushLoop writes the spool to the database once it is back.
func flushLoop(ctx context.Context, a *app, b *brain.Brain) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if b.Pending() == 0 {
				continue
			}
			if err := b.Flush(ctx); err != nil {
				a.log.Warn("database still unavailable", "pending", b.Pending(), "err", err)
			}
		}
	}
}

// healthHandler serves /healthz: 200 while the process runs, with the
// messages waiting for the database; /readyz: 200 when every dependency
// answers (Postgres migrated, Ollama, Chroma when configured), 503
// otherwise, with a JSON body naming what is down; and /metrics.
func healthHandler(b *brain.Brain, deps map[string]pinger, m http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "pending_messages": b.Pending()})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		names := sortedKeys(deps)
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, name := range names { // at once: a hung one costs the timeout once
			wg.Go(func() { errs[i] = deps[name].Ping(ctx) })
		}
		wg.Wait()
		body := map[string]any{"pending_messages": b.Pending()}
		down := []string{}
		for i, name := range names {
			if errs[i] != nil {
				body[name] = errs[i].Error()
				down = append(down, name)
			} else {
				body[name] = "ok"
			}
		}
		body["down"] = down
		status := http.StatusOK
		body["status"] = "ok"
		if len(down) > 0 {
			status = http.StatusServiceUnavailable
			body["status"] = "degraded"
		}
		writeJSON(w, status, body)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// startCPUProfile profiles the CPU into path until the returned func is
// called; an empty path profiles nothing.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
