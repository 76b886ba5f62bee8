package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/evo-tr/evo/memory/postgres/pgtest"
)

// TestAsyncCommitIsScopedToItsBatch: the batch that stores a reply runs
// with synchronous_commit off, and the setting ends with it (the
// connection goes back to the pool synchronous).
func TestAsyncCommitIsScopedToItsBatch(t *testing.T) {
	s := openTest(t, pgtest.NewSchema(t)+"&pool_max_conns=1")
	ctx := context.Background()
	setting := func(t *testing.T) string {
		t.Helper()
		var v string
		if err := s.pool.QueryRow(ctx, "SHOW synchronous_commit").Scan(&v); err != nil {
			t.Fatalf("SHOW synchronous_commit: %v", err)
		}
		return v
	}
	if got := setting(t); got != "on" {
		t.Fatalf("synchronous_commit before = %q, want on (the tests assume the default)", got)
	}
	var inside string
	row := &batchRow{br: s.pool.SendBatch(ctx, asyncCommit("SELECT current_setting('synchronous_commit')"))}
	if err := row.Scan(&inside); err != nil {
		t.Fatalf("batch: %v", err)
	}
	if inside != "off" {
		t.Errorf("inside the batch synchronous_commit = %q, want off", inside)
	}
	if got := setting(t); got != "on" {
		t.Errorf("after the batch synchronous_commit = %q, want on", got)
	}
}

// TestRepliesStoreLikeMessages: a reply goes through the batch path and is
// stored, idempotent by ref, like any message; the connection stays
// synchronous for the next user message.
func TestRepliesStoreLikeMessages(t *testing.T) {
	s := openTest(t, pgtest.NewSchema(t)+"&pool_max_conns=1")
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	k := brain.ConvKey{Platform: brain.PlatformDiscord, ChatID: "c1", UserID: "u1"}
	user := &brain.Record{Key: k, ChatKind: brain.ChatGroup, Role: brain.RoleUser, Text: "selam", Time: at, Ref: "m1"}
	if err := s.Append(ctx, user); err != nil {
		t.Fatalf("Append user: %v", err)
	}
	reply := &brain.Record{Key: k, ChatKind: brain.ChatGroup, Role: brain.RoleAssistant, Text: "merhaba", Time: at.Add(time.Second),
		Ref: "a:m1", ReplyTo: "m1"}
	if err := s.Append(ctx, reply); err != nil {
		t.Fatalf("Append reply: %v", err)
	}
	if reply.ID == 0 {
		t.Errorf("reply.ID = 0, want the stored row's id")
	}
	again := *reply
	again.ID = 0
	if err := s.Append(ctx, &again); !errors.Is(err, brain.ErrDuplicate) || again.ID != reply.ID {
		t.Errorf("Append reply again: got id %d, %v; want id %d, ErrDuplicate", again.ID, err, reply.ID)
	}
	recs, err := s.Recent(ctx, k, 10)
	if err != nil {
		t.Fatalf("Recent: %v", err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Role)+":"+r.Text)
	}
	if want := []string{"user:selam", "assistant:merhaba"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Recent = %q, want %q", got, want)
	}
	var v string
	if err := s.pool.QueryRow(ctx, "SHOW synchronous_commit").Scan(&v); err != nil || v != "on" {
		t.Errorf("synchronous_commit after a reply = %q, %v; want on", v, err)
	}
}
