package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

var _ brain.NightLog = (*Store)(nil)

// claimNightSQL inserts the day's run, or takes over a failed or stale one.
// Two instances claiming at once serialize on the row: the second sees the
// first's fresh claim and gets no row back.
const claimNightSQL = `
INSERT INTO night_runs AS r (day, started_at) VALUES ($1, $2)
ON CONFLICT (day) DO UPDATE
   SET started_at = EXCLUDED.started_at, finished_at = NULL, report = '', error = NULL
 WHERE r.error IS NOT NULL OR (r.finished_at IS NULL AND r.started_at < $3)
RETURNING true`

const finishNightSQL = `
UPDATE night_runs SET finished_at = $2, report = $3, error = $4
 WHERE day = $1 AND finished_at IS NULL`

// ClaimNight implements brain.NightLog.
func (s *Store) ClaimNight(ctx context.Context, day string, now time.Time, stale time.Duration) (bool, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return false, fmt.Errorf("claim night: day %q is not YYYY-MM-DD", day)
	}
	var claimed bool
	err = s.run(ctx, false, func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, claimNightSQL, d, now, now.Add(-stale)).Scan(&claimed)
		if errors.Is(err, pgx.ErrNoRows) {
			claimed = false
			return nil
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim night %s: %w", day, err)
	}
	return claimed, nil
}

// FinishNight implements brain.NightLog.
func (s *Store) FinishNight(ctx context.Context, day string, now time.Time, report string, runErr error) error {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return fmt.Errorf("finish night: day %q is not YYYY-MM-DD", day)
	}
	var errText *string
	if runErr != nil {
		e := runErr.Error()
		errText = &e
	}
	var n int64
	err = s.run(ctx, true, func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, finishNightSQL, d, now, report, errText)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("finish night %s: %w", day, err)
	}
	if n == 0 {
		return fmt.Errorf("finish night %s: the day is not claimed", day)
	}
	return nil
}
