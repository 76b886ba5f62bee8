package braintest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// MemNightLog is an in-memory brain.NightLog. It is safe for concurrent use.
type MemNightLog struct {
	mu   sync.Mutex
	runs map[string]*NightRun
}

// NightRun is what MemNightLog keeps of a day.
type NightRun struct {
	Started  time.Time
	Finished time.Time
	Report   string
	Err      string
}

var _ brain.NightLog = (*MemNightLog)(nil)

// NewMemNightLog returns an empty MemNightLog.
func NewMemNightLog() *MemNightLog { return &MemNightLog{runs: map[string]*NightRun{}} }

// ClaimNight implements brain.NightLog.
func (l *MemNightLog) ClaimNight(_ context.Context, day string, now time.Time, stale time.Duration) (bool, error) {
	if err := validDay(day); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.runs[day]
	switch {
	case r == nil:
	case !r.Finished.IsZero() && r.Err == "":
		return false, nil // done
	case r.Finished.IsZero() && r.Started.After(now.Add(-stale)):
		return false, nil // running elsewhere
	}
	l.runs[day] = &NightRun{Started: now}
	return true, nil
}

// FinishNight implements brain.NightLog.
func (l *MemNightLog) FinishNight(_ context.Context, day string, now time.Time, report string, runErr error) error {
	if err := validDay(day); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.runs[day]
	if r == nil || !r.Finished.IsZero() {
		return fmt.Errorf("finish night %s: the day is not claimed", day)
	}
	r.Finished, r.Report, r.Err = now, report, ""
	if runErr != nil {
		r.Err = runErr.Error()
	}
	return nil
}

// Run returns what the log holds of day.
func (l *MemNightLog) Run(day string) (NightRun, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.runs[day]
	if !ok {
		return NightRun{}, false
	}
	return *r, true
}

func validDay(day string) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return fmt.Errorf("night log: day %q is not YYYY-MM-DD", day)
	}
	return nil
}

// TestNightLog is the contract of brain.NightLog. newLog must return an
// empty log of its own for each call.
func TestNightLog(t *testing.T, newLog func(t *testing.T) brain.NightLog) {
	t.Helper()
	ctx := context.Background()
	const day, stale = "2026-11-23", time.Hour
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	claim := func(t *testing.T, l brain.NightLog, now time.Time, want bool) {
		t.Helper()
		got, err := l.ClaimNight(ctx, day, now, stale)
		if err != nil {
			t.Fatalf("ClaimNight: %v", err)
		}
		if got != want {
			t.Fatalf("ClaimNight at %s = %v, want %v", now.Format(time.TimeOnly), got, want)
		}
	}
	finish := func(t *testing.T, l brain.NightLog, now time.Time, runErr error) {
		t.Helper()
		if err := l.FinishNight(ctx, day, now, `{"memories":3}`, runErr); err != nil {
			t.Fatalf("FinishNight: %v", err)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, l brain.NightLog)
	}{
		{"a new day is claimed once", func(t *testing.T, l brain.NightLog) {
			claim(t, l, t0, true)
			claim(t, l, t0.Add(time.Minute), false)
		}},
		{"a finished day is never claimed again", func(t *testing.T, l brain.NightLog) {
			claim(t, l, t0, true)
			finish(t, l, t0.Add(time.Minute), nil)
			claim(t, l, t0.Add(48*time.Hour), false)
		}},
		{"a failed day is claimed again", func(t *testing.T, l brain.NightLog) {
			claim(t, l, t0, true)
			finish(t, l, t0.Add(time.Minute), errors.New("ollama down"))
			claim(t, l, t0.Add(2*time.Minute), true)
			finish(t, l, t0.Add(3*time.Minute), nil)
			claim(t, l, t0.Add(4*time.Minute), false)
		}},
		{"a stale claim is taken over", func(t *testing.T, l brain.NightLog) {
			claim(t, l, t0, true)
			claim(t, l, t0.Add(stale-time.Second), false)
			claim(t, l, t0.Add(stale+time.Second), true)
		}},
		{"days are independent", func(t *testing.T, l brain.NightLog) {
			claim(t, l, t0, true)
			ok, err := l.ClaimNight(ctx, "2026-11-22", t0, stale)
			if err != nil || !ok {
				t.Fatalf("claim of another day = %v, %v; want true", ok, err)
			}
		}},
		{"bad input is refused", func(t *testing.T, l brain.NightLog) {
			if _, err := l.ClaimNight(ctx, "dün", t0, stale); err == nil {
				t.Error("ClaimNight accepted a day that is not YYYY-MM-DD")
			}
			if err := l.FinishNight(ctx, "2026-01-01", t0, "", nil); err == nil {
				t.Error("FinishNight accepted a day that was never claimed")
			}
			claim(t, l, t0, true)
			finish(t, l, t0, nil)
			if err := l.FinishNight(ctx, day, t0, "", nil); err == nil {
				t.Error("FinishNight accepted a run that has finished already")
			}
		}},
		{"concurrent claims: exactly one wins", func(t *testing.T, l brain.NightLog) {
			var wg sync.WaitGroup
			wins := make(chan bool, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := l.ClaimNight(ctx, day, t0, stale)
					if err != nil {
						t.Errorf("ClaimNight: %v", err)
					}
					wins <- ok
				}()
			}
			wg.Wait()
			close(wins)
			n := 0
			for ok := range wins {
				if ok {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d of 8 concurrent claims won, want 1", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newLog(t))
		})
	}
}
