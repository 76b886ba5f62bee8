package pgtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestCluster starts a private cluster, queries its database evo, stops
// it (a query fails), starts it again (a query works, the data is kept),
// and checks that it never uses the shared server's port.
func TestCluster(t *testing.T) {
	c := NewCluster(t)
	if c.Port() == 5432 {
		t.Fatalf("the private cluster took the shared server's port 5432")
	}
	if !strings.Contains(c.URL(), "/evo?") {
		t.Fatalf("URL %q does not name the database evo", c.URL())
	}
	query := func() (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.URL())
		if err != nil {
			return 0, err
		}
		defer conn.Close(ctx)
		var n int
		err = conn.QueryRow(ctx, "SELECT count(*) FROM kept").Scan(&n)
		return n, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if n, err := query(); err != nil || n != 2 {
		t.Fatalf("query on the running cluster: %d, %v", n, err)
	}

	c.Stop(t)
	if _, err := query(); err == nil {
		t.Fatal("a query on the stopped cluster succeeded")
	}
	c.Stop(t) // stopping twice is harmless

	c.Start(t)
	if n, err := query(); err != nil || n != 2 {
		t.Fatalf("query after the restart: %d, %v", n, err)
	}
}
