// Package longterm is EVO-TR's long-term memory: memories are rows (the
// truth, memory/postgres) and a search index over them (Chroma) serves
// recall. Writes go to the rows first, then to the index; recall asks the
// index and keeps only the hits whose row still exists, so a lost or stale
// index loses nothing that Reindex cannot bring back. Without an index
// there is no recall, but the rows are still written, listed (/memory,
// /export) and deleted (/forget).
package longterm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/evo-tr/evo/brain"
)

// Rows stores memories as rows (memory/postgres.Memories).
type Rows interface {
	Put(ctx context.Context, p brain.Platform, userID string, ms []brain.Memory) error
	// ReplaceDay deletes the user's memories of day whose IDs ms lacks,
	// writes ms and returns the deleted IDs.
	ReplaceDay(ctx context.Context, p brain.Platform, userID, day string, ms []brain.Memory) ([]string, error)
	// Get returns the memories with the IDs, in their order; unknown IDs
	// are left out.
	Get(ctx context.Context, p brain.Platform, userID string, ids []string) ([]brain.Memory, error)
	brain.MemoryLister
	DeleteUser(ctx context.Context, p brain.Platform, userID string) (int, error)
	Users(ctx context.Context) ([]brain.UserRef, error)
}

// Index is the search index over the rows (memory/chroma.Store).
type Index interface {
	brain.Recall
	brain.Memorizer
	brain.Forgetter
}

// Memory is long-term memory over rows and an index. It is safe for
// concurrent use.
type Memory struct {
	rows  Rows
	index Index // nil: no recall
	log   *slog.Logger
}

var (
	_ brain.Recall       = (*Memory)(nil)
	_ brain.Memorizer    = (*Memory)(nil)
	_ brain.Forgetter    = (*Memory)(nil)
	_ brain.MemoryLister = (*Memory)(nil)
)

// New returns a Memory over rows and index; index may be nil (no recall).
func New(rows Rows, index Index, log *slog.Logger) (*Memory, error) {
	if rows == nil || log == nil {
		return nil, errors.New("longterm: rows and log are required")
	}
	if index == nil {
		return &Memory{rows: rows, log: log}, nil
	}
	return &Memory{rows: rows, index: index, log: log}, nil
}

// Ping checks the index, when it has a Ping; the rows' database has a
// health check of its own.
func (m *Memory) Ping(ctx context.Context) error {
	if p, ok := m.index.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	return nil
}

// maxRecallTries bounds how often Top asks the index again when hits
// without rows left it short.
const maxRecallTries = 3

// Top returns up to k memories of the user nearest to text, nearest first,
// as their rows say (Distance from the index). Hits whose row no longer
// exists are dropped. Without an index: none.
func (m *Memory) Top(ctx context.Context, p brain.Platform, userID, text string, k int) ([]brain.Memory, error) {
	if m.index == nil {
		if err := brain.ValidateUser(p, userID); err != nil {
			return nil, fmt.Errorf("recall: %w", err)
		}
		return nil, nil
	}
	ask := k
	for try := 1; ; try++ {
		hits, err := m.index.Top(ctx, p, userID, text, ask)
		if err != nil || len(hits) == 0 {
			return nil, err
		}
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		rows, err := m.rows.Get(ctx, p, userID, ids)
		if err != nil {
			return nil, fmt.Errorf("recall: %w", unavailable(err))
		}
		byID := make(map[string]brain.Memory, len(rows))
		for _, r := range rows {
			byID[r.ID] = r
		}
		out := make([]brain.Memory, 0, min(k, len(hits)))
		for _, h := range hits {
			if r, ok := byID[h.ID]; ok && len(out) < k {
				r.Distance = h.Distance
				out = append(out, r)
			}
		}
		stale := len(hits) - len(rows)
		if stale > 0 {
			m.log.Debug("recall: index hits without a row", "platform", p, "user", userID, "stale", stale)
		}
		// Short because of stale hits while the index may hold more: ask
		// for more.
		if len(out) == k || len(hits) < ask || try == maxRecallTries {
			return out, nil
		}
		ask = min(ask*2+stale, math.MaxInt32)
	}
}

// Remember writes the rows, then the index.
func (m *Memory) Remember(ctx context.Context, p brain.Platform, userID string, ms []brain.Memory) error {
	if err := m.rows.Put(ctx, p, userID, ms); err != nil {
		return fmt.Errorf("remember: %w", unavailable(err))
	}
	if m.index == nil || len(ms) == 0 {
		return nil
	}
	if err := m.index.Remember(ctx, p, userID, ms); err != nil {
		return fmt.Errorf("remember in the index: %w", err)
	}
	return nil
}

// ReplaceDay makes ms the user's memories of day (YYYY-MM-DD): the day's
// earlier memories that ms lacks are deleted from the rows and the index,
// and ms is written to both. A memory of ms from an earlier day (one the
// night refreshed) keeps its day. With memories to delete, the user's
// index is rebuilt from the rows (the index deletes only whole users).
func (m *Memory) ReplaceDay(ctx context.Context, p brain.Platform, userID, day string, ms []brain.Memory) error {
	gone, err := m.rows.ReplaceDay(ctx, p, userID, day, ms)
	if err != nil {
		return fmt.Errorf("replace %s: %w", day, unavailable(err))
	}
	if m.index == nil {
		return nil
	}
	if len(gone) > 0 {
		if _, err := m.rebuild(ctx, p, userID, DefaultBatch, nil); err != nil {
			return fmt.Errorf("replace %s: %w", day, err)
		}
		return nil
	}
	if len(ms) == 0 {
		return nil
	}
	if err := m.index.Remember(ctx, p, userID, ms); err != nil {
		return fmt.Errorf("replace %s in the index: %w", day, err)
	}
	return nil
}

// ForgetUser deletes the user's rows, then their index.
func (m *Memory) ForgetUser(ctx context.Context, p brain.Platform, userID string) error {
	if _, err := m.rows.DeleteUser(ctx, p, userID); err != nil {
		return fmt.Errorf("forget user: %w", unavailable(err))
	}
	if m.index == nil {
		return nil
	}
	if err := m.index.ForgetUser(ctx, p, userID); err != nil {
		return fmt.Errorf("forget user in the index: %w", err)
	}
	return nil
}

// List returns the user's rows, newest first (/memory, /export, /forget's
// count).
func (m *Memory) List(ctx context.Context, p brain.Platform, userID string, limit int) ([]brain.Memory, error) {
	ms, err := m.rows.List(ctx, p, userID, limit)
	if err != nil {
		return nil, unavailable(err)
	}
	return ms, nil
}

// unavailable adds brain.ErrMemoryUnavailable to an error that says the
// rows' database cannot be reached.
func unavailable(err error) error {
	if errors.Is(err, brain.ErrStoreUnavailable) && !errors.Is(err, brain.ErrMemoryUnavailable) {
		return fmt.Errorf("%w: %w", brain.ErrMemoryUnavailable, err)
	}
	return err
}
