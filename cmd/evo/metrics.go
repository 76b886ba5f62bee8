package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/evo-tr/evo/brain"
)

// Histogram upper bounds, seconds (and a 0–1 confidence).
var (
	replyBuckets      = []float64{0.5, 1, 2, 5, 10, 20, 30, 60, 120}
	firstTokenBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30}
	stageBuckets      = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	confidenceBuckets = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
	nightBuckets      = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}
)

// Night outcomes (evo_night_runs_total).
const (
	nightOK      = "ok"
	nightFailed  = "failed"
	nightSkipped = "skipped"
)

// metrics counts what the brain keeps, how long each message took, and the
// nights, in a registry of its own with the Go runtime's and the process's
// collectors, and serves it at /metrics. It is safe for concurrent use.
type metrics struct {
	reg *prometheus.Registry
	// pending is the brain's spool length; set it once the brain exists,
	// before serving.
	pending func() int

	messages       *prometheus.CounterVec
	replies        *prometheus.CounterVec
	decisions      *prometheus.CounterVec
	tokens         *prometheus.CounterVec
	reply          prometheus.Histogram
	firstToken     prometheus.Histogram
	confidence     prometheus.Histogram
	stages         *prometheus.HistogramVec
	recallFailures prometheus.Counter
	nightRuns      *prometheus.CounterVec
	night          prometheus.Histogram

	handler http.Handler
}

var (
	_ brain.Observer      = (*metrics)(nil)
	_ brain.StageObserver = (*metrics)(nil)
)

// newMetrics returns empty metrics; set pending once the brain exists.
func newMetrics() *metrics {
	m := &metrics{
		reg:     prometheus.NewRegistry(),
		pending: func() int { return 0 },
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "evo_messages_total",
			Help: "Messages kept, by platform and role (user or assistant)."}, []string{"platform", "role"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "evo_replies_total",
			Help: "Replies by the expert that answered and outcome (ok or failed)."}, []string{"expert", "outcome"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "evo_router_decisions_total",
			Help: "Routing decisions: routed to an expert, fallback to the base model, or forced with /expert."}, []string{"kind"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "evo_tokens_total",
			Help: "Tokens Ollama evaluated, prompt and reply."}, []string{"kind"}),
		reply: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "evo_reply_seconds",
			Help: "Time from a message's arrival to the last token of its reply (failed replies excluded).", Buckets: replyBuckets}),
		firstToken: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "evo_first_token_seconds",
			Help: "Time from a message's arrival to the first token of its reply.", Buckets: firstTokenBuckets}),
		confidence: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "evo_route_confidence",
			Help: "The router's confidence in the expert it chose (forced experts excluded).", Buckets: confidenceBuckets}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "evo_stage_seconds",
			Help: "How long each stage of answering a message took, from the end of the stage before it.", Buckets: stageBuckets}, []string{"stage"}),
		recallFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "evo_recall_failures_total",
			Help: "Messages answered without long-term memories because recalling them failed."}),
		nightRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "evo_night_runs_total",
			Help: "Night job runs over a day: ok, failed, or skipped (done already or running elsewhere)."}, []string{"outcome"}),
		night: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "evo_night_seconds",
			Help: "How long a night job run over a day took (skipped runs excluded).", Buckets: nightBuckets}),
	}
	// Series that exist before their first event, so that rates start at 0.
	for _, k := range []string{"routed", "fallback", "forced"} {
		m.decisions.WithLabelValues(k)
	}
	for _, k := range []string{"prompt", "reply"} {
		m.tokens.WithLabelValues(k)
	}
	for _, st := range brain.AllStages() {
		m.stages.WithLabelValues(string(st))
	}
	for _, o := range []string{nightOK, nightFailed, nightSkipped} {
		m.nightRuns.WithLabelValues(o)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "evo_build_info", Help: "The running evo.",
			ConstLabels: prometheus.Labels{"version": version}}, func() float64 { return 1 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "evo_pending_messages",
			Help: "Messages kept in the spool while the database is unreachable."}, func() float64 { return float64(m.pending()) }),
		m.messages, m.replies, m.decisions, m.tokens, m.reply, m.firstToken, m.confidence, m.stages,
		m.recallFailures, m.nightRuns, m.night,
	)
	// A collector that fails (the process's, on a system it cannot read)
	// costs its own series, not the page.
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
	return m
}

// Observe implements brain.Observer.
func (m *metrics) Observe(r brain.Record) {
	m.messages.WithLabelValues(string(r.Key.Platform), string(r.Role)).Inc()
	if r.Role != brain.RoleAssistant || r.Decision == nil {
		return
	}
	outcome := "ok"
	if r.Failed {
		outcome = "failed"
	}
	m.replies.WithLabelValues(r.Decision.Expert, outcome).Inc()
	switch {
	case r.Decision.Forced:
		m.decisions.WithLabelValues("forced").Inc()
	case r.Decision.Fallback:
		m.decisions.WithLabelValues("fallback").Inc()
		m.confidence.Observe(r.Decision.Confidence)
	default:
		m.decisions.WithLabelValues("routed").Inc()
		m.confidence.Observe(r.Decision.Confidence)
	}
	m.tokens.WithLabelValues("prompt").Add(float64(max(r.PromptTokens, 0)))
	m.tokens.WithLabelValues("reply").Add(float64(max(r.ReplyTokens, 0)))
}

// ObserveStages implements brain.StageObserver.
func (m *metrics) ObserveStages(s brain.Stages) {
	for _, d := range s.Durations() {
		m.stages.WithLabelValues(string(d.Stage)).Observe(d.Took.Seconds())
	}
	if d, ok := s.Since(brain.StageFirstToken); ok {
		m.firstToken.Observe(d.Seconds())
	}
	if d, ok := s.Since(brain.StageLastToken); ok && !s.Failed {
		m.reply.Observe(d.Seconds())
	}
	if s.RecallFailed {
		m.recallFailures.Inc()
	}
}

// observeNight counts one night run over a day; took is not observed for
// a skipped run, nor when negative (the run was not timed).
func (m *metrics) observeNight(outcome string, took time.Duration) {
	m.nightRuns.WithLabelValues(outcome).Inc()
	if outcome != nightSkipped && took >= 0 {
		m.night.Observe(took.Seconds())
	}
}

// ServeHTTP writes the metrics in the Prometheus exposition format the
// scraper asks for (text by default).
func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }
