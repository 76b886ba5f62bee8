package braintest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evo-tr/evo/brain"
)

// MemRows is a MemoryRows in memory: Time is kept to the second, in UTC,
// and what the PostgreSQL store refuses is refused. It is safe for
// concurrent use.
type MemRows struct {
	mu    sync.Mutex
	users map[userKey]map[string]brain.Memory
}

var _ MemoryRows = (*MemRows)(nil)

// NewMemRows returns an empty MemRows.
func NewMemRows() *MemRows { return &MemRows{users: map[userKey]map[string]brain.Memory{}} }

// Put implements MemoryRows.
func (s *MemRows) Put(_ context.Context, p brain.Platform, userID string, ms []brain.Memory) error {
	if err := brain.ValidateMemoryRows(p, userID, ms); err != nil {
		return fmt.Errorf("put memories: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(p, userID, ms, "")
	return nil
}

// put writes ms; those without a Day get day. s.mu is held.
func (s *MemRows) put(p brain.Platform, userID string, ms []brain.Memory, day string) {
	k := userKey{p, userID}
	if len(ms) > 0 && s.users[k] == nil {
		s.users[k] = map[string]brain.Memory{}
	}
	for _, m := range ms {
		if m.Day == "" {
			m.Day = day
		}
		s.users[k][m.ID] = rowCopy(m)
	}
}

// ReplaceDay implements MemoryRows.
func (s *MemRows) ReplaceDay(_ context.Context, p brain.Platform, userID, day string, ms []brain.Memory) ([]string, error) {
	if err := brain.ValidateMemoryRows(p, userID, ms); err != nil {
		return nil, fmt.Errorf("replace day: %w", err)
	}
	if err := brain.ValidateMemoryDay(day); err != nil || day == "" {
		return nil, fmt.Errorf("replace day: day %q is not YYYY-MM-DD", day)
	}
	keep := map[string]bool{}
	for _, m := range ms {
		keep[m.ID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []string
	for id, m := range s.users[userKey{p, userID}] {
		if m.Day == day && !keep[id] {
			delete(s.users[userKey{p, userID}], id)
			gone = append(gone, id)
		}
	}
	s.put(p, userID, ms, day)
	slices.Sort(gone)
	return gone, nil
}

// Get implements MemoryRows.
func (s *MemRows) Get(_ context.Context, p brain.Platform, userID string, ids []string) ([]brain.Memory, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, fmt.Errorf("get memories: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []brain.Memory
	for _, id := range ids {
		if m, ok := s.users[userKey{p, userID}][id]; ok {
			out = append(out, rowCopy(m))
		}
	}
	return out, nil
}

// List implements MemoryRows.
func (s *MemRows) List(_ context.Context, p brain.Platform, userID string, limit int) ([]brain.Memory, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, fmt.Errorf("list memories: %w", err)
	}
	if limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	out := make([]brain.Memory, 0, len(s.users[userKey{p, userID}]))
	for _, m := range s.users[userKey{p, userID}] {
		out = append(out, rowCopy(m))
	}
	s.mu.Unlock()
	brain.SortNewestFirst(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DeleteUser implements MemoryRows.
func (s *MemRows) DeleteUser(_ context.Context, p brain.Platform, userID string) (int, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return 0, fmt.Errorf("delete memories: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.users[userKey{p, userID}])
	delete(s.users, userKey{p, userID})
	return n, nil
}

// Users implements MemoryRows.
func (s *MemRows) Users(context.Context) ([]brain.UserRef, error) {
	s.mu.Lock()
	var out []brain.UserRef
	for k, ms := range s.users {
		if len(ms) > 0 {
			out = append(out, brain.UserRef{Platform: k.platform, UserID: k.userID})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b brain.UserRef) int {
		if c := strings.Compare(string(a.Platform), string(b.Platform)); c != 0 {
			return c
		}
		return strings.Compare(a.UserID, b.UserID)
	})
	return out, nil
}

// Len returns how many memories the user has.
func (s *MemRows) Len(p brain.Platform, userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users[userKey{p, userID}])
}

// rowCopy is m as a row keeps it: its own slices, no distance, the time
// to the second in UTC.
func rowCopy(m brain.Memory) brain.Memory {
	m.Tags = slices.Clone(m.Tags)
	m.Sources = slices.Clone(m.Sources)
	m.Time = m.Time.Truncate(time.Second).UTC()
	m.Distance = 0
	return m
}
