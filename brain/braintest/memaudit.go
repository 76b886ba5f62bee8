package braintest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
)

// AuditLog is an audit log that can be read back (evo audit).
type AuditLog interface {
	brain.Auditor
	// AuditLog returns every entry with Time >= since, oldest first.
	AuditLog(ctx context.Context, since time.Time) ([]brain.AuditEntry, error)
}

// MemAudit is an in-memory AuditLog. It behaves like the PostgreSQL one:
// Time is kept to the microsecond, and entries it would refuse are
// refused. It is safe for concurrent use.
type MemAudit struct {
	mu      sync.Mutex
	entries []brain.AuditEntry
}

var _ AuditLog = (*MemAudit)(nil)

// NewMemAudit returns an empty MemAudit.
func NewMemAudit() *MemAudit { return &MemAudit{} }

// validAudit is what the audit_log table accepts.
func validAudit(e brain.AuditEntry) error {
	switch {
	case e.Time.IsZero():
		return errors.New("audit: the entry has no time")
	case e.Platform == "" || e.UserID == "" || e.Command == "":
		return errors.New("audit: platform, user and command are required")
	case e.Outcome != brain.AuditOK && e.Outcome != brain.AuditRefused && e.Outcome != brain.AuditFailed:
		return fmt.Errorf("audit: unknown outcome %q", e.Outcome)
	}
	return nil
}

// Audit implements brain.Auditor.
func (a *MemAudit) Audit(_ context.Context, e brain.AuditEntry) error {
	if err := validAudit(e); err != nil {
		return err
	}
	e.Time = e.Time.Truncate(time.Microsecond).Round(0)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

// AuditLog returns every entry with Time >= since, oldest first (ties in
// the order they were recorded).
func (a *MemAudit) AuditLog(_ context.Context, since time.Time) ([]brain.AuditEntry, error) {
	since = since.Truncate(time.Microsecond)
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []brain.AuditEntry
	for _, e := range a.entries {
		if !e.Time.Before(since) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// TestAuditLog is the contract of an AuditLog. newLog must return an empty
// log of its own for each call.
func TestAuditLog(t *testing.T, newLog func(t *testing.T) AuditLog) {
	t.Helper()
	ctx := context.Background()
	entry := func(min int, user, cmd, target, outcome string) brain.AuditEntry {
		return brain.AuditEntry{Time: T0.Add(time.Duration(min) * time.Minute), Platform: brain.PlatformTelegram,
			UserID: user, Command: cmd, Target: target, Outcome: outcome}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, l AuditLog)
	}{
		{"entries come back oldest first, as written", func(t *testing.T, l AuditLog) {
			want := []brain.AuditEntry{
				entry(0, "7", "wipe", "all", brain.AuditRefused),
				entry(1, "1", "sleep", "dün", brain.AuditOK),
				entry(2, "1", "wipe", "@ayşe", brain.AuditFailed),
			}
			for _, e := range []brain.AuditEntry{want[1], want[0], want[2]} {
				if err := l.Audit(ctx, e); err != nil {
					t.Fatalf("Audit: %v", err)
				}
			}
			got, err := l.AuditLog(ctx, T0.Add(-time.Hour))
			if err != nil {
				t.Fatalf("AuditLog: %v", err)
			}
			if len(got) != len(want) {
				t.Fatalf("AuditLog: got %d entries, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				if !got[i].Time.Equal(want[i].Time) || got[i].Platform != want[i].Platform || got[i].UserID != want[i].UserID ||
					got[i].Command != want[i].Command || got[i].Target != want[i].Target || got[i].Outcome != want[i].Outcome {
					t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
		}},
		{"since bounds the entries, inclusively", func(t *testing.T, l AuditLog) {
			for i := range 3 {
				if err := l.Audit(ctx, entry(i*60, "1", "sleep", "", brain.AuditOK)); err != nil {
					t.Fatalf("Audit: %v", err)
				}
			}
			got, err := l.AuditLog(ctx, T0.Add(time.Hour))
			if err != nil {
				t.Fatalf("AuditLog: %v", err)
			}
			if len(got) != 2 || !got[0].Time.Equal(T0.Add(time.Hour)) {
				t.Errorf("AuditLog since the second: got %+v, want the last two", got)
			}
			if got, _ := l.AuditLog(ctx, T0.Add(3*time.Hour)); len(got) != 0 {
				t.Errorf("AuditLog since after the last: got %+v, want none", got)
			}
		}},
		{"an empty log has no entries and no error", func(t *testing.T, l AuditLog) {
			got, err := l.AuditLog(ctx, time.Time{})
			if err != nil || len(got) != 0 {
				t.Errorf("AuditLog of an empty log = %v, %v; want none, nil", got, err)
			}
		}},
		{"malformed entries are refused", func(t *testing.T, l AuditLog) {
			for _, e := range []brain.AuditEntry{
				entry(0, "1", "wipe", "", "maybe"),
				entry(0, "", "wipe", "", brain.AuditOK),
				entry(0, "1", "", "", brain.AuditOK),
				{Platform: brain.PlatformTelegram, UserID: "1", Command: "wipe", Outcome: brain.AuditOK},
			} {
				if err := l.Audit(ctx, e); err == nil {
					t.Errorf("Audit(%+v): got no error, want one", e)
				}
			}
			if got, _ := l.AuditLog(ctx, time.Time{}); len(got) != 0 {
				t.Errorf("refused entries were kept: %+v", got)
			}
		}},
		{"concurrent entries are all kept", func(t *testing.T, l AuditLog) {
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := l.Audit(ctx, entry(i, fmt.Sprint(i), "wipe", "", brain.AuditRefused)); err != nil {
						t.Errorf("Audit: %v", err)
					}
				}()
			}
			wg.Wait()
			if got, _ := l.AuditLog(ctx, time.Time{}); len(got) != 8 {
				t.Errorf("AuditLog: got %d entries, want 8", len(got))
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
