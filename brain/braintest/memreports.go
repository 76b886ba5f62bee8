package braintest

import (
	"context"
	"sort"
	"time"

	"github.com/evo-tr/evo/brain"
)

var _ brain.UserExporter = (*MemHistory)(nil)

// UserMessages returns every message of the user's conversations on the
// platform, in every chat, oldest first (by ID).
func (h *MemHistory) UserMessages(_ context.Context, p brain.Platform, userID string) ([]brain.Record, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []brain.Record
	for _, r := range h.records {
		if r.Key.Platform == p && r.Key.UserID == userID {
			out = append(out, h.view(r))
		}
	}
	return out, nil
}

// MemStats is brain.Stats over a MemHistory and a MemNightLog, counting as
// the PostgreSQL store does.
type MemStats struct {
	History *MemHistory
	Nights  *MemNightLog
}

var _ brain.Stats = MemStats{}

// Stats implements brain.Stats.
func (s MemStats) Stats(_ context.Context, dayStart time.Time) (brain.StatsReport, error) {
	dayStart = dayStart.Truncate(time.Microsecond)
	out := brain.StatsReport{Answers: map[string]int{}}
	if s.History != nil {
		s.History.mu.Lock()
		users := map[userKey]bool{}
		for _, r := range s.History.records {
			users[userKey{r.Key.Platform, r.Key.UserID}] = true
			if r.Time.Before(dayStart) {
				continue
			}
			switch {
			case r.Role == brain.RoleUser:
				out.MessagesToday++
			case r.Decision != nil && !r.Failed:
				out.Answers[r.Decision.Expert]++
				if r.Decision.Fallback {
					out.Fallbacks++
				}
			}
		}
		out.Users = len(users)
		s.History.mu.Unlock()
	}
	if s.Nights != nil {
		s.Nights.mu.Lock()
		days := make([]string, 0, len(s.Nights.runs))
		for d := range s.Nights.runs {
			days = append(days, d)
		}
		sort.Strings(days)
		if len(days) > 0 {
			d := days[len(days)-1]
			r := s.Nights.runs[d]
			out.LastNight = &brain.NightRun{Day: d, Started: r.Started, Finished: r.Finished, Report: r.Report, Err: r.Err}
		}
		s.Nights.mu.Unlock()
	}
	return out, nil
}
