package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evo-tr/evo/memory/chroma/chromatest"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// TestBenchJSON runs a small `evo bench --json` against the real Postgres
// and a real Chroma: every field is there, every message was answered, and
// the bench's schema is gone afterwards.
func TestBenchJSON(t *testing.T) {
	chromaSrv := chromatest.Start(t)
	env := map[string]string{envFileKey: "/dev/null", "EXPERTS_DIR": "../../deploy/experts",
		"DATABASE_URL": pgtest.URL(), "CHROMA_URL": chromaSrv.URL(), "LOG_LEVEL": "warn"}
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"bench", "--service", evoBinary(t), "--users", "5", "--messages", "4", "--json", "--context-rows", "2000",
		"--memories", "200", "--memory-users", "20", "--samples", "50", "--routes", "500", "--embed-dims", "64"}
	if code := run(ctx, args, strings.NewReader(""), &stdout, &stderr, lookupFrom(env)); code != 0 {
		t.Fatalf("evo bench exited %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	var got struct {
		Users       int                `json:"users"`
		Messages    int                `json:"messages"`
		Answered    int                `json:"answered"`
		Overhead    map[string]float64 `json:"overhead_ms"`
		Throughput  float64            `json:"throughput_per_s"`
		PeakRSS     float64            `json:"peak_rss_mb"`
		RouterStart string             `json:"router_start"`
		ServiceCPU  float64            `json:"service_cpu_ms_per_message"`
		Context     struct {
			Small map[string]float64 `json:"1k"`
			Large map[string]float64 `json:"1m"`
			Ratio float64            `json:"ratio"`
		} `json:"context_ms"`
		Recall map[string]float64 `json:"recall_ms"`
		Route  map[string]float64 `json:"route_us"`
		Stages map[string]float64 `json:"stage_mean_ms"`
		Schema string             `json:"schema"`
	}
	if err := json.Unmarshal([]byte(stdout.String()), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout.String())
	}
	if got.Users != 5 || got.Messages != 20 || got.Answered != 20 {
		t.Errorf("users, messages, answered = %d, %d, %d; want 5, 20, 20", got.Users, got.Messages, got.Answered)
	}
	for name, m := range map[string]map[string]float64{"overhead_ms": got.Overhead, "context_ms.1k": got.Context.Small,
		"context_ms.1m": got.Context.Large, "recall_ms": got.Recall, "route_us": got.Route} {
		for _, p := range []string{"p50", "p99"} {
			if v, ok := m[p]; !ok || v <= 0 {
				t.Errorf("%s.%s = %v (present %v); want > 0", name, p, v, ok)
			}
		}
	}
	if _, ok := got.Overhead["p95"]; !ok {
		t.Errorf("overhead_ms has no p95: %v", got.Overhead)
	}
	if got.Recall["memories"] != 200 || got.Recall["users"] != 20 {
		t.Errorf("recall_ms memories, users = %v, %v; want 200, 20", got.Recall["memories"], got.Recall["users"])
	}
	if got.Throughput <= 0 || got.PeakRSS <= 0 || got.Context.Ratio <= 0 || got.ServiceCPU <= 0 {
		t.Errorf("throughput %v, peak RSS %v, context ratio %v, service CPU %v; want all > 0", got.Throughput, got.PeakRSS,
			got.Context.Ratio, got.ServiceCPU)
	}
	// The service loaded the snapshot the bench had its binary write, as
	// every restart after the first does.
	if got.RouterStart != "snapshot" {
		t.Errorf("router_start = %q, want snapshot", got.RouterStart)
	}
	// Where the time went, from the service's own evo_stage_seconds.
	for _, st := range []string{"stored", "context", "routed", "reply_stored"} {
		if v, ok := got.Stages[st]; !ok || v <= 0 {
			t.Errorf("stage_mean_ms.%s = %v (present %v); want > 0; all: %v", st, v, ok, got.Stages)
		}
	}
	if !strings.HasPrefix(got.Schema, "evo_bench_") {
		t.Fatalf("schema = %q; want evo_bench_…", got.Schema)
	}
	conn, err := pgx.Connect(ctx, pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", got.Schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("schema %s still exists after the bench", got.Schema)
	}
}
