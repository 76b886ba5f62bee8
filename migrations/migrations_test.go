package migrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/evo-tr/evo/memory/postgres/pgtest"
	"github.com/evo-tr/evo/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

func connect(t *testing.T) (*pgx.Conn, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	conn, err := pgx.Connect(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, ctx
}

func tables(t *testing.T, ctx context.Context, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() ORDER BY table_name`)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	return names
}

func TestMigrateCreatesTheSchemaInTheSearchPath(t *testing.T) {
	conn, ctx := connect(t)
	for i := range 2 { // the second run finds nothing to do
		if err := migrations.Migrate(ctx, conn); err != nil {
			t.Fatalf("Migrate run %d: %v", i+1, err)
		}
	}
	want := []string{"approved_users", "audit_log", "bot_messages", "chats", "conversation_resets", "feedback", "forgotten_users", "memories", "messages", "night_progress", "night_runs", "pairing_codes", migrations.VersionTable, "users"}
	got := tables(t, ctx, conn)
	if len(got) != len(want) {
		t.Fatalf("tables in the test schema: got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("table %d: got %q, want %q", i, got[i], want[i])
		}
	}
	latest, err := migrations.Latest()
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	var version int32
	if err := conn.QueryRow(ctx, "SELECT version FROM "+migrations.VersionTable).Scan(&version); err != nil {
		t.Fatalf("read version: %v", err)
	}
	if latest < 1 || version != latest {
		t.Errorf("schema version: got %d, want %d (Latest)", version, latest)
	}
}

// TestMigrationsGoDownAndUp checks each file's drop section undoes it.
func TestMigrationsGoDownAndUp(t *testing.T) {
	conn, ctx := connect(t)
	if err := migrations.Migrate(ctx, conn); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	m, err := migrate.NewMigrator(ctx, conn, migrations.VersionTable)
	if err != nil {
		t.Fatalf("NewMigrator: %v", err)
	}
	if err := m.LoadMigrations(migrations.Files()); err != nil {
		t.Fatalf("LoadMigrations: %v", err)
	}
	if err := m.MigrateTo(ctx, 0); err != nil {
		t.Fatalf("migrate down to 0: %v", err)
	}
	if got := tables(t, ctx, conn); len(got) != 1 || got[0] != migrations.VersionTable {
		t.Errorf("tables after migrating down: got %q, want only %s", got, migrations.VersionTable)
	}
	if err := migrations.Migrate(ctx, conn); err != nil {
		t.Fatalf("Migrate up again: %v", err)
	}
}
