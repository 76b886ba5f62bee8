package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

var (
	_ brain.Tombstones = (*Store)(nil)
	_ brain.UserFinder = (*Store)(nil)
)

// findUsersSQL finds the users of a platform by id, username or display
// name (005_forget's users_username_idx serves the username); $3 limits
// the match to the username ("@name"), an empty $2 returns every user.
const findUsersSQL = `
SELECT platform_user_id, display_name, username FROM users
WHERE platform = $1 AND (
	$2 = ''
	OR (username <> '' AND lower(username) = lower($2))
	OR (NOT $3 AND (platform_user_id = $2 OR (display_name <> '' AND lower(display_name) = lower($2))))
)
ORDER BY platform_user_id COLLATE "C"`

// buryUserSQL writes a tombstone, keeping the later time.
const buryUserSQL = `
INSERT INTO forgotten_users AS f (platform, platform_user_id, forgotten_at) VALUES ($1, $2, $3)
ON CONFLICT (platform, platform_user_id) DO UPDATE
SET forgotten_at = greatest(f.forgotten_at, excluded.forgotten_at)`

const buriedSQL = `
SELECT platform, platform_user_id, forgotten_at FROM forgotten_users WHERE forgotten_at >= $1`

// FindUsers implements brain.UserFinder.
func (s *Store) FindUsers(ctx context.Context, p brain.Platform, query string) ([]brain.UserMatch, error) {
	query = strings.TrimSpace(query)
	handleOnly := strings.HasPrefix(query, "@")
	q := strings.TrimPrefix(query, "@")
	if handleOnly && q == "" {
		return nil, nil
	}
	var out []brain.UserMatch
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, findUsersSQL, p, q, handleOnly)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (brain.UserMatch, error) {
			u := brain.UserMatch{Platform: p}
			err := row.Scan(&u.UserID, &u.Name, &u.Handle)
			return u, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find users of %s: %w", p, err)
	}
	return out, nil
}

// Bury implements brain.Tombstones.
func (s *Store) Bury(ctx context.Context, p brain.Platform, userID string, at time.Time) error {
	if err := brain.ValidateUser(p, userID); err != nil {
		return fmt.Errorf("bury: %w", err)
	}
	if at.IsZero() {
		return fmt.Errorf("bury %s/%s: no time", p, userID)
	}
	err := s.run(ctx, true, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, buryUserSQL, p, userID, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("bury %s/%s: %w", p, userID, err)
	}
	return nil
}

// Buried implements brain.Tombstones.
func (s *Store) Buried(ctx context.Context, since time.Time) (brain.Graves, error) {
	out := brain.Graves{}
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, buriedSQL, since)
		if err != nil {
			return err
		}
		defer rows.Close()
		clear(out)
		for rows.Next() {
			var u brain.UserRef
			var at time.Time
			if err := rows.Scan(&u.Platform, &u.UserID, &at); err != nil {
				return err
			}
			out[u] = at
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read tombstones: %w", err)
	}
	return out, nil
}
