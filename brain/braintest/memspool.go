package braintest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/evo-tr/evo/brain"
)

// MemSpool is a brain.Spool in memory; it passes TestSpool but keeps
// nothing across a restart. It is safe for concurrent use.
type MemSpool struct {
	// FailPut, when set, is returned (wrapped) by Put, which then keeps
	// nothing: a full or broken disk. Set it before the spool is shared, or
	// with SetFailPut.
	FailPut error

	mu   sync.Mutex
	recs []brain.Record
	puts int
	// headGen changes when RemoveUser removes the head; seenGen is its
	// value at the last Head, while seen.
	headGen, seenGen uint64
	seen             bool
}

var _ brain.Spool = (*MemSpool)(nil)

// SetFailPut sets FailPut while the spool may be in use.
func (s *MemSpool) SetFailPut(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.FailPut = err
}

// Put keeps a copy of r. Like the file spool, it refuses a record no
// History could store.
func (s *MemSpool) Put(_ context.Context, r brain.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("spool: put: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.FailPut != nil {
		return fmt.Errorf("spool: write: %w", s.FailPut)
	}
	s.recs = append(s.recs, clone(r))
	s.puts++
	return nil
}

// Head returns a copy of the oldest record.
func (s *MemSpool) Head(_ context.Context) (brain.Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recs) == 0 {
		return brain.Record{}, false, nil
	}
	s.seenGen, s.seen = s.headGen, true
	return clone(s.recs[0]), true, nil
}

// Pop removes the oldest record; it fails on an empty spool. When
// RemoveUser has removed the record Head last returned, it does nothing.
func (s *MemSpool) Pop(_ context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stale := s.seen && s.seenGen != s.headGen
	s.seen = false
	if stale {
		return nil
	}
	if len(s.recs) == 0 {
		return errors.New("spool: pop: the spool is empty")
	}
	s.recs[0] = brain.Record{}
	s.recs = s.recs[1:]
	return nil
}

// Len reports how many records wait.
func (s *MemSpool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// Has reports whether a record of the conversation waits.
func (s *MemSpool) Has(k brain.ConvKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.recs {
		if r.Key == k {
			return true
		}
	}
	return false
}

// RemoveUser deletes the user's records on the platform.
func (s *MemSpool) RemoveUser(_ context.Context, p brain.Platform, userID string) (int, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return 0, fmt.Errorf("spool: remove user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := make([]brain.Record, 0, len(s.recs))
	for _, r := range s.recs {
		if r.Key.Platform != p || r.Key.UserID != userID {
			keep = append(keep, r)
		}
	}
	n := len(s.recs) - len(keep)
	if n > 0 && (s.recs[0].Key.Platform == p && s.recs[0].Key.UserID == userID) {
		s.headGen++
	}
	s.recs = keep
	return n, nil
}

// Records returns copies of the waiting records, oldest first.
func (s *MemSpool) Records() []brain.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]brain.Record, len(s.recs))
	for i, r := range s.recs {
		out[i] = clone(r)
	}
	return out
}

// Puts reports how many records Put has kept, popped ones included.
func (s *MemSpool) Puts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}
