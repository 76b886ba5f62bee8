// Package postgres keeps EVO-TR's history in PostgreSQL: every message of
// every conversation, the identities of users and chats, and context-window
// resets. Store implements brain.History over a pgx connection pool.
//
// When the database cannot be reached the Store's errors wrap
// brain.ErrStoreUnavailable, so the brain can tell the user to try again;
// the pool reconnects by itself once PostgreSQL is back.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultConnectTimeout bounds one connection attempt when the connection
// string sets no connect_timeout.
const defaultConnectTimeout = 5 * time.Second

// Store is the PostgreSQL history. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// where names the server for messages: host:port/database, never the
	// password.
	where string
}

var _ brain.History = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// keyword/value string) and checks that it answers. Errors name the host,
// never the password; an unreachable server gives an error that wraps
// brain.ErrStoreUnavailable. Call Migrate before using the Store on a new
// database, and Close when done.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	if log == nil {
		return nil, errors.New("postgres: a logger is required")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the connection string, and its password
		// redaction is best effort on malformed input: say nothing of it.
		return nil, errors.New("postgres: the database URL is not valid " +
			"(expected postgres://user:password@host:5432/dbname?sslmode=disable)")
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "evo"
	}
	where := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))) + "/" + cc.Database

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres at %s: create pool: %w", where, err)
	}
	s := &Store{pool: pool, log: log, where: where}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		if errors.Is(err, brain.ErrStoreUnavailable) {
			return nil, fmt.Errorf("postgres at %s is unreachable (is it running? is DATABASE_URL right?): %w", where, err)
		}
		return nil, fmt.Errorf("connect to postgres at %s (check DATABASE_URL's user, password and database): %w", where, err)
	}
	log.Info("connected to postgres", "server", where, "user", cc.User, "max_conns", cfg.MaxConns)
	return s, nil
}

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", classify(ctx, err))
	}
	return nil
}

// Migrate brings the database schema up to date (see package migrations).
func (s *Store) Migrate(ctx context.Context) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate postgres at %s: %w", s.where, classify(ctx, err))
	}
	defer c.Release()
	if err := migrations.Migrate(ctx, c.Conn()); err != nil {
		// The connection may be mid-transaction or holding the migration
		// lock: do not give it back to the pool.
		_ = c.Conn().Close(ctx)
		return fmt.Errorf("migrate postgres at %s: %w", s.where, classify(ctx, err))
	}
	var version int32
	if err := c.QueryRow(ctx, "SELECT version FROM "+migrations.VersionTable).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", classify(ctx, err))
	}
	s.log.Info("database schema up to date", "server", s.where, "version", version)
	return nil
}

// closeWait bounds how long Close waits for connections to close: pgx
// gives a server that does not answer 15 s per connection.
const closeWait = 3 * time.Second

// Close closes every connection, waiting at most a few seconds for a server
// that does not answer. The Store must not be used afterwards.
func (s *Store) Close() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.pool.Close()
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
		s.log.Warn("postgres connections are still closing; not waiting for them", "server", s.where)
	}
}
