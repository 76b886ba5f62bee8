package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/brain/router"
	"github.com/evo-tr/evo/deploy"
	"github.com/evo-tr/evo/memory/postgres"
)

// openStore connects to Postgres and applies the migrations. A database
// that cannot be reached at start is an error that says what to check.
func (a *app) openStore(ctx context.Context) (*postgres.Store, error) {
	st, err := postgres.Open(ctx, a.cfg.DatabaseURL, a.log)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return st, nil
}

// ollamaClient builds the one Ollama client, with the options every
// request carries.
func (a *app) ollamaClient() (*ollama.Client, error) {
	u, err := a.cfg.OllamaURL()
	if err != nil {
		return nil, fmt.Errorf("OLLAMA_HOST: %w", err)
	}
	return ollama.New(u, nil, ollama.Options{
		NumCtx:     a.cfg.NumCtx,
		NumPredict: a.cfg.NumPredict,
		KeepAlive:  a.cfg.KeepAlive,
	}, a.log), nil
}

// expertsFS is EXPERTS_DIR when it exists, else the copy built into the
// binary, so evo works from any directory.
func (a *app) expertsFS() (fs.FS, string, error) {
	if st, err := os.Stat(a.cfg.ExpertsDir); err == nil && st.IsDir() {
		return os.DirFS(a.cfg.ExpertsDir), a.cfg.ExpertsDir, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("EXPERTS_DIR: %w", err)
	}
	sub, err := fs.Sub(deploy.Experts, "experts")
	if err != nil {
		return nil, "", fmt.Errorf("embedded experts: %w", err)
	}
	return sub, "built-in", nil
}

// loadExperts reads the expert registry.
func (a *app) loadExperts() ([]brain.Expert, error) {
	fsys, where, err := a.expertsFS()
	if err != nil {
		return nil, err
	}
	experts, err := brain.LoadExperts(fsys)
	if err != nil {
		return nil, fmt.Errorf("load experts from %s: %w", where, err)
	}
	return experts, nil
}

// baseExpert is the frozen base model with the default Turkish prompt.
func (a *app) baseExpert() brain.Expert {
	return brain.Expert{
		Name:        brain.BaseExpert,
		Model:       a.cfg.BaseModel,
		Description: "Temel model: emin olmadığımda o cevaplar.",
		SystemPrompt: "Sen EVO-TR'sin: kullanıcının kendi bilgisayarında çalışan, yardımsever bir Türkçe yapay zekâ asistanı. " +
			"Kullanıcı hangi dilde yazarsa o dilde, varsayılan olarak Türkçe cevap ver. Kısa, doğru ve samimi ol; " +
			"bilmediğin bir şeyi uydurma. Kod gerekiyorsa dil etiketli Markdown kod bloğu kullan.",
	}
}

// newRouter trains the router from the registry's examples, with the
// embedding vote when ROUTER_EMBED_MODEL is set.
func (a *app) newRouter(ctx context.Context, experts []brain.Expert) (*router.Router, error) {
	r, err := router.New(experts, a.baseExpert(), a.cfg.RouterThreshold, router.WithLogger(a.log))
	if err != nil {
		return nil, fmt.Errorf("train router: %w", err)
	}
	a.routerEmbeddings(ctx, r)
	return r, nil
}

// service is the brain with what it runs on.
type service struct {
	brain   *brain.Brain
	store   *postgres.Store
	llm     *ollama.Client
	experts []brain.Expert
}

// Close releases the database.
func (s *service) Close() { s.store.Close() }

// openService opens the store (migrated), the Ollama client and the brain:
// what serve and chat share. Close it when done.
func (a *app) openService(ctx context.Context) (*service, error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	llm, err := a.ollamaClient()
	if err == nil {
		var s service
		s.brain, s.experts, err = a.newBrain(ctx, st, llm)
		if err == nil {
			s.store, s.llm = st, llm
			return &s, nil
		}
	}
	st.Close()
	return nil, err
}

// newBrain wires the brain over a store and Ollama.
func (a *app) newBrain(ctx context.Context, st brain.History, llm brain.LLM) (*brain.Brain, []brain.Expert, error) {
	experts, err := a.loadExperts()
	if err != nil {
		return nil, nil, err
	}
	r, err := a.newRouter(ctx, experts)
	if err != nil {
		return nil, nil, err
	}
	b, err := brain.New(brain.Config{
		Base:            a.baseExpert(),
		Experts:         experts,
		ContextMessages: a.cfg.ContextMessages,
		NumCtx:          a.cfg.NumCtx,
		NumPredict:      a.cfg.NumPredict,
		MaxParallel:     a.cfg.MaxParallel,
		ReplyTimeout:    a.cfg.ReplyTimeout,
	}, st, llm, r, brain.SystemClock{}, a.log)
	if err != nil {
		return nil, nil, err
	}
	return b, experts, nil
}
