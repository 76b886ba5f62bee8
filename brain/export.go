package brain

import "context"

// UserExporter reads every message EVO-TR keeps of a user (/export).
type UserExporter interface {
	// UserMessages returns every message of the user's conversations on
	// the platform (theirs and the replies to them), in every chat, oldest
	// first (by ID). A user with no messages gets none and no error.
	UserMessages(ctx context.Context, p Platform, userID string) ([]Record, error)
}

// TrainingLines reads the training data the night wrote from a user's
// conversations (/export): one JSONL line each.
type TrainingLines interface {
	UserLines(ctx context.Context, p Platform, userID string) ([]string, error)
}

// WithExporter enables /export: every message of the user goes into the
// file, with their long-term memories (WithMemoryLister) and training
// lines (WithTrainingLines) when those are configured.
func WithExporter(e UserExporter) Option { return func(b *Brain) { b.reports.exporter = e } }

// WithTrainingLines adds the user's training lines to /export.
func WithTrainingLines(t TrainingLines) Option { return func(b *Brain) { b.reports.training = t } }
