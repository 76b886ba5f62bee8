package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

// Memories keeps long-term memories as rows of the memories table
// (007_memories): the truth that the search index (Chroma) is rebuilt
// from. Time is kept to the second. It is safe for concurrent use.
type Memories struct {
	s     *Store
	clock brain.Clock
}

// NewMemories returns the memory rows of s; clock stamps created_at and
// updated_at.
func NewMemories(s *Store, clock brain.Clock) *Memories { return &Memories{s: s, clock: clock} }

const memoryColumns = `id, text, tags, coalesce(day::text, ''), source_ids, happened_at`

// putMemorySQL writes one memory; $10 is the day of those without one.
const putMemorySQL = `
INSERT INTO memories (platform, platform_user_id, id, day, text, tags, source_ids, happened_at, created_at, updated_at)
VALUES ($1, $2, $3, coalesce(nullif($4, ''), nullif($10, ''))::date, $5, $6, $7, $8, $9, $9)
ON CONFLICT (platform, platform_user_id, id) DO UPDATE
SET day = excluded.day, text = excluded.text, tags = excluded.tags, source_ids = excluded.source_ids,
	happened_at = excluded.happened_at, updated_at = excluded.updated_at`

// Put writes memories of the user; a memory whose ID the user already has
// replaces it. Nothing is written when one memory is invalid.
func (m *Memories) Put(ctx context.Context, p brain.Platform, userID string, ms []brain.Memory) error {
	if err := brain.ValidateMemoryRows(p, userID, ms); err != nil {
		return fmt.Errorf("put memories: %w", err)
	}
	if len(ms) == 0 {
		return nil
	}
	err := m.s.run(ctx, true, func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, m.s.pool, func(tx pgx.Tx) error { return m.put(ctx, tx, p, userID, ms, "") })
	})
	if err != nil {
		return fmt.Errorf("put memories of %s/%s: %w", p, userID, err)
	}
	return nil
}

// put writes ms in tx; those without a Day get day.
func (m *Memories) put(ctx context.Context, tx pgx.Tx, p brain.Platform, userID string, ms []brain.Memory, day string) error {
	now := m.clock.Now()
	var b pgx.Batch
	for _, x := range ms {
		tags, sources := x.Tags, x.Sources
		if tags == nil {
			tags = []string{}
		}
		if sources == nil {
			sources = []int64{}
		}
		b.Queue(putMemorySQL, p, userID, x.ID, x.Day, x.Text, tags, sources, x.Time.Truncate(time.Second), now, day)
	}
	return tx.SendBatch(ctx, &b).Close()
}

const deleteDaySQL = `
DELETE FROM memories WHERE platform = $1 AND platform_user_id = $2 AND day = $3::date AND NOT (id = ANY($4))
RETURNING id`

// ReplaceDay makes ms the user's memories of day: the day's memories whose
// IDs ms lacks are deleted and ms is written, in one transaction. A
// memory without a Day gets day; one with another Day keeps it. It returns
// the deleted IDs, sorted.
func (m *Memories) ReplaceDay(ctx context.Context, p brain.Platform, userID, day string, ms []brain.Memory) ([]string, error) {
	if err := brain.ValidateMemoryRows(p, userID, ms); err != nil {
		return nil, fmt.Errorf("replace day: %w", err)
	}
	if err := brain.ValidateMemoryDay(day); err != nil || day == "" {
		return nil, fmt.Errorf("replace day: day %q is not YYYY-MM-DD", day)
	}
	ids := make([]string, len(ms))
	for i, x := range ms {
		ids[i] = x.ID
	}
	var gone []string
	err := m.s.run(ctx, true, func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, m.s.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, deleteDaySQL, p, userID, day, ids)
			if err != nil {
				return err
			}
			if gone, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				return err
			}
			return m.put(ctx, tx, p, userID, ms, day)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("replace %s memories of %s/%s: %w", day, p, userID, err)
	}
	slices.Sort(gone)
	return gone, nil
}

// Get returns the user's memories with the given IDs, in the order of
// ids; unknown IDs are left out.
func (m *Memories) Get(ctx context.Context, p brain.Platform, userID string, ids []string) ([]brain.Memory, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, fmt.Errorf("get memories: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	got, err := m.query(ctx, `SELECT `+memoryColumns+` FROM memories
WHERE platform = $1 AND platform_user_id = $2 AND id = ANY($3)`, p, userID, ids)
	if err != nil {
		return nil, fmt.Errorf("get memories of %s/%s: %w", p, userID, err)
	}
	by := make(map[string]brain.Memory, len(got))
	for _, x := range got {
		by[x.ID] = x
	}
	out := make([]brain.Memory, 0, len(got))
	for _, id := range ids {
		if x, ok := by[id]; ok {
			out = append(out, x)
			delete(by, id)
		}
	}
	return out, nil
}

// List returns up to limit memories of the user, newest first (ties by
// ID). It implements brain.MemoryLister.
func (m *Memories) List(ctx context.Context, p brain.Platform, userID string, limit int) ([]brain.Memory, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, fmt.Errorf("list memories: %w", err)
	}
	if limit <= 0 {
		return nil, nil
	}
	out, err := m.query(ctx, `SELECT `+memoryColumns+` FROM memories
WHERE platform = $1 AND platform_user_id = $2
ORDER BY happened_at DESC, id COLLATE "C" LIMIT $3`, p, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("list memories of %s/%s: %w", p, userID, err)
	}
	return out, nil
}

// query runs a read of memory rows.
func (m *Memories) query(ctx context.Context, sql string, args ...any) ([]brain.Memory, error) {
	var out []brain.Memory
	err := m.s.run(ctx, true, func(ctx context.Context) error {
		rows, err := m.s.pool.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (brain.Memory, error) {
			var x brain.Memory
			err := row.Scan(&x.ID, &x.Text, &x.Tags, &x.Day, &x.Sources, &x.Time)
			x.Time = x.Time.UTC()
			if len(x.Tags) == 0 {
				x.Tags = nil
			}
			if len(x.Sources) == 0 {
				x.Sources = nil
			}
			return x, err
		})
		return err
	})
	return out, err
}

// DeleteUser deletes every memory of the user and reports how many.
func (m *Memories) DeleteUser(ctx context.Context, p brain.Platform, userID string) (int, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return 0, fmt.Errorf("delete memories: %w", err)
	}
	var n int64
	err := m.s.run(ctx, true, func(ctx context.Context) error {
		tag, err := m.s.pool.Exec(ctx, `DELETE FROM memories WHERE platform = $1 AND platform_user_id = $2`, p, userID)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete memories of %s/%s: %w", p, userID, err)
	}
	return int(n), nil
}

// Users returns every user with a memory, by platform then user ID.
func (m *Memories) Users(ctx context.Context) ([]brain.UserRef, error) {
	var out []brain.UserRef
	err := m.s.run(ctx, true, func(ctx context.Context) error {
		rows, err := m.s.pool.Query(ctx, `SELECT platform, platform_user_id FROM memories
GROUP BY platform, platform_user_id ORDER BY platform COLLATE "C", platform_user_id COLLATE "C"`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (brain.UserRef, error) {
			var u brain.UserRef
			err := row.Scan(&u.Platform, &u.UserID)
			return u, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("users with memories: %w", err)
	}
	return out, nil
}
