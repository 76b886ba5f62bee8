package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

func TestMetrics(t *testing.T) {
	m := newMetrics()
	m.pending = func() int { return 3 }
	tg := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "1", UserID: "1"}
	dc := brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "2", UserID: "2"}
	for _, r := range []brain.Record{
		{Key: tg, Role: brain.RoleUser},
		{Key: tg, Role: brain.RoleAssistant, Decision: &brain.Decision{Expert: "python_coder", Confidence: 0.9},
			PromptTokens: 100, ReplyTokens: 20, Latency: 1500 * time.Millisecond},
		{Key: dc, Role: brain.RoleUser},
		{Key: dc, Role: brain.RoleAssistant, Decision: &brain.Decision{Expert: "base", Fallback: true},
			PromptTokens: 50, ReplyTokens: 5, Latency: 40 * time.Second},
		{Key: dc, Role: brain.RoleUser},
		{Key: dc, Role: brain.RoleAssistant, Decision: &brain.Decision{Expert: "tr_chat", Forced: true}, Failed: true,
			Latency: time.Hour},
	} {
		m.Observe(r)
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`evo_messages_total{platform="discord",role="user"} 2`,
		`evo_messages_total{platform="telegram",role="assistant"} 1`,
		`evo_replies_total{expert="python_coder",outcome="ok"} 1`,
		`evo_replies_total{expert="tr_chat",outcome="failed"} 1`,
		`evo_router_decisions_total{kind="routed"} 1`,
		`evo_router_decisions_total{kind="fallback"} 1`,
		`evo_router_decisions_total{kind="forced"} 1`,
		`evo_tokens_total{kind="prompt"} 150`,
		`evo_reply_latency_seconds_bucket{le="1"} 0`,
		`evo_reply_latency_seconds_bucket{le="2"} 1`,
		`evo_reply_latency_seconds_bucket{le="60"} 2`,
		`evo_reply_latency_seconds_bucket{le="+Inf"} 2`,
		`evo_reply_latency_seconds_sum 41.5`,
		`evo_reply_latency_seconds_count 2`,
		`evo_pending_messages 3`,
		`# TYPE evo_reply_latency_seconds histogram`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}
