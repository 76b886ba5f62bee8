package longterm

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/evo-tr/evo/brain"
)

// DefaultBatch is how many memories one write to the index carries when
// the index is rebuilt.
const DefaultBatch = 100

// Progress is how far a Reindex has come.
type Progress struct {
	// Users is how many users have memories; UsersDone how many of them
	// are indexed again.
	Users, UsersDone int
	// Memories counts the memories indexed so far.
	Memories int
}

// Reindex rebuilds the index from the rows, user by user: each user's
// index is dropped and their rows are added again in batches of batch
// (DefaultBatch when <= 0), after a lost index, a new embedding model or
// an index upgrade. progress, when not nil, is called after every batch.
// A user's rows that change meanwhile may be missed until the next write
// or Reindex.
func (m *Memory) Reindex(ctx context.Context, batch int, progress func(Progress)) (Progress, error) {
	var pr Progress
	if m.index == nil {
		return pr, errors.New("reindex: there is no index (long-term memory search is off)")
	}
	users, err := m.rows.Users(ctx)
	if err != nil {
		return pr, fmt.Errorf("reindex: %w", unavailable(err))
	}
	pr.Users = len(users)
	for _, u := range users {
		if err := ctx.Err(); err != nil {
			return pr, err
		}
		base := pr.Memories
		n, err := m.rebuild(ctx, u.Platform, u.UserID, batch, func(done int) {
			if progress != nil {
				p := pr
				p.Memories = base + done
				progress(p)
			}
		})
		pr.Memories = base + n
		if err != nil {
			return pr, fmt.Errorf("reindex %s/%s: %w", u.Platform, u.UserID, err)
		}
		pr.UsersDone++
		if progress != nil {
			progress(pr)
		}
	}
	return pr, nil
}

// rebuild drops the user's index and adds their rows again in batches; it
// returns how many it added and calls done after each batch with the
// count so far.
func (m *Memory) rebuild(ctx context.Context, p brain.Platform, userID string, batch int, done func(int)) (int, error) {
	if batch <= 0 {
		batch = DefaultBatch
	}
	ms, err := m.rows.List(ctx, p, userID, math.MaxInt32)
	if err != nil {
		return 0, fmt.Errorf("read rows: %w", unavailable(err))
	}
	if err := m.index.ForgetUser(ctx, p, userID); err != nil {
		return 0, fmt.Errorf("drop the index: %w", err)
	}
	n := 0
	for start := 0; start < len(ms); start += batch {
		part := ms[start:min(start+batch, len(ms))]
		if err := m.index.Remember(ctx, p, userID, part); err != nil {
			return n, fmt.Errorf("index memories: %w", err)
		}
		n += len(part)
		if done != nil {
			done(n)
		}
	}
	return n, nil
}
