package braintest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/evo-tr/evo/brain"
)

// MemAccess is an in-memory brain.AccessStore. It is safe for concurrent
// use; SetDown makes every call fail with brain.ErrStoreUnavailable.
type MemAccess struct {
	mu       sync.Mutex
	approved map[brain.UserRef]brain.ApprovedUser
	codes    map[string]brain.Pairing
	down     bool
	calls    int
}

var _ brain.AccessStore = (*MemAccess)(nil)

// NewMemAccess returns an empty MemAccess.
func NewMemAccess() *MemAccess {
	return &MemAccess{approved: map[brain.UserRef]brain.ApprovedUser{}, codes: map[string]brain.Pairing{}}
}

// SetDown makes the store unreachable (true) or reachable again.
func (s *MemAccess) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Calls reports how many calls the store has had.
func (s *MemAccess) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Codes returns the live codes, by code.
func (s *MemAccess) Codes() map[string]brain.Pairing {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]brain.Pairing, len(s.codes))
	for k, v := range s.codes {
		out[k] = v
	}
	return out
}

// enter counts a call and fails while the store is down; s.mu is held.
func (s *MemAccess) enter() error {
	s.calls++
	if s.down {
		return fmt.Errorf("memaccess: %w", brain.ErrStoreUnavailable)
	}
	return nil
}

// Approved implements brain.AccessStore.
func (s *MemAccess) Approved(_ context.Context, p brain.Platform, userID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(); err != nil {
		return false, err
	}
	_, ok := s.approved[brain.UserRef{Platform: p, UserID: userID}]
	return ok, nil
}

// Approve implements brain.AccessStore.
func (s *MemAccess) Approve(_ context.Context, u brain.ApprovedUser) error {
	if err := brain.ValidateUser(u.Platform, u.UserID); err != nil {
		return fmt.Errorf("approve: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(); err != nil {
		return err
	}
	u.ApprovedAt = u.ApprovedAt.Truncate(time.Microsecond) // what Postgres keeps
	s.approved[brain.UserRef{Platform: u.Platform, UserID: u.UserID}] = u
	return nil
}

// Revoke implements brain.AccessStore.
func (s *MemAccess) Revoke(_ context.Context, p brain.Platform, userID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(); err != nil {
		return false, err
	}
	k := brain.UserRef{Platform: p, UserID: userID}
	_, ok := s.approved[k]
	delete(s.approved, k)
	return ok, nil
}

// List implements brain.AccessStore.
func (s *MemAccess) List(_ context.Context) ([]brain.ApprovedUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(); err != nil {
		return nil, err
	}
	out := make([]brain.ApprovedUser, 0, len(s.approved))
	for _, u := range s.approved {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.ApprovedAt.Equal(b.ApprovedAt) {
			return a.ApprovedAt.Before(b.ApprovedAt)
		}
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return a.UserID < b.UserID
	})
	return out, nil
}

// SavePairing implements brain.AccessStore.
func (s *MemAccess) SavePairing(_ context.Context, pr brain.Pairing, now time.Time) error {
	if err := brain.ValidateUser(pr.Platform, pr.UserID); err != nil {
		return fmt.Errorf("save pairing: %w", err)
	}
	if pr.Code == "" {
		return fmt.Errorf("save pairing: empty code")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(); err != nil {
		return err
	}
	for c, p := range s.codes {
		if !p.Expires.After(now) {
			delete(s.codes, c)
		}
	}
	if p, ok := s.codes[pr.Code]; ok && (p.Platform != pr.Platform || p.UserID != pr.UserID) {
		return fmt.Errorf("save pairing: %w", brain.ErrPairingCodeTaken)
	}
	for c, p := range s.codes {
		if p.Platform == pr.Platform && p.UserID == pr.UserID {
			delete(s.codes, c)
		}
	}
	pr.Expires = pr.Expires.Truncate(time.Microsecond)
	s.codes[pr.Code] = pr
	return nil
}

// TakePairing implements brain.AccessStore.
func (s *MemAccess) TakePairing(_ context.Context, code string, now time.Time) (brain.Pairing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(); err != nil {
		return brain.Pairing{}, err
	}
	p, ok := s.codes[code]
	if !ok || !p.Expires.After(now) {
		return brain.Pairing{}, fmt.Errorf("take pairing %q: %w", code, brain.ErrPairingNotFound)
	}
	delete(s.codes, code)
	return p, nil
}
