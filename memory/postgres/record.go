package postgres

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

// checkRecord refuses a record the database could not store faithfully,
// with an error that says which field is wrong.
func checkRecord(r *brain.Record) error {
	if r == nil {
		return errors.New("invalid record: nil")
	}
	if err := checkKey(r.Key); err != nil {
		return fmt.Errorf("invalid record: %w", err)
	}
	if r.Role != brain.RoleUser && r.Role != brain.RoleAssistant {
		return fmt.Errorf("invalid record: role %q (want user or assistant)", r.Role)
	}
	if r.Time.IsZero() {
		return errors.New("invalid record: no time")
	}
	fields := map[string]string{"text": r.Text, "user name": r.UserName, "chat kind": string(r.ChatKind),
		"platform message id": r.PlatformMessageID}
	if d := r.Decision; d != nil {
		fields["expert"], fields["model"], fields["runner-up"], fields["candidate"] = d.Expert, d.Model, d.RunnerUp, d.Candidate
	}
	for name, v := range fields {
		if err := checkText(v); err != nil {
			return fmt.Errorf("invalid record: %s %w", name, err)
		}
	}
	return nil
}

// checkKey refuses an incomplete or malformed conversation key.
func checkKey(k brain.ConvKey) error {
	for name, v := range map[string]string{"platform": string(k.Platform), "chat id": k.ChatID, "user id": k.UserID} {
		if v == "" {
			return fmt.Errorf("empty %s", name)
		}
		if err := checkText(v); err != nil {
			return fmt.Errorf("%s %w", name, err)
		}
	}
	return nil
}

// checkUser refuses an empty or malformed user identity.
func checkUser(p brain.Platform, userID string) error {
	return checkKey(brain.ConvKey{Platform: p, ChatID: "-", UserID: userID})
}

// checkText refuses what a PostgreSQL text column cannot hold.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("contains a NUL byte")
	}
	return nil
}

// recordColumns are the columns scanRecord reads, from messages m, users u
// and chats c.
const recordColumns = `m.id, u.platform, c.platform_chat_id, u.platform_user_id, c.kind, u.display_name,
	m.role, m.text, m.platform_message_id,
	m.expert, m.model, m.confidence, m.runner_up, m.runner_up_confidence, m.fallback, m.forced, m.candidate,
	m.prompt_tokens, m.reply_tokens, m.latency_ms, m.failed, m.created_at`

// scanRecord reads one row of recordColumns.
func scanRecord(row pgx.CollectableRow) (brain.Record, error) {
	var (
		r                             brain.Record
		expert, model, runnerUp, cand *string
		conf, runnerUpConf            *float64
		fallback, forced              *bool
		latencyMS                     int64
	)
	err := row.Scan(&r.ID, &r.Key.Platform, &r.Key.ChatID, &r.Key.UserID, &r.ChatKind, &r.UserName,
		&r.Role, &r.Text, &r.PlatformMessageID,
		&expert, &model, &conf, &runnerUp, &runnerUpConf, &fallback, &forced, &cand,
		&r.PromptTokens, &r.ReplyTokens, &latencyMS, &r.Failed, &r.Time)
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
