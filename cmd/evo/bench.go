package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/postgres"
)

// benchFlags are evo bench's options.
type benchFlags struct {
	users, messages   int
	json              bool
	tokenRate         float64
	contextRows       int
	memories, memUser int
	embedDims         int
	samples, routes   int
	cpuProfile        string
	service           string
	// coldRouter makes the service train its router at start-up instead
	// of loading the snapshot made for it beforehand.
	coldRouter bool
}

// cmdBench runs EVO-TR as users load it: `evo serve` as a child process
// (its memory and CPU its own), its Discord bot talking to the fake
// Discord (bots/discord/discordtest) and its model a fake Ollama, both in
// this process, against the real Postgres of DATABASE_URL in a schema of
// its own (dropped at the end, also on error) and the real Chroma of
// CHROMA_URL. Then it times the context-window read at 1k and at
// --context-rows stored messages, top-3 recall over --memories memories,
// and the router.
func cmdBench(ctx context.Context, a *app, args []string) error {
	var f benchFlags
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.IntVar(&f.users, "users", 50, "concurrent users")
	fs.IntVar(&f.messages, "messages", 6, "messages per user, each sent after the reply to the last")
	fs.BoolVar(&f.json, "json", false, "print one JSON object")
	fs.Float64Var(&f.tokenRate, "token-rate", 0, "fake model's tokens per second (0: instant)")
	fs.IntVar(&f.contextRows, "context-rows", 1_000_000, "stored messages for the large context-window read")
	fs.IntVar(&f.memories, "memories", 100_000, "memories loaded for recall")
	fs.IntVar(&f.memUser, "memory-users", 1000, "users the memories belong to")
	fs.IntVar(&f.embedDims, "embed-dims", 1024, "embedding length (bge-m3: 1024)")
	fs.IntVar(&f.samples, "samples", 1000, "reads timed per context size and for recall")
	fs.IntVar(&f.routes, "routes", 10_000, "router decisions timed")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the service (evo serve --cpuprofile) to this file (go tool pprof)")
	self, _ := os.Executable()
	fs.StringVar(&f.service, "service", self, "the evo binary to run as the service")
	fs.BoolVar(&f.coldRouter, "cold-router", false, "the service trains its router at start-up (a first start, or one after the examples changed) instead of loading its snapshot (every other restart)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.users < 1 || f.messages < 1 || f.samples < 1 || f.routes < 1 {
		return fmt.Errorf("%w: --users, --messages, --samples and --routes must be at least 1", errUsage)
	}
	started := time.Now()
	schema := "evo_bench_" + randomHex(4)
	if err := schemaExec(ctx, a.cfg.DatabaseURL, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("DATABASE_URL: create schema: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := schemaExec(dctx, a.cfg.DatabaseURL, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			a.log.Error("drop bench schema", "schema", schema, "err", err)
		}
	}()
	dsn, err := withSearchPath(a.cfg.DatabaseURL, schema)
	if err != nil {
		return err
	}
	out := benchOutput{Users: f.users, Schema: schema, TokenRate: f.tokenRate}
	if err := benchMessages(ctx, a, f, dsn, &out); err != nil {
		return err
	}
	st, err := postgres.Open(ctx, dsn, a.log)
	if err != nil {
		return fmt.Errorf("open bench schema: %w", err)
	}
	defer st.Close()

	cr, err := benchContext(ctx, dsn, st, f.contextRows, f.samples)
	if err != nil {
		return fmt.Errorf("context window: %w", err)
	}
	out.Context = map[string]any{
		"1k": pcts(cr.small, time.Millisecond, 0.5, 0.99), "1m": pcts(cr.large, time.Millisecond, 0.5, 0.99),
		"ratio": round3(quantile(cr.large, 0.5).Seconds() / quantile(cr.small, 0.5).Seconds()),
		"rows":  map[string]int{"1k": benchSmallRows, "1m": cr.largeRows}, "load_s": round3(cr.load.Seconds()),
	}

	if a.cfg.ChromaURL == "" {
		out.Notes = append(out.Notes, "recall skipped: CHROMA_URL is not set")
	} else {
		llm := newBenchOllama(0, f.embedDims, nil)
		defer llm.Close()
		emb := *a
		emb.cfg.OllamaHost = llm.URL()
		client, err := emb.ollamaClient()
		if err != nil {
			return err
		}
		rr, err := benchRecall(ctx, a, st, client, a.cfg.ChromaURL, strings.ReplaceAll(schema, "_", "-"), f.memories, f.memUser, f.samples)
		if err != nil {
			return fmt.Errorf("recall: %w", err)
		}
		r := pcts(rr.times, time.Millisecond, 0.5, 0.99)
		r["memories"], r["users"], r["load_s"] = float64(rr.memories), float64(rr.users), round3(rr.load.Seconds())
		out.Recall = r
	}

	routes, err := benchRoute(ctx, a, f.routes)
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	out.Route = pcts(routes, time.Microsecond, 0.5, 0.99)
	out.Route["decisions"] = float64(len(routes))
	out.ElapsedS = round3(time.Since(started).Seconds())
	if f.json {
		enc := json.NewEncoder(a.stdout)
		return enc.Encode(out)
	}
	out.table(a.stdout)
	return nil
}

