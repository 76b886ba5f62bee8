package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5/pgconn"
)

// classify wraps err with brain.ErrStoreUnavailable when it means the
// database could not be reached or did not answer in time.
func classify(ctx context.Context, err error) error {
	if err == nil || !unavailable(ctx, err) || errors.Is(err, brain.ErrStoreUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", brain.ErrStoreUnavailable, err)
}

// unavailable tells whether err comes from an unreachable, restarting or
// unresponsive server rather than from the query itself.
func unavailable(ctx context.Context, err error) bool {
	if errors.Is(err, context.Canceled) || ctx.Err() == context.Canceled {
		return false // the caller gave up; the database may be fine
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		return lostConnectionCode(pgErr.Code)
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, net.ErrClosed),
		pgconn.SafeToRetry(err):
		return true
	}
	return false
}

// lostConnectionCode tells whether a server error means the connection is
// gone or the server cannot serve: class 08 (connection exception),
// 57P01-57P03 (shutdown, crash, starting up) and 53300 (too many
// connections).
func lostConnectionCode(code string) bool {
	return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
}

// run calls fn, and calls it once more on a fresh connection when it failed
// because its connection was lost (a restarted server, a terminated
// backend). Every idle connection is dropped first: after a restart they
// are all dead. idempotent says fn may run twice; otherwise it is retried
// only when pgx guarantees nothing reached the server.
func (s *Store) run(ctx context.Context, idempotent bool, fn func(context.Context) error) error {
	if s.unmigrated.Load() {
		return fmt.Errorf("%w: postgres at %s: the schema is not migrated yet", brain.ErrStoreUnavailable, s.where)
	}
	err := fn(ctx)
	if err == nil || !unavailable(ctx, err) {
		return err
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || ctx.Err() != nil {
		return classify(ctx, err) // the server is down or time is up: retrying now cannot help
	}
	s.pool.Reset()
	if !idempotent && !pgconn.SafeToRetry(err) {
		s.log.Warn("lost a database connection; the pool reconnects", "server", s.where, "err", err)
		return classify(ctx, err)
	}
	s.log.Warn("lost a database connection; retrying on a new one", "server", s.where, "err", err)
	if err := fn(ctx); err != nil {
		return classify(ctx, err)
	}
	return nil
}
