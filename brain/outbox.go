package brain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// storeTimeout bounds one attempt to store a record in the database: a
// database that hangs costs the first message a few seconds, then records
// go to the spool until a flush gets through.
const storeTimeout = 3 * time.Second

// stored says where a record ended up.
type stored int

const (
	storedDB        stored = iota // in the database
	storedSpool                   // in the spool, to be written to the database later
	storedDuplicate               // in the database already: a redelivery
)

// outbox stores records: in the database when it answers, else in the
// spool, from which Flush writes them in order once it does. Records of one
// conversation stay in order: while any of them waits in the spool, the
// conversation's new records join them there. No lock is held across a
// database call, so one slow insert holds up only its own conversation.
type outbox struct {
	history History
	spool   Spool
	log     *slog.Logger
	// down is set when the database failed to take a record and cleared
	// by a flush that emptied the spool: while it is set, records go
	// straight to the spool instead of waiting storeTimeout each.
	down atomic.Bool
	// flushing serializes flushes (the spool's order is the order of
	// writes); appends never wait for it.
	flushing sync.Mutex
}

func newOutbox(h History, sp Spool, log *slog.Logger) *outbox {
	return &outbox{history: h, spool: sp, log: log}
}

// append stores r: in the database, or when it cannot take r now, durably
// in the spool. An error means r is kept nowhere. Shutdown does not stop a
// store that has begun: ctx's cancellation is ignored, its values kept.
func (o *outbox) append(ctx context.Context, r *Record) (stored, error) {
	ctx = context.WithoutCancel(ctx)
	if o.down.Load() || o.spool.Has(r.Key) {
		return o.toSpool(ctx, r)
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	err := o.history.Append(sctx, r)
	cancel()
	switch {
	case err == nil:
		return storedDB, nil
	case errors.Is(err, ErrDuplicate):
		return storedDuplicate, nil
	case errors.Is(err, ErrStoreUnavailable) || errors.Is(err, context.DeadlineExceeded):
		o.down.Store(true)
		o.log.Warn("database unavailable; keeping messages in the spool", "err", err)
		return o.toSpool(ctx, r)
	default:
		return 0, fmt.Errorf("store message: %w", err)
	}
}

func (o *outbox) toSpool(ctx context.Context, r *Record) (stored, error) {
	if err := o.spool.Put(ctx, *r); err != nil {
		return 0, fmt.Errorf("spool message: %w", err)
	}
	return storedSpool, nil
}

// Flush writes the spooled records to the database, oldest first, and
// removes each once stored. It stops at the first outage.
func (o *outbox) Flush(ctx context.Context) error {
	o.flushing.Lock()
	defer o.flushing.Unlock()
	n := 0
	defer func() {
		if n > 0 {
			o.log.Info("stored messages kept while the database was down", "count", n, "left", o.spool.Len())
		}
	}()
	for {
		r, ok, err := o.spool.Head(ctx)
		if err != nil {
			return fmt.Errorf("flush spool: %w", err)
		}
		if !ok {
			break
		}
		sctx, cancel := context.WithTimeout(ctx, storeTimeout)
		err = o.history.Append(sctx, &r)
		cancel()
		switch {
		case err == nil, errors.Is(err, ErrDuplicate):
			n++
		case errors.Is(err, ErrStoreUnavailable) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
			return fmt.Errorf("flush spool: %w", err)
		default:
			// A record the database refuses (not an outage) cannot be
			// retried into success: drop it rather than block the rest.
			o.log.Error("dropping a spooled message the database refuses", "err", err,
				"conv", r.Key.String(), "role", r.Role, "ref", r.Ref)
		}
		if err := o.spool.Pop(ctx); err != nil {
			return fmt.Errorf("flush spool: %w", err)
		}
	}
	o.down.Store(false)
	return nil
}

func (o *outbox) len() int { return o.spool.Len() }

// memSpool is the spool of a brain given none: records wait in memory, at
// most maxPending of them (the oldest are dropped beyond that). It does not
// survive a restart; the service gives the brain a spool on disk.
type memSpool struct {
	log     *slog.Logger
	mu      sync.Mutex
	records []Record
}

// maxPending bounds the records memSpool keeps.
const maxPending = 10000

var _ Spool = (*memSpool)(nil)

func (s *memSpool) Put(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.records) >= maxPending {
		s.log.Error("too many messages waiting for the database; dropping the oldest",
			"conv", s.records[0].Key.String(), "role", s.records[0].Role)
		s.records = s.records[1:]
	}
	s.records = append(s.records, r)
	return nil
}

func (s *memSpool) Head(context.Context) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.records) == 0 {
		return Record{}, false, nil
	}
	return s.records[0], true, nil
}

func (s *memSpool) Pop(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.records) > 0 {
		s.records[0] = Record{}
		s.records = s.records[1:]
	}
	return nil
}

func (s *memSpool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

func (s *memSpool) Has(k ConvKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.records {
		if r.Key == k {
			return true
		}
	}
	return false
}

func (s *memSpool) RemoveUser(_ context.Context, p Platform, userID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.records[:0]
	for _, r := range s.records {
		if r.Key.Platform != p || r.Key.UserID != userID {
			kept = append(kept, r)
		}
	}
	n := len(s.records) - len(kept)
	clear(s.records[len(kept):])
	s.records = kept
	return n, nil
}
