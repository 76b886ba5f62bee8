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
	"strings"
	"sync/atomic"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/migrations"
	"github.com/jackc/pgx/v5/pgconn"
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
	// unmigrated is set by Connect until Migrate succeeds: until then every
	// call answers brain.ErrStoreUnavailable rather than query tables that
	// may not exist yet.
	unmigrated atomic.Bool
}

var _ brain.History = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// keyword/value string) and checks that it answers. Errors name the host,
// never the password; an unreachable server gives an error that wraps
// brain.ErrStoreUnavailable. Call Migrate before using the Store on a new
// database, and Close when done.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	s, cc, err := newStore(ctx, dsn, log)
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.pool.Close()
		if errors.Is(err, brain.ErrStoreUnavailable) {
			return nil, fmt.Errorf("postgres at %s is unreachable (is it running? is DATABASE_URL right?): %w", s.where, err)
		}
		return nil, fmt.Errorf("connect to postgres at %s (check DATABASE_URL's user, password and database): %w", s.where, err)
	}
	log.Info("connected to postgres", "server", s.where, "user", cc.User, "max_conns", s.pool.Config().MaxConns)
	return s, nil
}

// Connect is Open for a service that must start while PostgreSQL is still
// down: it checks the connection string but does not wait for the server.
// Until Migrate succeeds every call fails with brain.ErrStoreUnavailable;
// call Migrate until it does (MigrateWhenUp).
func Connect(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	s, _, err := newStore(ctx, dsn, log)
	if err != nil {
		return nil, err
	}
	s.unmigrated.Store(true)
	return s, nil
}

// defaultMaxConns is the pool's size unless the URL sets pool_max_conns:
// pgx's default (the number of CPUs, at least 4) makes 50 users talking at
// once queue for a connection behind each other's disk flushes, where
// more connections in flight share them (group commit).
const defaultMaxConns = 16

// newStore parses dsn and makes the pool; it connects lazily.
func newStore(ctx context.Context, dsn string, log *slog.Logger) (*Store, *pgconn.Config, error) {
	if log == nil {
		return nil, nil, errors.New("postgres: a logger is required")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the connection string, and its password
		// redaction is best effort on malformed input: say nothing of it.
		return nil, nil, errors.New("postgres: the database URL is not valid " +
			"(expected postgres://user:password@host:5432/dbname?sslmode=disable)")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
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
		return nil, nil, fmt.Errorf("postgres at %s: create pool: %w", where, err)
	}
	return &Store{pool: pool, log: log, where: where}, &cc.Config, nil
}

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", classify(ctx, err))
	}
	if s.unmigrated.Load() {
		return fmt.Errorf("ping postgres: %w: the schema is not migrated yet", brain.ErrStoreUnavailable)
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
	s.unmigrated.Store(false)
	s.log.Info("database schema up to date", "server", s.where, "version", version)
	return nil
}

// Ready reports whether the schema is migrated (always, for Open's stores).
func (s *Store) Ready() bool { return !s.unmigrated.Load() }

// MigrateWhenUp calls Migrate until it succeeds or ctx ends, waiting from
// one second up to max between attempts, and says so in the log. A
// database that refuses the migration for another reason than being down
// (a bad password, a broken schema) is retried too: an operator can fix it
// without restarting evo.
func (s *Store) MigrateWhenUp(ctx context.Context, max time.Duration) error {
	wait := time.Second
	for {
		err := s.Migrate(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("postgres not ready; messages are kept in the spool meanwhile", "server", s.where, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, max)
	}
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
