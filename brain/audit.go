package brain

import (
	"context"
	"time"
)

// Audit outcomes.
const (
	AuditOK      = "ok"
	AuditRefused = "refused"
	AuditFailed  = "failed"
)

// AuditEntry is one admin action or refused attempt.
type AuditEntry struct {
	Time     time.Time
	Platform Platform
	UserID   string
	Command  string
	Target   string
	// Outcome is AuditOK, AuditRefused or AuditFailed.
	Outcome string
}

// Auditor records admin actions and refused attempts (the audit table).
type Auditor interface {
	Audit(ctx context.Context, e AuditEntry) error
}

// WithAuditor records every admin command and refused attempt in a.
func WithAuditor(a Auditor) Option { return func(b *Brain) { b.auditor = a } }

// audit records one action; a failing audit log is logged, never fatal.
func (b *Brain) audit(ctx context.Context, m Message, command, target, outcome string) {
	if b.auditor == nil {
		return
	}
	e := AuditEntry{Time: b.clock.Now(), Platform: m.Platform, UserID: m.UserID, Command: command,
		Target: oneLine(target, 200), Outcome: outcome}
	if err := b.auditor.Audit(context.WithoutCancel(ctx), e); err != nil {
		b.log.Error("audit log unavailable", "command", command, "outcome", outcome, "err", err)
	}
}
