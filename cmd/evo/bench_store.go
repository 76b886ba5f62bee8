package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/ollama"
	"github.com/evo-tr/evo/brain/router"
	"github.com/evo-tr/evo/memory/chroma"
	"github.com/evo-tr/evo/memory/longterm"
	"github.com/evo-tr/evo/memory/postgres"
)

// benchContextUser holds the measured conversation: 1,000 messages.
const (
	benchContextUser = "bench-ctx-0"
	benchSmallRows   = 1000
)

// contextResult is the context-window read with a small and a large table.
type contextResult struct {
	small, large []time.Duration
	largeRows    int
	load         time.Duration
}

// benchContext measures Store.Recent(20) of one user holding 1,000
// messages, first when the table holds only those, then after COPY has
// loaded rows more across 999 other users.
func benchContext(ctx context.Context, dsn string, st *postgres.Store, rows, samples int) (contextResult, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return contextResult{}, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	const others = 999
	var ids []int64
	r, err := conn.Query(ctx, `INSERT INTO users (platform, platform_user_id) SELECT 'discord', 'bench-ctx-' || g FROM generate_series(0, $1) g RETURNING id`, others)
	if err == nil {
		ids, err = pgx.CollectRows(r, pgx.RowTo[int64])
	}
	if err != nil {
		return contextResult{}, fmt.Errorf("users: %w", err)
	}
	var chats []int64
	r, err = conn.Query(ctx, `INSERT INTO chats (platform, platform_chat_id, kind) SELECT 'discord', 'bench-ctx-' || g, 'private' FROM generate_series(0, $1) g RETURNING id`, others)
	if err == nil {
		chats, err = pgx.CollectRows(r, pgx.RowTo[int64])
	}
	if err != nil {
		return contextResult{}, fmt.Errorf("chats: %w", err)
	}
	base := time.Now().Add(-24 * time.Hour)
	copyRows := func(from, to int, n func(i int) int) error {
		u, left := from, n(from)
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"messages"}, []string{"user_ref", "chat_ref", "role", "text", "created_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				for left == 0 {
					u++
					if u >= to {
						return nil, nil
					}
					left = n(u)
				}
				left--
				role := "user"
				if left%2 == 0 {
					role = "assistant"
				}
				return []any{ids[u], chats[u], role, "Bugün hava nasıl olacak, yarın için bir plan yapalım mı? " + strconv.Itoa(left),
					base.Add(time.Duration(left) * time.Second)}, nil
			}))
		return err
	}
	if err := copyRows(0, 1, func(int) int { return benchSmallRows }); err != nil {
		return contextResult{}, fmt.Errorf("copy 1k: %w", err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE messages"); err != nil {
		return contextResult{}, err
	}
	k := brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: benchContextUser, UserID: benchContextUser}
	res := contextResult{largeRows: max(rows, benchSmallRows)}
	if res.small, err = timeN(samples, func() error { _, err := st.Recent(ctx, k, 20); return err }); err != nil {
		return res, fmt.Errorf("recent: %w", err)
	}
	start := time.Now()
	rest := res.largeRows - benchSmallRows
	per := rest / others
	if err := copyRows(1, others+1, func(u int) int {
		if u == others {
			return rest - per*(others-1)
		}
		return per
	}); err != nil {
		return res, fmt.Errorf("copy %d rows: %w", rest, err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE messages"); err != nil {
		return res, err
	}
	res.load = time.Since(start)
	if res.large, err = timeN(samples, func() error { _, err := st.Recent(ctx, k, 20); return err }); err != nil {
		return res, fmt.Errorf("recent: %w", err)
	}
	return res, nil
}

// timeN runs f n times and returns each run's time.
func timeN(n int, f func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if err := f(); err != nil {
			return out, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// recallResult is top-3 recall over the loaded memories.
type recallResult struct {
	times           []time.Duration
	memories, users int
	load            time.Duration
}

var benchTopics = []string{"python", "kahve", "futbol", "kedi", "istanbul", "yüzme", "gitar", "kitap", "ankara", "çay",
	"satranç", "bisiklet", "yemek", "müzik", "sinema", "deniz", "dağ", "tarih", "matematik", "resim"}

// benchRecall loads memories (split over users) into long-term memory
// (rows in st, vectors in the Chroma at chromaURL under a prefix of its
// own) and measures Top(3), the query's embedding included. It removes
// the users' collections afterwards.
func benchRecall(ctx context.Context, a *app, st *postgres.Store, emb *ollama.Client, chromaURL, prefix string,
	memories, users, samples int) (recallResult, error) {
	cs, err := chroma.New(ctx, chroma.Config{URL: chromaURL, Embedder: emb, EmbedModel: a.cfg.EmbedModel, Prefix: prefix}, a.log)
	if err != nil {
		return recallResult{}, fmt.Errorf("chroma: %w", err)
	}
	defer cs.Close()
	mem, err := longterm.New(postgres.NewMemories(st, brain.SystemClock{}), cs, a.log)
	if err != nil {
		return recallResult{}, err
	}
	users = max(1, min(users, memories))
	res := recallResult{memories: memories, users: users}
	uid := func(u int) string { return "bench-mem-" + strconv.Itoa(u) }
	defer func() { // the users' collections go, also on error
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		parallel(8, users, func(u int) error { _ = cs.ForgetUser(cctx, brain.PlatformDiscord, uid(u)); return nil })
	}()
	start := time.Now()
	err = parallel(8, users, func(u int) error {
		n := memories / users
		if u < memories%users {
			n++
		}
		ms := make([]brain.Memory, n)
		for i := range ms {
			t1, t2 := benchTopics[(u+i)%len(benchTopics)], benchTopics[(u*7+i*3)%len(benchTopics)]
			ms[i] = brain.Memory{ID: fmt.Sprintf("m%d-%d", u, i), Text: fmt.Sprintf("Kullanıcı %s ve %s seviyor; not %d", t1, t2, i),
				Tags: []string{t1}, Day: "2025-01-01", Time: time.Now()}
		}
		return mem.Remember(ctx, brain.PlatformDiscord, uid(u), ms)
	})
	if err != nil {
		return res, fmt.Errorf("load memories: %w", err)
	}
	res.load = time.Since(start)
	rng := rand.New(rand.NewPCG(1, 2))
	res.times, err = timeN(samples, func() error {
		u := rng.IntN(users)
		_, err := mem.Top(ctx, brain.PlatformDiscord, uid(u), "en çok "+benchTopics[rng.IntN(len(benchTopics))]+" hakkında ne biliyorsun?", 3)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("top: %w", err)
	}
	return res, nil
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(workers, n int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if stop || i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// benchRoute times n decisions of the in-process router trained on the
// registry (no embedding vote).
func benchRoute(ctx context.Context, a *app, n int) ([]time.Duration, error) {
	experts, err := a.loadExperts()
	if err != nil {
		return nil, err
	}
	r, err := router.New(experts, a.baseExpert(), a.cfg.RouterThreshold, router.WithLogger(a.log))
	if err != nil {
		return nil, fmt.Errorf("train router: %w", err)
	}
	texts := append(append([]string(nil), benchQuestions...),
		"merhaba, nasılsın?", "bu kodda hata var mı: for i := range x { }", "Bana bir şiir yaz", "2+2 kaç eder?")
	out := make([]time.Duration, 0, n)
	for i := range n {
		text := texts[i%len(texts)] + " " + strconv.Itoa(i)
		t := time.Now()
		_ = r.Route(ctx, text)
		out = append(out, time.Since(t))
	}
	return out, nil
}
