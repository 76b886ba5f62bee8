package brain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// maxPending bounds the messages kept in memory while the database is down.
const maxPending = 10000

// outbox stores records through History and keeps, in order, those that
// could not be stored because the database was unreachable, so that a
// Postgres outage loses no message. Pending records are written before any
// new one, on the next append or Flush.
type outbox struct {
	history History
	log     *slog.Logger

	mu      sync.Mutex
	pending []*Record
}

func newOutbox(h History, log *slog.Logger) *outbox { return &outbox{history: h, log: log} }

// append stores r, after any pending records. When the database is
// unreachable r joins the pending records and the error is returned.
func (o *outbox) append(ctx context.Context, r *Record) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.flushLocked(ctx); err != nil {
		o.keepLocked(r)
		return err
	}
	err := o.history.Append(ctx, r)
	if errors.Is(err, ErrStoreUnavailable) {
		o.keepLocked(r)
	}
	if err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	return nil
}

// Flush writes pending records; serve calls it periodically.
func (o *outbox) Flush(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flushLocked(ctx)
}

func (o *outbox) flushLocked(ctx context.Context) error {
	n := len(o.pending)
	for len(o.pending) > 0 {
		if err := o.history.Append(ctx, o.pending[0]); err != nil {
			if errors.Is(err, ErrStoreUnavailable) {
				return fmt.Errorf("flush pending messages: %w", err)
			}
			// A record the database refuses (not an outage) cannot be
			// retried into success: log it whole rather than block the rest.
			o.log.Error("dropping a pending message the database refuses", "err", err,
				"conv", o.pending[0].Key.String(), "role", o.pending[0].Role, "text", o.pending[0].Text)
		}
		o.pending[0] = nil
		o.pending = o.pending[1:]
	}
	if n > 0 {
		o.log.Info("stored messages kept while the database was down", "count", n)
	}
	return nil
}

func (o *outbox) keepLocked(r *Record) {
	if len(o.pending) >= maxPending {
		lost := o.pending[0]
		o.log.Error("too many messages waiting for the database; dropping the oldest",
			"conv", lost.Key.String(), "text", lost.Text)
		o.pending = o.pending[1:]
	}
	o.pending = append(o.pending, r)
}

func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending)
}
