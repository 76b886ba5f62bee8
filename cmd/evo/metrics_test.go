package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/brain/braintest"
)

// scrape GETs /metrics from h and parses the text exposition.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics = %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the text format", ct)
	}
	return parseMetrics(t, rec.Body.String())
}

func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := parseExposition(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, text)
	}
	return fams
}

// series finds the sample of name with exactly labels (name=value pairs).
func series(fams map[string]*dto.MetricFamily, name string, labels ...string) (*dto.Metric, bool) {
	f := fams[name]
	if f == nil {
		return nil, false
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) != len(labels)/2 {
			continue
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if got[labels[i]] != labels[i+1] {
				match = false
			}
		}
		if match {
			return m, true
		}
	}
	return nil, false
}

// value is a counter's, gauge's or untyped sample's value; a histogram's
// count.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	m, ok := series(fams, name, labels...)
	if !ok {
		t.Errorf("no series %s%v", name, labels)
		return -1
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return m.GetUntyped().GetValue()
}

// lint fails t on every problem promtool's linter finds in m's registry.
func lint(t *testing.T, m *metrics) {
	t.Helper()
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestMetrics(t *testing.T) {
	m := newMetrics()
	m.pending = func() int { return 3 }
	tg := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "1", UserID: "1"}
	dc := brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "2", UserID: "2"}
	for _, r := range []brain.Record{
		{Key: tg, Role: brain.RoleUser},
		{Key: tg, Role: brain.RoleAssistant, Decision: &brain.Decision{Expert: "python_coder", Confidence: 0.9},
			PromptTokens: 100, ReplyTokens: 20},
		{Key: dc, Role: brain.RoleUser},
		{Key: dc, Role: brain.RoleAssistant, Decision: &brain.Decision{Expert: "base", Confidence: 0.35, Fallback: true},
			PromptTokens: 50, ReplyTokens: 5},
		{Key: dc, Role: brain.RoleUser},
		{Key: dc, Role: brain.RoleAssistant, Decision: &brain.Decision{Expert: "tr_chat", Confidence: 1, Forced: true}, Failed: true},
		{Key: dc, Role: brain.RoleAssistant, Failed: true}, // a notice: no decision
	} {
		m.Observe(r)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ms := time.Millisecond
	m.ObserveStages(brain.Stages{Key: tg, Expert: "python_coder", Start: t0, Marks: []brain.Mark{
		{Stage: brain.StageStored, At: at(2 * ms)}, {Stage: brain.StageQueued, At: at(3 * ms)},
		{Stage: brain.StageContext, At: at(5 * ms)}, {Stage: brain.StageRouted, At: at(6 * ms)},
		{Stage: brain.StageRecalled, At: at(20 * ms)}, {Stage: brain.StageFirstToken, At: at(700 * ms)},
		{Stage: brain.StageLastToken, At: at(1500 * ms)}, {Stage: brain.StageReplyStored, At: at(1503 * ms)}}})
	m.ObserveStages(brain.Stages{Key: dc, Expert: "base", RecallFailed: true, Start: t0, Marks: []brain.Mark{
		{Stage: brain.StageStored, At: at(ms)}, {Stage: brain.StageFirstToken, At: at(3 * time.Second)},
		{Stage: brain.StageLastToken, At: at(40 * time.Second)}, {Stage: brain.StageReplyStored, At: at(40 * time.Second)}}})
	m.ObserveStages(brain.Stages{Key: dc, Expert: "tr_chat", Failed: true, Start: t0, Marks: []brain.Mark{
		{Stage: brain.StageStored, At: at(ms)}, {Stage: brain.StageReplyStored, At: at(time.Hour)}}})
	m.observeNight(nightOK, 90*time.Second)
	m.observeNight(nightFailed, time.Second)
	m.observeNight(nightFailed, -1) // not timed
	m.observeNight(nightSkipped, 0)

	fams := scrape(t, m)
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"evo_messages_total", []string{"platform", "discord", "role", "user"}, 2},
		{"evo_messages_total", []string{"platform", "discord", "role", "assistant"}, 3},
		{"evo_messages_total", []string{"platform", "telegram", "role", "assistant"}, 1},
		{"evo_replies_total", []string{"expert", "python_coder", "outcome", "ok"}, 1},
		{"evo_replies_total", []string{"expert", "tr_chat", "outcome", "failed"}, 1},
		{"evo_router_decisions_total", []string{"kind", "routed"}, 1},
		{"evo_router_decisions_total", []string{"kind", "fallback"}, 1},
		{"evo_router_decisions_total", []string{"kind", "forced"}, 1},
		{"evo_tokens_total", []string{"kind", "prompt"}, 150},
		{"evo_tokens_total", []string{"kind", "reply"}, 25},
		{"evo_route_confidence", nil, 2}, // forced left out
		{"evo_reply_seconds", nil, 2},    // the failed one left out
		{"evo_first_token_seconds", nil, 2},
		{"evo_stage_seconds", []string{"stage", "stored"}, 3},
		{"evo_stage_seconds", []string{"stage", "first_token"}, 2},
		{"evo_stage_seconds", []string{"stage", "queued"}, 1},
		{"evo_recall_failures_total", nil, 1},
		{"evo_night_runs_total", []string{"outcome", "ok"}, 1},
		{"evo_night_runs_total", []string{"outcome", "failed"}, 2},
		{"evo_night_runs_total", []string{"outcome", "skipped"}, 1},
		{"evo_night_seconds", nil, 2},
		{"evo_pending_messages", nil, 3},
		{"evo_build_info", []string{"version", version}, 1},
	} {
		if got := value(t, fams, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// Histogram contents: the buckets and the sums.
	reply, _ := series(fams, "evo_reply_seconds")
	if got := reply.GetHistogram().GetSampleSum(); got != 41.5 {
		t.Errorf("evo_reply_seconds_sum = %v, want 41.5", got)
	}
	for _, b := range reply.GetHistogram().GetBucket() {
		want := map[float64]uint64{1: 0, 2: 1, 30: 1, 60: 2}[b.GetUpperBound()]
		if b.GetUpperBound() == 1 || b.GetUpperBound() == 2 || b.GetUpperBound() == 30 || b.GetUpperBound() == 60 {
			if b.GetCumulativeCount() != want {
				t.Errorf("evo_reply_seconds_bucket{le=%v} = %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
	first, _ := series(fams, "evo_first_token_seconds")
	if got := first.GetHistogram().GetSampleSum(); got < 3.6999 || got > 3.7001 {
		t.Errorf("evo_first_token_seconds_sum = %v, want 3.7", got)
	}
	recalled, _ := series(fams, "evo_stage_seconds", "stage", "recalled")
	if got := recalled.GetHistogram().GetSampleSum(); got < 0.0139 || got > 0.0141 {
		t.Errorf("recalled stage sum = %v, want 0.014 (from routed's end)", got)
	}
	conf, _ := series(fams, "evo_route_confidence")
	if got := conf.GetHistogram().GetSampleSum(); got < 1.2499 || got > 1.2501 {
		t.Errorf("evo_route_confidence_sum = %v, want 1.25", got)
	}
	night, _ := series(fams, "evo_night_seconds")
	if got := night.GetHistogram().GetSampleSum(); got != 91 {
		t.Errorf("evo_night_seconds_sum = %v, want 91", got)
	}
	// Every stage has its series before its first observation.
	for _, st := range brain.AllStages() {
		if _, ok := series(fams, "evo_stage_seconds", "stage", string(st)); !ok {
			t.Errorf("no evo_stage_seconds series for %s", st)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_resident_memory_bytes", "process_start_time_seconds"} {
		if fams[name] == nil {
			t.Errorf("no %s: the Go runtime and process collectors are missing", name)
		}
	}
	lint(t, m)
}

// echoLLM streams the user's last message back, word by word.
type echoLLM struct{}

func (echoLLM) Chat(_ context.Context, req brain.ChatRequest, fn func(string) error) (brain.ChatStats, error) {
	text := "cevap: " + req.Messages[len(req.Messages)-1].Content
	for _, w := range strings.SplitAfter(text, " ") {
		if err := fn(w); err != nil {
			return brain.ChatStats{}, err
		}
	}
	return brain.ChatStats{PromptTokens: 12, ReplyTokens: len(strings.Fields(text)), DoneReason: "stop"}, nil
}

// stepClock advances by step at every reading.
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

// failingRecall cannot reach long-term memory.
type failingRecall struct{}

func (failingRecall) Top(context.Context, brain.Platform, string, string, int) ([]brain.Memory, error) {
	return nil, errors.New("chroma: connection refused")
}

func TestMetricsFromTheBrain(t *testing.T) {
	m := newMetrics()
	clock := &stepClock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), step: 10 * time.Millisecond}
	b, err := brain.New(brain.Config{Base: brain.Expert{Name: brain.BaseExpert, Model: "base"}},
		braintest.NewMemHistory(), echoLLM{}, nil, clock, slog.New(slog.DiscardHandler),
		brain.WithObserver(m), brain.WithRecall(failingRecall{}))
	if err != nil {
		t.Fatal(err)
	}
	m.pending = b.Pending
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, msg := range []brain.Message{
		{Platform: brain.PlatformTelegram, ChatID: "42", ChatKind: brain.ChatPrivate, UserID: "42", Text: "merhaba"},
		{Platform: brain.PlatformDiscord, ChatID: "7", ChatKind: brain.ChatGroup, UserID: "8", Text: "selam"},
		{Platform: brain.PlatformDiscord, ChatID: "7", ChatKind: brain.ChatGroup, UserID: "8", Text: "/help"},
	} {
		c := brain.NewCollector()
		b.Submit(ctx, msg, c)
		if _, err := c.Wait(ctx); err != nil {
			t.Fatalf("no reply to %q: %v", msg.Text, err)
		}
	}
	fams := scrape(t, m)
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"evo_messages_total", []string{"platform", "telegram", "role", "user"}, 1},
		{"evo_messages_total", []string{"platform", "discord", "role", "assistant"}, 1},
		{"evo_replies_total", []string{"expert", brain.BaseExpert, "outcome", "ok"}, 2},
		{"evo_router_decisions_total", []string{"kind", "fallback"}, 2},
		{"evo_reply_seconds", nil, 2},
		{"evo_first_token_seconds", nil, 2},
		{"evo_stage_seconds", []string{"stage", "reply_stored"}, 2},
		{"evo_stage_seconds", []string{"stage", "stored"}, 2},
		// Recall runs in private chats only: the Telegram DM's failed.
		{"evo_recall_failures_total", nil, 1},
		{"evo_pending_messages", nil, 0},
	} {
		if got := value(t, fams, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// Each reading of the clock is 10 ms: every stage took some.
	for _, st := range brain.AllStages() {
		s, _ := series(fams, "evo_stage_seconds", "stage", string(st))
		if h := s.GetHistogram(); h.GetSampleCount() != 2 || h.GetSampleSum() <= 0 {
			t.Errorf("stage %s: %d samples, sum %v; want 2 > 0", st, h.GetSampleCount(), h.GetSampleSum())
		}
	}
	lint(t, m)
}

// fakeNightLog claims days by a table and records the finishes.
type fakeNightLog struct {
	claim    map[string]bool
	claimErr error
	finished []string
}

func (f *fakeNightLog) ClaimNight(_ context.Context, day string, _ time.Time, _ time.Duration) (bool, error) {
	return f.claim[day], f.claimErr
}

func (f *fakeNightLog) FinishNight(_ context.Context, day string, _ time.Time, _ string, _ error) error {
	f.finished = append(f.finished, day)
	return nil
}

func TestNightMeter(t *testing.T) {
	m := newMetrics()
	log := &fakeNightLog{claim: map[string]bool{"2026-11-29": true, "2026-11-30": true}}
	n := &nightMeter{NightLog: log, m: m}
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		day    string
		took   time.Duration
		runErr error
	}{
		{"2026-11-28", 0, nil}, // done already: skipped
		{"2026-11-29", 2 * time.Minute, errors.New("chroma down")},
		{"2026-11-30", 30 * time.Second, nil},
	} {
		ok, err := n.ClaimNight(ctx, tt.day, t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			if err := n.FinishNight(ctx, tt.day, t0.Add(tt.took), "{}", tt.runErr); err != nil {
				t.Fatal(err)
			}
		}
	}
	log.claimErr = errors.New("database down")
	if _, err := n.ClaimNight(ctx, "2026-11-30", t0, time.Hour); err == nil {
		t.Fatal("the claim's error was lost")
	}
	if got := strings.Join(log.finished, ","); got != "2026-11-29,2026-11-30" {
		t.Errorf("finished = %s, want the two claimed days", got)
	}
	fams := scrape(t, m)
	for _, tt := range []struct {
		outcome string
		want    float64
	}{{nightOK, 1}, {nightFailed, 2}, {nightSkipped, 1}} {
		if got := value(t, fams, "evo_night_runs_total", "outcome", tt.outcome); got != tt.want {
			t.Errorf("evo_night_runs_total{outcome=%q} = %v, want %v", tt.outcome, got, tt.want)
		}
	}
	night, _ := series(fams, "evo_night_seconds")
	if h := night.GetHistogram(); h.GetSampleCount() != 2 || h.GetSampleSum() != 150 {
		t.Errorf("evo_night_seconds: %d runs, %v s; want 2 runs, 150 s (the failed claim is not timed)", h.GetSampleCount(), h.GetSampleSum())
	}
}
