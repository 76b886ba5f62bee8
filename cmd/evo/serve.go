package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
)

// pinger is anything /healthz checks.
type pinger interface {
	Ping(ctx context.Context) error
}

// cmdServe runs the configured bots and the HTTP server until interrupted.
func cmdServe(ctx context.Context, a *app, _ []string) error {
	svc, err := a.openService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	b, st, llm, experts := svc.brain, svc.store, svc.llm, svc.experts
	a.log.Info("starting evo", "version", version, "config", a.cfg.String())
	deps := map[string]pinger{"postgres": st, "ollama": llm}
	if svc.memory != nil {
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
		bots, err = a.startBots(runCtx, b, goRun)
	}
	if err != nil {
		cancel()
		wg.Wait()
		return err
	}
	if bots == 0 {
		a.log.Warn("no bot token set (TELEGRAM_BOT_TOKEN, DISCORD_BOT_TOKEN): serving /healthz only; talk to the brain with `evo chat`")
	}

	select {
	case <-ctx.Done():
		a.log.Info("shutting down")
	case err = <-errc:
		a.log.Error("stopping", "err", err)
	}
	cancel()
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer done()
	_ = srv.Shutdown(shutdownCtx)
	if werr := b.Wait(shutdownCtx); werr != nil {
		a.log.Warn("some replies did not finish before shutdown", "err", werr)
	}
	if ferr := b.Flush(shutdownCtx); ferr != nil {
		a.log.Error("messages kept in memory could not be stored", "pending", b.Pending(), "err", ferr)
	}
	wg.Wait()
	return err
}

// flushLoop stores messages kept in memory during a database outage.
func flushLoop(ctx context.Context, a *app, b *brain.Brain) {
	t := time.NewTicker(5 * time.Second)
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

// healthHandler serves /healthz: 200 when every dependency answers, 503
// otherwise, with a JSON body saying which; and /metrics.
func healthHandler(b *brain.Brain, deps map[string]pinger, m http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		body := map[string]any{"pending_messages": b.Pending()}
		status := http.StatusOK
		for _, name := range sortedKeys(deps) {
			if err := deps[name].Ping(ctx); err != nil {
				body[name] = err.Error()
				status = http.StatusServiceUnavailable
			} else {
				body[name] = "ok"
			}
		}
		body["status"] = map[bool]string{true: "ok", false: "degraded"}[status == http.StatusOK]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	})
	return mux
}
