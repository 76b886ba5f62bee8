package postgres

import (
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

// recordColumns are the columns scanRecord reads, from messages m, users u
// and chats c.
const recordColumns = `m.id, u.platform, c.platform_chat_id, u.platform_user_id, c.kind, u.display_name, u.username,
	m.role, m.text, m.platform_message_id,
	m.expert, m.model, m.confidence, m.runner_up, m.runner_up_confidence, m.fallback, m.forced, m.candidate,
	m.prompt_tokens, m.reply_tokens, m.latency_ms, m.failed, m.created_at, m.ref, m.reply_to`

// scanRecord reads one row of recordColumns.
func scanRecord(row pgx.CollectableRow) (brain.Record, error) {
	var (
		r                             brain.Record
		expert, model, runnerUp, cand *string
		conf, runnerUpConf            *float64
		fallback, forced              *bool
		latencyMS                     int64
	)
	err := row.Scan(&r.ID, &r.Key.Platform, &r.Key.ChatID, &r.Key.UserID, &r.ChatKind, &r.UserName, &r.Handle,
		&r.Role, &r.Text, &r.PlatformMessageID,
		&expert, &model, &conf, &runnerUp, &runnerUpConf, &fallback, &forced, &cand,
		&r.PromptTokens, &r.ReplyTokens, &latencyMS, &r.Failed, &r.Time, &r.Ref, &r.ReplyTo)
	if err != nil {
		return brain.Record{}, err
	}
	r.Latency = time.Duration(latencyMS) * time.Millisecond
	if expert != nil {
		r.Decision = &brain.Decision{Expert: *expert, Model: deref(model), Confidence: deref(conf),
			RunnerUp: deref(runnerUp), RunnerUpConfidence: deref(runnerUpConf),
			Fallback: deref(fallback), Forced: deref(forced), Candidate: deref(cand)}
	}
	return r, nil
}

// decisionArgs are the decision columns of a record, all NULL without one.
func decisionArgs(d *brain.Decision) []any {
	if d == nil {
		return []any{nil, nil, nil, nil, nil, nil, nil, nil}
	}
	return []any{d.Expert, d.Model, d.Confidence, d.RunnerUp, d.RunnerUpConfidence, d.Fallback, d.Forced, d.Candidate}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
