// Package migrations holds EVO-TR's PostgreSQL schema as numbered SQL files
// (001_init.sql, ...) embedded in the binary, and applies them with tern.
//
// Files are tern migrations: each runs in its own transaction, the part
// after "---- create above / drop below ----" undoes it, and the text is a
// Go template (so a literal double opening brace must not appear).
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

// VersionTable is the table tern keeps the schema version in. It is not
// schema-qualified, so it lands in the first schema of the connection's
// search_path, next to the tables the migrations create.
const VersionTable = "schema_version"

// Migrate brings the schema of conn's search_path up to the newest version.
// It is safe to run from several processes at once: tern serializes runs
// with an advisory lock, and a database already up to date costs one query.
func Migrate(ctx context.Context, conn *pgx.Conn) error {
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

// Files are the migration files, for tools that drive tern themselves.
func Files() fs.FS { return files }

// Latest is the version Migrate brings a database to: the number of
// migration files.
func Latest() (int32, error) {
	names, err := migrate.FindMigrations(files)
	if err != nil {
		return 0, fmt.Errorf("find migrations: %w", err)
	}
	return int32(len(names)), nil
}
