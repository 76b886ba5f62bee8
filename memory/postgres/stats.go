package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

var _ brain.Stats = (*Store)(nil)

// statsSQL counts the users, today's user messages and today's answers by
// expert (fallbacks apart) in one statement; today's rows are found in
// messages_created_at_idx. Rows with an empty expert carry the totals.
const statsSQL = `
WITH today AS (
	SELECT role, expert, fallback, failed FROM messages WHERE created_at >= $1
)
SELECT '' AS expert,
	(SELECT count(*) FROM users) AS n,
	(SELECT count(*) FROM today WHERE role = 'user') AS fallbacks
UNION ALL
SELECT expert, count(*), count(*) FILTER (WHERE fallback)
FROM today WHERE role = 'assistant' AND expert IS NOT NULL AND NOT failed
GROUP BY expert`

// lastNightSQL is the latest night run.
const lastNightSQL = `
SELECT to_char(day, 'YYYY-MM-DD'), started_at, finished_at, report, coalesce(error, '')
FROM night_runs ORDER BY day DESC LIMIT 1`

// Stats implements brain.Stats: the figures of /stats from dayStart on.
func (s *Store) Stats(ctx context.Context, dayStart time.Time) (brain.StatsReport, error) {
	var out brain.StatsReport
	err := s.run(ctx, true, func(ctx context.Context) error {
		out = brain.StatsReport{Answers: map[string]int{}}
		rows, err := s.pool.Query(ctx, statsSQL, dayStart)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var expert string
			var n, fallbacks int
			if err := rows.Scan(&expert, &n, &fallbacks); err != nil {
				return err
			}
			if expert == "" {
				out.Users, out.MessagesToday = n, fallbacks
				continue
			}
			out.Answers[expert] = n
			out.Fallbacks += fallbacks
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var r brain.NightRun
		var finished *time.Time
		err = s.pool.QueryRow(ctx, lastNightSQL).Scan(&r.Day, &r.Started, &finished, &r.Report, &r.Err)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		if finished != nil {
			r.Finished = *finished
		}
		out.LastNight = &r
		return nil
	})
	if err != nil {
		return brain.StatsReport{}, fmt.Errorf("read stats: %w", err)
	}
	return out, nil
}
