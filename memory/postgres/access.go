package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ brain.AccessStore = (*Store)(nil)

const approvedSQL = `
SELECT EXISTS (SELECT 1 FROM approved_users WHERE platform = $1 AND platform_user_id = $2)`

const approveSQL = `
INSERT INTO approved_users (platform, platform_user_id, display_name, approved_by, approved_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (platform, platform_user_id) DO UPDATE
   SET display_name = EXCLUDED.display_name, approved_by = EXCLUDED.approved_by, approved_at = EXCLUDED.approved_at`

const revokeSQL = `DELETE FROM approved_users WHERE platform = $1 AND platform_user_id = $2`

const listApprovedSQL = `
SELECT platform, platform_user_id, display_name, approved_by, approved_at
FROM approved_users ORDER BY approved_at, platform, platform_user_id`

// clearPairingSQL drops the codes expired at $1 and the user's own code,
// which the new one replaces.
const clearPairingSQL = `
DELETE FROM pairing_codes WHERE expires_at <= $1 OR (platform = $2 AND platform_user_id = $3)`

const savePairingSQL = `
INSERT INTO pairing_codes (code, platform, platform_user_id, display_name, expires_at)
VALUES ($1, $2, $3, $4, $5)`

const takePairingSQL = `
DELETE FROM pairing_codes WHERE code = $1 AND expires_at > $2
RETURNING platform, platform_user_id, display_name, expires_at`

// Approved implements brain.AccessStore.
func (s *Store) Approved(ctx context.Context, p brain.Platform, userID string) (bool, error) {
	var ok bool
	err := s.run(ctx, true, func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, approvedSQL, p, userID).Scan(&ok)
	})
	if err != nil {
		return false, fmt.Errorf("check approval of %s:%s: %w", p, userID, err)
	}
	return ok, nil
}

// Approve implements brain.AccessStore.
func (s *Store) Approve(ctx context.Context, u brain.ApprovedUser) error {
	if err := brain.ValidateUser(u.Platform, u.UserID); err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	if u.ApprovedAt.IsZero() {
		return errors.New("approve: no time")
	}
	err := s.run(ctx, true, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, approveSQL, u.Platform, u.UserID, cleanText(u.UserName), cleanText(u.ApprovedBy), u.ApprovedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("approve %s:%s: %w", u.Platform, u.UserID, err)
	}
	return nil
}

// Revoke implements brain.AccessStore.
func (s *Store) Revoke(ctx context.Context, p brain.Platform, userID string) (bool, error) {
	var n int64
	err := s.run(ctx, false, func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, revokeSQL, p, userID)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("revoke %s:%s: %w", p, userID, err)
	}
	return n > 0, nil
}

// List implements brain.AccessStore.
func (s *Store) List(ctx context.Context) ([]brain.ApprovedUser, error) {
	var out []brain.ApprovedUser
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, listApprovedSQL)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (brain.ApprovedUser, error) {
			var u brain.ApprovedUser
			err := row.Scan(&u.Platform, &u.UserID, &u.UserName, &u.ApprovedBy, &u.ApprovedAt)
			return u, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list approved users: %w", err)
	}
	return out, nil
}

// SavePairing implements brain.AccessStore.
func (s *Store) SavePairing(ctx context.Context, pr brain.Pairing, now time.Time) error {
	if err := brain.ValidateUser(pr.Platform, pr.UserID); err != nil {
		return fmt.Errorf("save pairing code: %w", err)
	}
	if pr.Code == "" || pr.Expires.IsZero() {
		return errors.New("save pairing code: a code and its expiry are required")
	}
	err := s.run(ctx, true, func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, clearPairingSQL, now, pr.Platform, pr.UserID); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, savePairingSQL, pr.Code, pr.Platform, pr.UserID, cleanText(pr.UserName), pr.Expires)
			return err
		})
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "pairing_codes_pkey" {
		return fmt.Errorf("save pairing code: %w", brain.ErrPairingCodeTaken)
	}
	if err != nil {
		return fmt.Errorf("save pairing code of %s:%s: %w", pr.Platform, pr.UserID, err)
	}
	return nil
}

// TakePairing implements brain.AccessStore.
func (s *Store) TakePairing(ctx context.Context, code string, now time.Time) (brain.Pairing, error) {
	p := brain.Pairing{Code: code}
	err := s.run(ctx, false, func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, takePairingSQL, code, now).Scan(&p.Platform, &p.UserID, &p.UserName, &p.Expires)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return brain.Pairing{}, fmt.Errorf("take pairing code: %w", brain.ErrPairingNotFound)
	}
	if err != nil {
		return brain.Pairing{}, fmt.Errorf("take pairing code: %w", err)
	}
	return p, nil
}

// cleanText makes a name storable: valid UTF-8, no NULs.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
