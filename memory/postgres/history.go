package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

// appendSQL upserts the user and the chat and inserts the message in one
// statement, so storing a message costs one round trip. The identity keeps
// the latest non-empty display name, username and chat kind. The chat's upsert reads
// u, so every Append locks the user row before the chat row: concurrent
// Appends cannot deadlock.
const appendSQL = `
WITH u AS (
	INSERT INTO users AS x (platform, platform_user_id, display_name, username, seen_at)
	VALUES ($1, $2, $3, $24, $4)
	ON CONFLICT (platform, platform_user_id) DO UPDATE
	SET display_name = CASE WHEN excluded.display_name = '' THEN x.display_name ELSE excluded.display_name END,
	    username = CASE WHEN excluded.username = '' THEN x.username ELSE excluded.username END,
	    seen_at = greatest(x.seen_at, excluded.seen_at)
	RETURNING x.id
), c AS (
	INSERT INTO chats AS y (platform, platform_chat_id, kind)
	SELECT $1, $5, $6 FROM u
	ON CONFLICT (platform, platform_chat_id) DO UPDATE
	SET kind = CASE WHEN excluded.kind = '' THEN y.kind ELSE excluded.kind END
	RETURNING y.id
)
INSERT INTO messages (user_ref, chat_ref, role, text, platform_message_id,
	expert, model, confidence, runner_up, runner_up_confidence, fallback, forced, candidate,
	prompt_tokens, reply_tokens, latency_ms, failed, created_at, ref, reply_to)
SELECT u.id, c.id, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $4, $22, $23
FROM u, c
ON CONFLICT (chat_ref, ref) WHERE ref <> '' DO NOTHING
RETURNING id`

// storedRefSQL finds the message a duplicate Append names.
const storedRefSQL = `
SELECT m.id FROM messages m JOIN chats c ON c.id = m.chat_ref
WHERE c.platform = $1 AND c.platform_chat_id = $2 AND m.ref = $3`

// unansweredSQL is every user message since $1 that no assistant message
// answers, oldest first. The reply is looked up in messages_reply_to_idx.
const unansweredSQL = `
SELECT ` + recordColumns + `
FROM messages m
JOIN users u ON u.id = m.user_ref
JOIN chats c ON c.id = m.chat_ref
WHERE m.created_at >= $1 AND m.role = 'user' AND m.ref <> ''
AND NOT EXISTS (SELECT 1 FROM messages a WHERE a.chat_ref = m.chat_ref AND a.reply_to = m.ref)
ORDER BY m.id`

// recentSQL is the context window: the last $4 messages of one user in one
// chat after its last reset, newest first, read backwards from the end of
// the conversation in messages_pkey (user_ref, chat_ref, id), so that it
// never reads more than $4 rows of messages.
const recentSQL = `
SELECT ` + recordColumns + `
FROM users u
JOIN chats c ON c.platform = u.platform AND c.platform_chat_id = $3
LEFT JOIN conversation_resets r ON r.user_ref = u.id AND r.chat_ref = c.id
JOIN LATERAL (
	SELECT * FROM messages m
	WHERE m.user_ref = u.id AND m.chat_ref = c.id AND m.id > coalesce(r.after_id, 0)
	ORDER BY m.id DESC
	LIMIT $4
) m ON true
WHERE u.platform = $1 AND u.platform_user_id = $2
ORDER BY m.id DESC`

// resetSQL moves the conversation's marker to its newest message. A
// conversation the database has never seen has nothing to hide.
const resetSQL = `
INSERT INTO conversation_resets (user_ref, chat_ref, after_id)
SELECT u.id, c.id, coalesce((
	SELECT m.id FROM messages m WHERE m.user_ref = u.id AND m.chat_ref = c.id ORDER BY m.id DESC LIMIT 1), 0)
FROM users u JOIN chats c ON c.platform = u.platform AND c.platform_chat_id = $3
WHERE u.platform = $1 AND u.platform_user_id = $2
ON CONFLICT (user_ref, chat_ref) DO UPDATE SET after_id = excluded.after_id, reset_at = now()`

// deleteUserSQL deletes, in one statement, the user's messages (counting
// them), the identity (its reset markers follow by cascade), the ratings
// the user gave, the night's progress marks, the platform ids of the messages that showed the user's
// answers, and the chats the user was in that hold no other user's
// message. Every part sees the
// database as it was before the statement, hence "other user" rather than
// "remaining" messages.
const deleteUserSQL = `
WITH u AS (
	SELECT id FROM users WHERE platform = $1 AND platform_user_id = $2
), gone AS (
	DELETE FROM messages m USING u WHERE m.user_ref = u.id RETURNING m.chat_ref, m.ref
), identity AS (
	DELETE FROM users x USING u WHERE x.id = u.id
), ratings AS (
	DELETE FROM feedback f WHERE f.platform = $1 AND f.platform_user_id = $2
), progress AS (
	DELETE FROM night_progress p WHERE p.platform = $1 AND p.platform_user_id = $2
), shown AS (
	DELETE FROM bot_messages b USING gone g, chats c
	WHERE c.id = g.chat_ref AND b.platform = $1 AND b.chat_id = c.platform_chat_id AND b.reply_ref = g.ref
), emptied AS (
	DELETE FROM chats c
	WHERE c.id IN (SELECT chat_ref FROM gone)
	AND NOT EXISTS (SELECT 1 FROM messages m, u WHERE m.chat_ref = c.id AND m.user_ref <> u.id)
)
SELECT count(*) FROM gone`

