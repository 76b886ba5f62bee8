package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/deploy"
	"github.com/evo-tr/evo/memory/postgres"
	"github.com/evo-tr/evo/memory/spool"
	"github.com/evo-tr/evo/sleep"
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

// service is the brain with what it runs on.
type service struct {
	brain   *brain.Brain
	store   *postgres.Store
	llm     *ollama.Client
	experts []brain.Expert
	// memory is long-term memory: rows in Postgres; recall needs CHROMA_URL.
	memory longTerm
	// night is the night job, always there (/sleep, the schedule).
	night *sleep.Job
	// metrics count what the brain keeps (/metrics).
	metrics *metrics
	// spool keeps messages on disk while the database is down; nil for
	// the one-shot commands, whose brain keeps them in memory.
	spool *spool.Spool
	log   *slog.Logger
}

// Close releases the database and the spool.
func (s *service) Close() {
	s.store.Close()
	if s.spool != nil {
		if err := s.spool.Close(); err != nil {
			s.log.Warn("close spool", "err", err)
		}
	}
}

// openService opens the store (migrated), the Ollama client, long-term
// memory, the night job and the brain: what serve, chat and sleep share.
// Close it when done.
func (a *app) openService(ctx context.Context) (*service, error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	svc, err := a.wire(ctx, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return svc, nil
}

// openServing opens what evo serve runs on. Unlike openService it starts
// while PostgreSQL is down: the store connects and migrates when the
// database arrives (cmdServe waits for it in the background), and until
// then messages go to the spool in SPOOL_DIR.
func (a *app) openServing(ctx context.Context) (*service, error) {
	sp, err := spool.Open(a.cfg.SpoolDir, a.log)
	if err != nil {
		return nil, fmt.Errorf("SPOOL_DIR: %w", err)
	}
	st, err := postgres.Connect(ctx, a.cfg.DatabaseURL, a.log)
	if err != nil {
		_ = sp.Close()
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	svc, err := a.wire(ctx, st, brain.WithSpool(sp))
	if err != nil {
		st.Close()
		_ = sp.Close()
		return nil, err
	}
	svc.spool = sp
	if n := sp.Len(); n > 0 {
		a.log.Info("messages from the last run wait in the spool for the database", "count", n, "dir", a.cfg.SpoolDir)
	}
	return svc, nil
}

// wire builds everything but the store.
func (a *app) wire(ctx context.Context, st *postgres.Store, extra ...brain.Option) (*service, error) {
	llm, err := a.ollamaClient()
	if err != nil {
		return nil, err
	}
	s := &service{store: st, llm: llm, log: a.log}
	if s.memory, err = a.openMemory(ctx, st, llm); err != nil {
		return nil, err
	}
	if s.experts, err = a.loadExperts(); err != nil {
		return nil, err
	}
	s.metrics = newMetrics()
	// The night's model calls take the brain's MAX_PARALLEL slots, behind live replies.
	slots := brain.NewSlots(a.cfg.MaxParallel)
	if s.night, err = a.newNightJob(st, slots.NightLLM(llm), s.memory, s.experts, s.metrics); err != nil {
		return nil, err
	}
	opts := append([]brain.Option{brain.WithSlots(slots), brain.WithSleeper(meteredSleeper{Job: s.night, m: s.metrics, clock: brain.SystemClock{}}),
		brain.WithObserver(s.metrics)}, extra...)
	if s.memory != nil {
		opts = append(opts, brain.WithRecall(s.memory), brain.WithForgetter(s.memory), brain.WithMemoryLister(s.memory))
	}
	// /forget and /wipe: tombstones and users in the store, the night's training files.
	opts = append(opts, brain.WithTombstones(st), brain.WithUserFinder(st), brain.WithTrainingData(s.night.Training()))
	// The audit log, /stats and /export read the store; /stats checks the dependencies.
	health := map[string]brain.HealthCheck{"postgres": st.Ping, "ollama": llm.Ping}
	if a.cfg.ChromaURL != "" {
		health["chroma"] = s.memory.Ping
	}
	opts = append(opts, brain.WithAuditor(st), brain.WithStats(st), brain.WithExporter(st), brain.WithHealth(health),
		brain.WithTrainingLines(s.night.Training()))
	// Reactions, /iyi and /kotu on answers; the night reads them (night.go).
	opts = append(opts, brain.WithFeedback(st))
	// Who may use it (ACCESS_MODE, ALLOWED_USERS) and how fast: users.go.
	opts = append(opts, a.accessOptions(st)...)
	if s.brain, err = a.newBrain(ctx, st, llm, s.experts, opts...); err != nil {
		return nil, err
	}
	s.metrics.pending = s.brain.Pending
	return s, nil
}

// newBrain wires the brain over a store and Ollama.
func (a *app) newBrain(ctx context.Context, st brain.History, llm brain.LLM, experts []brain.Expert, opts ...brain.Option) (*brain.Brain, error) {
	r, err := a.newRouter(ctx, experts)
	if err != nil {
		return nil, err
	}
	return brain.New(brain.Config{
		Base:            a.baseExpert(),
		Experts:         experts,
		ContextMessages: a.cfg.ContextMessages,
		NumCtx:          a.cfg.NumCtx,
		NumPredict:      a.cfg.NumPredict,
		MaxParallel:     a.cfg.MaxParallel,
		ReplyTimeout:    a.cfg.ReplyTimeout,
		MemoryK:         a.cfg.MemoryK,
		MemoryInGroups:  a.cfg.MemoryInGroups,
	}, st, llm, r, brain.SystemClock{}, a.log, opts...)
}
