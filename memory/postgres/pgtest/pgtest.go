// Package pgtest gives tests a PostgreSQL schema of their own. Tests of any
// package that need a real database call NewSchema; it fails the test (it
// never skips) when PostgreSQL is not running.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// startHint says how to start the local server.
const startHint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start " +
	"(or point TEST_DATABASE_URL at a server)"

// URL returns the server tests use: TEST_DATABASE_URL, else DefaultURL.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewSchema creates an empty schema with a unique name and returns a
// connection string whose search_path is that schema only, so everything
// the test creates (migrations included) lands there. The connection's
// application_name is the schema name too, which lets a test find its own
// backends in pg_stat_activity. The schema is dropped when the test ends;
// close pools on it first (register their Close after calling NewSchema).
func NewSchema(tb testing.TB) string {
	tb.Helper()
	base := URL()
	name := schemaName(tb.Name())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := connect(ctx, tb, base)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create test schema %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn := connect(ctx, tb, base)
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop test schema %s: %v", name, err)
		}
	})
	return withParams(base, map[string]string{"search_path": name, "application_name": name})
}

// connect opens one connection to the test server or fails the test with
// a message that says how to start it.
func connect(ctx context.Context, tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("TEST_DATABASE_URL is not a valid connection string")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("PostgreSQL for tests is unreachable at %s:%d: %v\n%s", cfg.Host, cfg.Port, err, startHint)
	}
	return conn
}

// schemaName makes a lower-case identifier from the test's name and a
// random suffix, short enough for PostgreSQL's 63-byte limit.
func schemaName(testName string) string {
	var b strings.Builder
	b.WriteString("test_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:]) // crypto/rand.Read never fails
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(suffix[:]))
	return b.String()
}

// withParams adds run-time parameters to a connection string in URL or
// keyword/value form.
func withParams(dsn string, params map[string]string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			for k, v := range params {
				q.Set(k, v)
			}
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	var b strings.Builder
	b.WriteString(dsn)
	for k, v := range params {
		b.WriteString(" " + k + "=" + v)
	}
	return b.String()
}