// benchOutput is what evo bench --json prints.
type benchOutput struct {
	Users      int                `json:"users"`
	Messages   int                `json:"messages"`
	Answered   int                `json:"answered"`
	TokenRate  float64            `json:"token_rate"`
	Overhead   map[string]float64 `json:"overhead_ms"`
	Throughput float64            `json:"throughput_per_s"`
	PeakRSSMB  float64            `json:"peak_rss_mb"`
	PeakRSSOf  string             `json:"peak_rss_of"`
	// RouterStart says how the service got its router: "snapshot" or
	// "trained" (--cold-router).
	RouterStart string `json:"router_start"`
	// ServiceCPUms is the service's CPU time (user + system) during the
	// load per answered message (on Linux; elsewhere over its whole run).
	ServiceCPUms float64            `json:"service_cpu_ms_per_message"`
	Context      map[string]any     `json:"context_ms"`
	Recall       map[string]float64 `json:"recall_ms"`
	Route        map[string]float64 `json:"route_us"`
	Stages       map[string]float64 `json:"stage_mean_ms,omitempty"`
	Schema       string             `json:"schema"`
	ElapsedS     float64            `json:"elapsed_s"`
	Notes        []string           `json:"notes,omitempty"`
}

// benchMessages runs the service and the message load.
func benchMessages(ctx context.Context, a *app, f benchFlags, dsn string, out *benchOutput) error {
	experts, err := a.loadExperts()
	if err != nil {
		return err
	}
	models := []string{a.cfg.BaseModel, a.cfg.EmbedModel}
	for _, e := range experts {
		models = append(models, e.Model)
	}
	llm := newBenchOllama(f.tokenRate, f.embedDims, models)
	defer llm.Close()
	dc, err := newBenchDiscord(f.users)
	if err != nil {
		return err
	}
	defer dc.Close()
	spool, err := os.MkdirTemp("", "evo-bench-spool-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)
	training, err := os.MkdirTemp("", "evo-bench-training-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(training)
	httpAddr, err := benchAddr()
	if err != nil {
		return err
	}
	// The router as at a restart: loaded from the snapshot that an earlier
	// start of the same binary wrote, or trained (--cold-router).
	snapshot, start := "off", "trained"
	if !f.coldRouter {
		if snapshot, err = benchRouterSnapshot(ctx, f.service, a.lookup, training); err != nil {
			return err
		}
		start = "snapshot"
	}
	out.RouterStart = start
	env := map[string]string{"DATABASE_URL": dsn, "OLLAMA_HOST": llm.URL(), "HTTP_ADDR": httpAddr,
		"SPOOL_DIR": spool, "TRAINING_DIR": training, "ACCESS_MODE": "open", "RATE_LIMIT_PER_MINUTE": "0",
		"SLEEP_SCHEDULE": "off", "RESUME_WINDOW": "0s", "SHUTDOWN_TIMEOUT": "5s", "LOG_LEVEL": "warn",
		"TELEGRAM_BOT_TOKEN": "", "DISCORD_BOT_TOKEN": dc.token, "DISCORD_API_URL": dc.watch.srv.URL,
		"ROUTER_EMBED_MODEL": "", "CHROMA_URL": a.cfg.ChromaURL, "ROUTER_CACHE": snapshot,
		// The fake model answers every call at once: waiting for a model slot
		// would be waiting for the model, whose time the bench leaves out.
		"MAX_PARALLEL": strconv.Itoa(f.users)}
	svc, err := startBenchService(f.service, a.lookup, env, f.cpuProfile)
	if err != nil {
		return err
	}
	stopped := false
	var usage serviceUsage
	stopServe := func() error {
		if stopped {
			return nil
		}
		stopped = true
		var err error
		usage, err = svc.stop(ctx, 30*time.Second)
		return err
	}
	defer func() { _ = stopServe() }()
	// The service trains its router before it connects: about a second
	// on a laptop, far more under the race detector on a busy machine.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	err = dc.connected(cctx)
	cancel()
	if err != nil {
		return fmt.Errorf("the bot did not connect to the fake Discord: %w\n%s", err, svc.logs.String())
	}
	cpuBefore, cpuOK := svc.cpu()
	res, err := runLoad(ctx, dc, llm, f.users, f.messages)
	cpuAfter, _ := svc.cpu()
	if err != nil {
		return fmt.Errorf("%w\nservice log:\n%s", err, svc.logs.String())
	}
	out.Messages, out.Answered = f.users*f.messages, res.answered
	out.Overhead = pcts(res.overhead, time.Millisecond, 0.5, 0.95, 0.99)
	out.Throughput = round3(float64(res.answered) / res.wall.Seconds())
	if out.Stages, err = stageMeans(ctx, "http://"+httpAddr+"/metrics"); err != nil {
		out.Notes = append(out.Notes, "stage timings unknown: "+err.Error())
	}
	if f.tokenRate > 0 {
		out.Notes = append(out.Notes, "overhead_ms excludes the fake model's measured streaming time per message")
	}
	if err := stopServe(); err != nil {
		return err
	}
	out.PeakRSSMB = usage.peakRSSMB
	out.PeakRSSOf = "the service: evo serve, a child process (start-up, the load and shutdown)"
	loadCPU := usage.cpu // the whole run where /proc cannot say
	if cpuOK {
		loadCPU = cpuAfter - cpuBefore
	}
	out.ServiceCPUms = round3(float64(loadCPU) / float64(time.Millisecond) / float64(max(res.answered, 1)))
	return nil
}

// schemaExec runs one statement on DATABASE_URL.
func schemaExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// withSearchPath points dsn (a URL or key=value string) at schema.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("DATABASE_URL: %w", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("application_name", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema + " application_name=" + schema, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// quantile is the q-quantile (nearest rank) of ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// pcts maps "p50", "p95"... to the quantiles of ds in unit.
func pcts(ds []time.Duration, unit time.Duration, qs ...float64) map[string]float64 {
	m := map[string]float64{}
	for _, q := range qs {
		m["p"+strconv.Itoa(int(math.Round(q*100)))] = round3(float64(quantile(ds, q)) / float64(unit))
	}
	return m
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// table prints the result for a person, with issue 14's targets.
func (o benchOutput) table(w io.Writer) {
	fmt.Fprintf(w, "evo bench: %d users × %d messages (%d answered), model %s\n", o.Users, o.Messages/max(o.Users, 1), o.Answered,
		map[bool]string{true: "instant", false: strconv.FormatFloat(o.TokenRate, 'g', -1, 64) + " token/s"}[o.TokenRate == 0])
	row := func(name, value, target string) { fmt.Fprintf(w, "  %-22s %-38s %s\n", name, value, target) }
	row("overhead (ms)", fmt.Sprintf("p50 %.2f  p95 %.2f  p99 %.2f", o.Overhead["p50"], o.Overhead["p95"], o.Overhead["p99"]), "target p99 ≤ 15")
	row("throughput", fmt.Sprintf("%.1f messages/s", o.Throughput), "target ≥ 500")
	row("peak RSS", fmt.Sprintf("%.1f MB (the service)", o.PeakRSSMB), "target ≤ 60")
	row("service CPU", fmt.Sprintf("%.2f ms per message", o.ServiceCPUms), "")
	if o.Context != nil {
		s, _ := o.Context["1k"].(map[string]float64)
		l, _ := o.Context["1m"].(map[string]float64)
		row("context read (ms)", fmt.Sprintf("1k p50 %.3f p99 %.3f; large p50 %.3f p99 %.3f", s["p50"], s["p99"], l["p50"], l["p99"]), "")
		row("context ratio", fmt.Sprintf("%.2f×", o.Context["ratio"]), "target ≤ 1.5")
	}
	if o.Recall != nil {
		row("recall top-3 (ms)", fmt.Sprintf("p50 %.2f  p99 %.2f  (%d memories, %d users)", o.Recall["p50"], o.Recall["p99"],
			int(o.Recall["memories"]), int(o.Recall["users"])), "target p99 ≤ 20")
	}
	row("routing (µs)", fmt.Sprintf("p50 %.1f  p99 %.1f", o.Route["p50"], o.Route["p99"]), "target p99 ≤ 200")
	if len(o.Stages) > 0 {
		var parts []string
		for _, st := range brain.AllStages() {
			if v, ok := o.Stages[string(st)]; ok {
				parts = append(parts, fmt.Sprintf("%s %.2f", st, v))
			}
		}
		row("stages, mean (ms)", strings.Join(parts, "  "), "")
	}
	row("took", fmt.Sprintf("%.1f s", o.ElapsedS), "target < 600")
	for _, n := range o.Notes {
		fmt.Fprintln(w, "  note:", n)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
