package sleeptest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/sleep"
)

// MemProgress is an in-memory sleep.Progress. It is safe for concurrent
// use.
type MemProgress struct {
	mu   sync.Mutex
	days map[string]map[brain.UserRef]time.Time
}

var _ sleep.Progress = (*MemProgress)(nil)

// NewMemProgress returns an empty MemProgress.
func NewMemProgress() *MemProgress {
	return &MemProgress{days: map[string]map[brain.UserRef]time.Time{}}
}

// UsersDone implements sleep.Progress.
func (p *MemProgress) UsersDone(_ context.Context, day string) (map[brain.UserRef]bool, error) {
	if err := validDay(day); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[brain.UserRef]bool{}
	for u := range p.days[day] {
		out[u] = true
	}
	return out, nil
}

// MarkUserDone implements sleep.Progress.
func (p *MemProgress) MarkUserDone(_ context.Context, day string, u brain.UserRef, now time.Time) error {
	if err := validDay(day); err != nil {
		return err
	}
	if err := brain.ValidateUser(u.Platform, u.UserID); err != nil {
		return fmt.Errorf("record night progress: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.days[day] == nil {
		p.days[day] = map[brain.UserRef]time.Time{}
	}
	p.days[day][u] = now
	return nil
}

// ClearUsersDone implements sleep.Progress.
func (p *MemProgress) ClearUsersDone(_ context.Context, day string) error {
	if err := validDay(day); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.days, day)
	return nil
}

func validDay(day string) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return fmt.Errorf("night progress: day %q is not YYYY-MM-DD", day)
	}
	return nil
}

// TestProgress is the contract of sleep.Progress. newProgress must return
// an empty one of its own for each call.
func TestProgress(t *testing.T, newProgress func(t *testing.T) sleep.Progress) {
	t.Helper()
	ctx := context.Background()
	const day, other = "2026-11-23", "2026-11-22"
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	ayse := brain.UserRef{Platform: brain.PlatformTelegram, UserID: "10"}
	mehmet := brain.UserRef{Platform: brain.PlatformDiscord, UserID: "7"}
	sameID := brain.UserRef{Platform: brain.PlatformDiscord, UserID: "10"}
	mark := func(t *testing.T, p sleep.Progress, day string, u brain.UserRef) {
		t.Helper()
		if err := p.MarkUserDone(ctx, day, u, t0); err != nil {
			t.Fatalf("MarkUserDone(%s, %s): %v", day, u, err)
		}
	}
	expect := func(t *testing.T, p sleep.Progress, day string, want ...brain.UserRef) {
		t.Helper()
		got, err := p.UsersDone(ctx, day)
		if err != nil {
			t.Fatalf("UsersDone(%s): %v", day, err)
		}
		if got == nil {
			t.Fatalf("UsersDone(%s) = nil map, want an empty one at least", day)
		}
		wantSet := map[brain.UserRef]bool{}
		for _, u := range want {
			wantSet[u] = true
		}
		if fmt.Sprint(got) != fmt.Sprint(wantSet) {
			t.Errorf("UsersDone(%s) = %v, want %v", day, got, wantSet)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, p sleep.Progress)
	}{
		{"a new day has no user done", func(t *testing.T, p sleep.Progress) {
			expect(t, p, day)
		}},
		{"users done are kept by day", func(t *testing.T, p sleep.Progress) {
			mark(t, p, day, ayse)
			mark(t, p, day, mehmet)
			mark(t, p, other, sameID)
			expect(t, p, day, ayse, mehmet)
			expect(t, p, other, sameID)
		}},
		{"the platform tells users apart", func(t *testing.T, p sleep.Progress) {
			mark(t, p, day, ayse)
			expect(t, p, day, ayse) // not discord:10
		}},
		{"marking a user again is no error", func(t *testing.T, p sleep.Progress) {
			mark(t, p, day, ayse)
			if err := p.MarkUserDone(ctx, day, ayse, t0.Add(time.Hour)); err != nil {
				t.Fatalf("second MarkUserDone: %v", err)
			}
			expect(t, p, day, ayse)
		}},
		{"clearing a day leaves the others", func(t *testing.T, p sleep.Progress) {
			mark(t, p, day, ayse)
			mark(t, p, other, mehmet)
			if err := p.ClearUsersDone(ctx, day); err != nil {
				t.Fatalf("ClearUsersDone: %v", err)
			}
			expect(t, p, day)
			expect(t, p, other, mehmet)
			if err := p.ClearUsersDone(ctx, "2026-01-01"); err != nil {
				t.Errorf("ClearUsersDone of a day with no progress: %v", err)
			}
			mark(t, p, day, mehmet)
			expect(t, p, day, mehmet)
		}},
		{"bad input is refused", func(t *testing.T, p sleep.Progress) {
			if _, err := p.UsersDone(ctx, "dün"); err == nil {
				t.Error("UsersDone accepted a day that is not YYYY-MM-DD")
			}
			if err := p.MarkUserDone(ctx, "23.11.2026", ayse, t0); err == nil {
				t.Error("MarkUserDone accepted a day that is not YYYY-MM-DD")
			}
			if err := p.MarkUserDone(ctx, day, brain.UserRef{Platform: brain.PlatformTelegram}, t0); err == nil {
				t.Error("MarkUserDone accepted a user without an id")
			}
			if err := p.ClearUsersDone(ctx, ""); err == nil {
				t.Error("ClearUsersDone accepted an empty day")
			}
			expect(t, p, day)
		}},
		{"concurrent marks are all kept", func(t *testing.T, p sleep.Progress) {
			var wg sync.WaitGroup
			var want []brain.UserRef
			for i := range 8 {
				u := brain.UserRef{Platform: brain.PlatformTelegram, UserID: fmt.Sprint(100 + i)}
				want = append(want, u)
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := p.MarkUserDone(ctx, day, u, t0); err != nil {
						t.Errorf("MarkUserDone: %v", err)
					}
				}()
			}
			wg.Wait()
			expect(t, p, day, want...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newProgress(t))
		})
	}
}
