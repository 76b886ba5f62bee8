package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

// The Store is the night's progress (sleep.Progress: the night_progress
// table), asserted in the tests: memory/postgres does not import sleep.

const usersDoneSQL = `SELECT platform, platform_user_id FROM night_progress WHERE day = $1`

const markUserDoneSQL = `
INSERT INTO night_progress (day, platform, platform_user_id, done_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (day, platform, platform_user_id) DO UPDATE SET done_at = EXCLUDED.done_at`

const clearUsersDoneSQL = `DELETE FROM night_progress WHERE day = $1`

// progressDay reads day (YYYY-MM-DD) for the night_progress queries.
func progressDay(what, day string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: day %q is not YYYY-MM-DD", what, day)
	}
	return d, nil
}

// UsersDone returns the users the night finished for day.
func (s *Store) UsersDone(ctx context.Context, day string) (map[brain.UserRef]bool, error) {
	d, err := progressDay("night progress", day)
	if err != nil {
		return nil, err
	}
	var done map[brain.UserRef]bool
	err = s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, usersDoneSQL, d)
		if err != nil {
			return err
		}
		done = map[brain.UserRef]bool{}
		var u brain.UserRef
		_, err = pgx.ForEachRow(rows, []any{&u.Platform, &u.UserID}, func() error {
			done[u] = true
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("night progress of %s: %w", day, err)
	}
	return done, nil
}

// MarkUserDone records that the night finished u for day at now.
func (s *Store) MarkUserDone(ctx context.Context, day string, u brain.UserRef, now time.Time) error {
	d, err := progressDay("record night progress", day)
	if err != nil {
		return err
	}
	if err := brain.ValidateUser(u.Platform, u.UserID); err != nil {
		return fmt.Errorf("record night progress: %w", err)
	}
	err = s.run(ctx, true, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, markUserDoneSQL, d, string(u.Platform), u.UserID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("record night progress of %s: %w", day, err)
	}
	return nil
}

// ClearUsersDone forgets day's progress.
func (s *Store) ClearUsersDone(ctx context.Context, day string) error {
	d, err := progressDay("clear night progress", day)
	if err != nil {
		return err
	}
	err = s.run(ctx, true, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, clearUsersDoneSQL, d)
		return err
	})
	if err != nil {
		return fmt.Errorf("clear night progress of %s: %w", day, err)
	}
	return nil
}