// betweenSQL is every message with $1 <= created_at < $2, oldest first.
const betweenSQL = `
SELECT ` + recordColumns + `
FROM messages m
JOIN users u ON u.id = m.user_ref
JOIN chats c ON c.id = m.chat_ref
WHERE m.created_at >= $1 AND m.created_at < $2
ORDER BY m.created_at, m.id`

// Append stores r and sets r.ID. The user and the chat are created or
// updated with it: the identity keeps the latest non-empty display name,
// username (Handle) and chat kind. Latency is kept to the millisecond, Time to the microsecond.
func (s *Store) Append(ctx context.Context, r *brain.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	args := []any{r.Key.Platform, r.Key.UserID, r.UserName, r.Time, r.Key.ChatID, r.ChatKind,
		r.Role, r.Text, r.PlatformMessageID}
	args = append(args, decisionArgs(r.Decision)...)
	args = append(args, r.PromptTokens, r.ReplyTokens, r.Latency.Round(time.Millisecond).Milliseconds(), r.Failed,
		r.Ref, r.ReplyTo, r.Handle)
	var id int64
	dup := false
	// A record with a ref is idempotent: running it twice stores it once.
	err := s.run(ctx, r.Ref != "", func(ctx context.Context) error {
		err := s.appendRow(ctx, r.Role, args).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			dup = true
			err = s.pool.QueryRow(ctx, storedRefSQL, r.Key.Platform, r.Key.ChatID, r.Ref).Scan(&id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store message of %s: %w", r.Key, err)
	}
	r.ID = id
	if dup {
		return fmt.Errorf("store message of %s: %w", r.Key, brain.ErrDuplicate)
	}
	return nil
}

// asyncCommitSQL makes the rest of the transaction commit without waiting
// for the WAL to reach the disk (the row is as visible and as safe from a
// crash of Postgres itself; an operating-system crash or power cut in the
// next ~0.2 s may lose it).
const asyncCommitSQL = `SELECT set_config('synchronous_commit', 'off', true)`

// appendRow runs appendSQL. A user's message commits synchronously: evo
// says it is stored only once it is on disk. The bot's reply commits
// asynchronously, saving a disk flush (an fsync, ~0.1–5 ms by disk) on
// every answer's way to the user: a reply lost to a power cut leaves its
// message unanswered, and the next start answers it again (Resume).
func (s *Store) appendRow(ctx context.Context, role brain.Role, args []any) pgx.Row {
	if role != brain.RoleAssistant {
		return s.pool.QueryRow(ctx, appendSQL, args...)
	}
	// One batch is one implicit transaction: the setting (is_local) ends
	// with it, and it costs no extra round trip.
	return &batchRow{br: s.pool.SendBatch(ctx, asyncCommit(appendSQL, args...))}
}

// asyncCommit is a batch that runs sql with an asynchronous commit.
func asyncCommit(sql string, args ...any) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue(asyncCommitSQL)
	b.Queue(sql, args...)
	return b
}

// batchRow is the row of a batch's last query, read after the others.
type batchRow struct{ br pgx.BatchResults }

func (r *batchRow) Scan(dest ...any) error {
	if _, err := r.br.Exec(); err != nil {
		_ = r.br.Close()
		return err
	}
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// Unanswered returns the user messages since since that no assistant
// message answers (by ReplyTo), oldest first.
func (s *Store) Unanswered(ctx context.Context, since time.Time) ([]brain.Record, error) {
	var recs []brain.Record
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, unansweredSQL, since)
		if err != nil {
			return err
		}
		recs, err = pgx.CollectRows(rows, scanRecord)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read unanswered messages: %w", err)
	}
	return recs, nil
}

// Recent returns the last n messages of the conversation after its last
// reset, oldest first. n <= 0 returns none.
func (s *Store) Recent(ctx context.Context, k brain.ConvKey, n int) ([]brain.Record, error) {
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("load context: %w", err)
	}
	if n <= 0 {
		return nil, nil
	}
	var recs []brain.Record
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, recentSQL, k.Platform, k.UserID, k.ChatID, n)
		if err != nil {
			return err
		}
		recs, err = pgx.CollectRows(rows, scanRecord)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load context of %s: %w", k, err)
	}
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs, nil
}

// Reset starts a fresh context window for the conversation; its messages
// stay stored.
func (s *Store) Reset(ctx context.Context, k brain.ConvKey) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("reset context: %w", err)
	}
	err := s.run(ctx, true, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, resetSQL, k.Platform, k.UserID, k.ChatID)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset context of %s: %w", k, err)
	}
	return nil
}

// DeleteUser deletes every message of the user on the platform, the
// identity, its reset markers and the chats left without messages, and
// reports how many messages were deleted.
func (s *Store) DeleteUser(ctx context.Context, p brain.Platform, userID string) (int64, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return 0, fmt.Errorf("delete user: %w", err)
	}
	var n int64
	err := s.run(ctx, true, func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, deleteUserSQL, p, userID).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("delete user %s/%s: %w", p, userID, err)
	}
	return n, nil
}

// Between returns every message with from <= Time < to, oldest first.
func (s *Store) Between(ctx context.Context, from, to time.Time) ([]brain.Record, error) {
	if !from.Before(to) {
		return nil, nil
	}
	var recs []brain.Record
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, betweenSQL, from, to)
		if err != nil {
			return err
		}
		recs, err = pgx.CollectRows(rows, scanRecord)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read messages from %s to %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return recs, nil
}
