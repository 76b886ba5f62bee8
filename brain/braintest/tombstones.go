package braintest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// MemTombstones is brain.Tombstones in memory. It is safe for concurrent
// use.
type MemTombstones struct {
	mu     sync.Mutex
	graves brain.Graves
	// OnBury, when set, is called after each Bury (tests wait on it).
	OnBury func(brain.UserRef)
}

var _ brain.Tombstones = (*MemTombstones)(nil)

// NewMemTombstones returns an empty MemTombstones.
func NewMemTombstones() *MemTombstones { return &MemTombstones{graves: brain.Graves{}} }

// Bury implements brain.Tombstones.
func (m *MemTombstones) Bury(_ context.Context, p brain.Platform, userID string, at time.Time) error {
	if err := brain.ValidateUser(p, userID); err != nil {
		return fmt.Errorf("bury: %w", err)
	}
	if at.IsZero() {
		return fmt.Errorf("bury %s/%s: no time", p, userID)
	}
	u := brain.UserRef{Platform: p, UserID: userID}
	m.mu.Lock()
	if old, ok := m.graves[u]; !ok || at.After(old) {
		m.graves[u] = at.Truncate(time.Microsecond).Round(0) // as PostgreSQL keeps it
	}
	hook := m.OnBury
	m.mu.Unlock()
	if hook != nil {
		hook(u)
	}
	return nil
}

// Buried implements brain.Tombstones.
func (m *MemTombstones) Buried(_ context.Context, since time.Time) (brain.Graves, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := brain.Graves{}
	for u, at := range m.graves {
		if !at.Before(since.Truncate(time.Microsecond)) {
			out[u] = at
		}
	}
	return out, nil
}

// TestTombstones is the contract of brain.Tombstones. newTombs must return
// an empty store of its own for each call; the subtests run in parallel.
func TestTombstones(t *testing.T, newTombs func(t *testing.T) brain.Tombstones) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	ayse := brain.UserRef{Platform: brain.PlatformTelegram, UserID: "42"}
	ayseDC := brain.UserRef{Platform: brain.PlatformDiscord, UserID: "42"}
	mehmet := brain.UserRef{Platform: brain.PlatformTelegram, UserID: "7"}
	bury := func(t *testing.T, s brain.Tombstones, u brain.UserRef, at time.Time) {
		t.Helper()
		if err := s.Bury(ctx, u.Platform, u.UserID, at); err != nil {
			t.Fatalf("Bury(%s, %s): %v", u, at, err)
		}
	}
	buried := func(t *testing.T, s brain.Tombstones, since time.Time) brain.Graves {
		t.Helper()
		g, err := s.Buried(ctx, since)
		if err != nil {
			t.Fatalf("Buried(%s): %v", since, err)
		}
		for u, at := range g { // compare instants, whatever the zone
			g[u] = at.UTC()
		}
		return g
	}
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s brain.Tombstones)
	}{
		{"none yet", func(t *testing.T, s brain.Tombstones) {
			if g := buried(t, s, time.Time{}); len(g) != 0 {
				t.Errorf("Buried on an empty store = %v, want none", g)
			}
		}},
		{"since is inclusive and filters", func(t *testing.T, s brain.Tombstones) {
			bury(t, s, ayse, t0)
			bury(t, s, mehmet, t0.Add(time.Hour))
			if g, want := buried(t, s, t0), (brain.Graves{ayse: t0, mehmet: t0.Add(time.Hour)}); !reflect.DeepEqual(g, want) {
				t.Errorf("Buried(t0) = %v, want %v", g, want)
			}
			if g, want := buried(t, s, t0.Add(time.Second)), (brain.Graves{mehmet: t0.Add(time.Hour)}); !reflect.DeepEqual(g, want) {
				t.Errorf("Buried(t0+1s) = %v, want %v", g, want)
			}
		}},
		{"burying again keeps the later time", func(t *testing.T, s brain.Tombstones) {
			bury(t, s, ayse, t0.Add(time.Hour))
			bury(t, s, ayse, t0)
			if g, want := buried(t, s, time.Time{}), (brain.Graves{ayse: t0.Add(time.Hour)}); !reflect.DeepEqual(g, want) {
				t.Errorf("after an earlier Bury: %v, want %v", g, want)
			}
			bury(t, s, ayse, t0.Add(2*time.Hour))
			if g, want := buried(t, s, time.Time{}), (brain.Graves{ayse: t0.Add(2 * time.Hour)}); !reflect.DeepEqual(g, want) {
				t.Errorf("after a later Bury: %v, want %v", g, want)
			}
		}},
		{"platforms are apart; zones do not matter", func(t *testing.T, s brain.Tombstones) {
			ist := time.FixedZone("TRT", 3*3600)
			bury(t, s, ayse, t0.In(ist))
			bury(t, s, ayseDC, t0.Add(time.Minute))
			if g, want := buried(t, s, t0.In(ist)), (brain.Graves{ayse: t0, ayseDC: t0.Add(time.Minute)}); !reflect.DeepEqual(g, want) {
				t.Errorf("Buried = %v, want %v", g, want)
			}
		}},
		{"bad input is refused", func(t *testing.T, s brain.Tombstones) {
			if err := s.Bury(ctx, brain.PlatformTelegram, "", t0); err == nil {
				t.Error("Bury with an empty user id: got no error")
			}
			if err := s.Bury(ctx, "", "42", t0); err == nil {
				t.Error("Bury with an empty platform: got no error")
			}
			if err := s.Bury(ctx, brain.PlatformTelegram, "42", time.Time{}); err == nil {
				t.Error("Bury with no time: got no error")
			}
		}},
		{"graves hide what was written before", func(t *testing.T, s brain.Tombstones) {
			bury(t, s, ayse, t0)
			g := buried(t, s, time.Time{})
			before := brain.Record{Key: brain.ConvKey{Platform: ayse.Platform, ChatID: "1", UserID: ayse.UserID}, Time: t0.Add(-time.Second)}
			after := before
			after.Time = t0.Add(time.Second)
			other := before
			other.Key.UserID = mehmet.UserID
			if !g.Hides(before) || g.Hides(after) || g.Hides(other) {
				t.Errorf("Hides: before %v (want true), after %v, another user %v (want false)", g.Hides(before), g.Hides(after), g.Hides(other))
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newTombs(t))
		})
	}
}
