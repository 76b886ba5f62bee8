package brain

import (
	"context"
	"time"
)

// StatsReport is what /stats shows of the store: who uses EVO-TR, how much
// they wrote today and who answered.
type StatsReport struct {
	// Users is how many identities the store knows, on every platform.
	Users int
	// MessagesToday counts the users' messages since the day's start.
	MessagesToday int
	// Answers counts today's answers (assistant messages with a routing
	// decision, failed ones excluded) by expert.
	Answers map[string]int
	// Fallbacks is how many of those the base model gave because the
	// router was unsure.
	Fallbacks int
	// LastNight is the latest night run, nil when there has been none.
	LastNight *NightRun
}

// NightRun is one row of the night log as /stats shows it.
type NightRun struct {
	Day      string // YYYY-MM-DD
	Started  time.Time
	Finished time.Time // zero while running (or when the run died)
	Report   string
	Err      string // empty when it succeeded
}

// Stats reads the figures of /stats.
type Stats interface {
	// Stats counts from dayStart on (the start of today in the night's
	// zone) and reads the latest night run.
	Stats(ctx context.Context, dayStart time.Time) (StatsReport, error)
}

// HealthCheck answers nil when a dependency works.
type HealthCheck func(ctx context.Context) error

// reportPorts are the optional parts behind /stats and /export.
type reportPorts struct {
	stats    Stats
	health   map[string]HealthCheck
	exporter UserExporter
	training TrainingLines
}

// WithStats enables the admins' /stats command.
func WithStats(s Stats) Option { return func(b *Brain) { b.reports.stats = s } }

// WithHealth names the dependencies /stats checks (e.g. "postgres",
// "ollama", "chroma"), each with a quick check.
func WithHealth(checks map[string]HealthCheck) Option {
	return func(b *Brain) {
		b.reports.health = make(map[string]HealthCheck, len(checks))
		for k, v := range checks {
			if v != nil {
				b.reports.health[k] = v
			}
		}
	}
}
