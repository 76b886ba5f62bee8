package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/evo-tr/evo/brain"
)

// latencyBuckets are the reply-latency histogram's upper bounds, seconds.
var latencyBuckets = []float64{0.5, 1, 2, 5, 10, 20, 30, 60, 120}

// metrics counts what the brain keeps and serves it at /metrics in the
// Prometheus text format. It is safe for concurrent use.
type metrics struct {
	pending func() int

	mu        sync.Mutex
	messages  map[[2]string]uint64 // platform, role
	replies   map[[2]string]uint64 // expert, outcome
	decisions map[string]uint64    // routed, fallback, forced
	tokens    map[string]uint64    // prompt, reply
	buckets   []uint64             // cumulative at render time
	count     uint64
	sum       float64
}

var _ brain.Observer = (*metrics)(nil)

// newMetrics returns empty metrics; set pending once the brain exists.
func newMetrics() *metrics {
	return &metrics{pending: func() int { return 0 }, messages: map[[2]string]uint64{}, replies: map[[2]string]uint64{},
		decisions: map[string]uint64{}, tokens: map[string]uint64{}, buckets: make([]uint64, len(latencyBuckets))}
}

// Observe implements brain.Observer.
func (m *metrics) Observe(r brain.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages[[2]string{string(r.Key.Platform), string(r.Role)}]++
	if r.Role != brain.RoleAssistant || r.Decision == nil {
		return
	}
	outcome := "ok"
	if r.Failed {
		outcome = "failed"
	}
	m.replies[[2]string{r.Decision.Expert, outcome}]++
	switch {
	case r.Decision.Forced:
		m.decisions["forced"]++
	case r.Decision.Fallback:
		m.decisions["fallback"]++
	default:
		m.decisions["routed"]++
	}
	m.tokens["prompt"] += uint64(max(r.PromptTokens, 0))
	m.tokens["reply"] += uint64(max(r.ReplyTokens, 0))
	if r.Failed {
		return
	}
	sec := r.Latency.Seconds()
	for i, le := range latencyBuckets {
		if sec <= le {
			m.buckets[i]++
			break
		}
	}
	m.count++
	m.sum += sec
}

// ServeHTTP writes the metrics.
func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.write(w)
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(w, "# HELP evo_build_info The running evo.\n# TYPE evo_build_info gauge\nevo_build_info{version=%q} 1\n", version)

	fmt.Fprint(w, "# HELP evo_messages_total Messages kept, by platform and role (user or assistant).\n# TYPE evo_messages_total counter\n")
	for _, k := range sortedPairs(m.messages) {
		fmt.Fprintf(w, "evo_messages_total{platform=%q,role=%q} %d\n", k[0], k[1], m.messages[k])
	}
	fmt.Fprint(w, "# HELP evo_replies_total Replies by the expert that answered and outcome (ok or failed).\n# TYPE evo_replies_total counter\n")
	for _, k := range sortedPairs(m.replies) {
		fmt.Fprintf(w, "evo_replies_total{expert=%q,outcome=%q} %d\n", k[0], k[1], m.replies[k])
	}
	fmt.Fprint(w, "# HELP evo_router_decisions_total Routing decisions: routed to an expert, fallback to the base model, or forced with /expert.\n# TYPE evo_router_decisions_total counter\n")
	for _, k := range []string{"routed", "fallback", "forced"} {
		fmt.Fprintf(w, "evo_router_decisions_total{kind=%q} %d\n", k, m.decisions[k])
	}
	fmt.Fprint(w, "# HELP evo_tokens_total Tokens Ollama evaluated, prompt and reply.\n# TYPE evo_tokens_total counter\n")
	for _, k := range []string{"prompt", "reply"} {
		fmt.Fprintf(w, "evo_tokens_total{kind=%q} %d\n", k, m.tokens[k])
	}
	fmt.Fprint(w, "# HELP evo_reply_latency_seconds Time from a message to its full reply (failed replies excluded).\n# TYPE evo_reply_latency_seconds histogram\n")
	var cum uint64
	for i, le := range latencyBuckets {
		cum += m.buckets[i]
		fmt.Fprintf(w, "evo_reply_latency_seconds_bucket{le=%q} %d\n", trimFloat(le), cum)
	}
	fmt.Fprintf(w, "evo_reply_latency_seconds_bucket{le=\"+Inf\"} %d\nevo_reply_latency_seconds_sum %s\nevo_reply_latency_seconds_count %d\n",
		m.count, trimFloat(m.sum), m.count)
	fmt.Fprintf(w, "# HELP evo_pending_messages Messages kept in memory while the database is unreachable.\n# TYPE evo_pending_messages gauge\nevo_pending_messages %d\n", m.pending())
}

func sortedPairs(m map[[2]string]uint64) [][2]string {
	keys := make([][2]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1] })
	return keys
}

func trimFloat(f float64) string {
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", f), "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}
