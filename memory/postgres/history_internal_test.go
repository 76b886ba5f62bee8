package postgres

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// openTest opens and migrates a Store on dsn.
func openTest(tb testing.TB, dsn string) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// fill appends one message to k, then copies it n-1 times (ids grow) with
// generate_series: fast enough for large histories.
func fill(tb testing.TB, s *Store, k brain.ConvKey, n int) {
	tb.Helper()
	ctx := context.Background()
	first := &brain.Record{Key: k, ChatKind: brain.ChatPrivate, UserName: "Ayşe", Role: brain.RoleUser,
		Text: "ilk mesaj", Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.Append(ctx, first); err != nil {
		tb.Fatalf("Append: %v", err)
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO messages (user_ref, chat_ref, role, text, created_at)
		SELECT m.user_ref, m.chat_ref, CASE WHEN g % 2 = 0 THEN 'user' ELSE 'assistant' END,
			'mesaj ' || g || ' ' || repeat('ğ', 200), m.created_at + g * interval '1 second'
		FROM messages m, generate_series(1, $2::int) g WHERE m.id = $1`, first.ID, n-1)
	if err != nil {
		tb.Fatalf("fill %d messages: %v", n, err)
	}
	if _, err := s.pool.Exec(ctx, "ANALYZE messages"); err != nil {
		tb.Fatalf("analyze: %v", err)
	}
}

// planNode is the part of EXPLAIN (FORMAT JSON) the plan test reads.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	ActualRows   float64    `json:"Actual Rows"`
	ActualLoops  float64    `json:"Actual Loops"`
	IndexCond    string     `json:"Index Cond"`
	Removed      float64    `json:"Rows Removed by Filter"`
	Plans        []planNode `json:"Plans"`
}

func walk(n planNode, f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		walk(c, f)
	}
}

// TestRecentReadsOnlyTheWindow shows that the context-window query reads n
// rows of messages through its index whatever the history's length, with
// and without a reset marker.
func TestRecentReadsOnlyTheWindow(t *testing.T) {
	s := openTest(t, pgtest.NewSchema(t))
	k := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-1", UserID: "42"}
	other := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-1", UserID: "43"}
	fill(t, s, other, 3000)
	fill(t, s, k, 5000)
	ctx := context.Background()
	const n = 20
	for _, reset := range []bool{false, true} {
		if reset {
			if err := s.Reset(ctx, k); err != nil {
				t.Fatalf("Reset: %v", err)
			}
			fill(t, s, k, 100)
		}
		var raw []byte
		err := s.pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+recentSQL, k.Platform, k.UserID, k.ChatID, n).Scan(&raw)
		if err != nil {
			t.Fatalf("explain: %v", err)
		}
		var plans []struct {
			Plan planNode `json:"Plan"`
		}
		if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
			t.Fatalf("decode plan: %v (%s)", err, raw)
		}
		scanned := false
		walk(plans[0].Plan, func(p planNode) {
			if p.RelationName != "messages" {
				return
			}
			scanned = true
			if p.IndexName != "messages_pkey" {
				t.Errorf("reset=%v: messages read by %s %q, want messages_pkey\n%s", reset, p.NodeType, p.IndexName, raw)
			}
			if !strings.Contains(p.IndexCond, "user_ref") || !strings.Contains(p.IndexCond, "chat_ref") {
				t.Errorf("reset=%v: index condition %q does not fix the conversation\n%s", reset, p.IndexCond, raw)
			}
			if rows := (p.ActualRows + p.Removed) * p.ActualLoops; rows > n {
				t.Errorf("reset=%v: the query read %.0f rows of messages, want at most %d\n%s", reset, rows, n, raw)
			}
		})
		if !scanned {
			t.Errorf("reset=%v: no scan of messages in the plan\n%s", reset, raw)
		}
		got, err := s.Recent(ctx, k, n)
		if err != nil || len(got) != n {
			t.Fatalf("Recent: got %d records, %v; want %d", len(got), err, n)
		}
		if got[0].ID >= got[n-1].ID {
			t.Errorf("Recent is not oldest first: ids %d..%d", got[0].ID, got[n-1].ID)
		}
	}
}

// TestDeleteUserRemovesEmptiedChats checks what the History contract cannot
// see: the user row, reset markers and chats left without messages go too.
func TestDeleteUserRemovesEmptiedChats(t *testing.T) {
	s := openTest(t, pgtest.NewSchema(t))
	ctx := context.Background()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	alone := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "42", UserID: "42"}
	shared := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-7", UserID: "42"}
	friend := brain.ConvKey{Platform: brain.PlatformTelegram, ChatID: "-7", UserID: "43"}
	for _, k := range []brain.ConvKey{alone, shared, friend, alone} {
		if err := s.Append(ctx, &brain.Record{Key: k, Role: brain.RoleUser, Text: "selam", Time: at}); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	for _, k := range []brain.ConvKey{alone, shared} {
		if err := s.Reset(ctx, k); err != nil {
			t.Fatalf("Reset: %v", err)
		}
	}
	n, err := s.DeleteUser(ctx, brain.PlatformTelegram, "42")
	if err != nil || n != 3 {
		t.Fatalf("DeleteUser: got %d, %v; want 3, nil", n, err)
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"SELECT count(*) FROM users WHERE platform_user_id = '42'", 0},
		{"SELECT count(*) FROM users WHERE platform_user_id = '43'", 1},
		{"SELECT count(*) FROM conversation_resets", 0},
		{"SELECT count(*) FROM chats WHERE platform_chat_id = '42'", 0},
		{"SELECT count(*) FROM chats WHERE platform_chat_id = '-7'", 1},
		{"SELECT count(*) FROM messages", 1},
	} {
		var got int
		if err := s.pool.QueryRow(ctx, c.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if got != c.want {
			t.Errorf("%s: got %d, want %d", c.query, got, c.want)
		}
	}
}
