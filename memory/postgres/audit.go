package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

var _ brain.Auditor = (*Store)(nil)

const auditSQL = `
INSERT INTO audit_log (at, platform, platform_user_id, command, target, outcome)
VALUES ($1, $2, $3, $4, $5, $6)`

const auditLogSQL = `
SELECT at, platform, platform_user_id, command, target, outcome
FROM audit_log WHERE at >= $1 ORDER BY at, id`

// Audit records one admin action or refused attempt (audit_log).
func (s *Store) Audit(ctx context.Context, e brain.AuditEntry) error {
	switch {
	case e.Time.IsZero():
		return errors.New("audit: the entry has no time")
	case e.Platform == "" || e.UserID == "" || e.Command == "":
		return errors.New("audit: platform, user and command are required")
	}
	err := s.run(ctx, false, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, auditSQL, e.Time, e.Platform, e.UserID, e.Command, e.Target, e.Outcome)
		return err
	})
	if err != nil {
		return fmt.Errorf("audit /%s of %s/%s: %w", e.Command, e.Platform, e.UserID, err)
	}
	return nil
}

// AuditLog returns every audit entry with Time >= since, oldest first.
func (s *Store) AuditLog(ctx context.Context, since time.Time) ([]brain.AuditEntry, error) {
	var out []brain.AuditEntry
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, auditLogSQL, since)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (brain.AuditEntry, error) {
			var e brain.AuditEntry
			err := row.Scan(&e.Time, &e.Platform, &e.UserID, &e.Command, &e.Target, &e.Outcome)
			return e, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit log since %s: %w", since.Format(time.RFC3339), err)
	}
	return out, nil
}
