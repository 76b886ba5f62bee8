package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

var _ brain.FeedbackStore = (*Store)(nil)

// deliveredSQL maps one platform message to the answer it showed.
const deliveredSQL = `
INSERT INTO bot_messages (platform, platform_chat_id, platform_message_id, chat_id, reply_ref, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (platform, platform_chat_id, platform_message_id) DO UPDATE
SET chat_id = excluded.chat_id, reply_ref = excluded.reply_ref, created_at = excluded.created_at`

const shownInSQL = `
SELECT chat_id, reply_ref FROM bot_messages
WHERE platform = $1 AND platform_chat_id = $2 AND platform_message_id = $3`

// rateSQL keeps one rating per user and answer: the latest.
const rateSQL = `
INSERT INTO feedback (platform, platform_chat_id, reply_ref, platform_user_id, value, source, at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (platform, platform_chat_id, reply_ref, platform_user_id) DO UPDATE
SET value = excluded.value, source = excluded.source, at = excluded.at`

// feedbackOfSQL is, per answer rated in the span, the worst rating: one
// user's bad outweighs others' good.
const feedbackOfSQL = `
SELECT platform, platform_chat_id, reply_ref, min(value)
FROM feedback WHERE at >= $1 AND at < $2
GROUP BY platform, platform_chat_id, reply_ref`

// Delivered implements brain.FeedbackStore: the messages' rows in one
// batch.
func (s *Store) Delivered(ctx context.Context, d brain.Delivery) error {
	chat := d.MessageChatID
	if chat == "" {
		chat = d.ChatID
	}
	err := s.run(ctx, true, func(ctx context.Context) error {
		// Bookkeeping for reactions, written after the answer was sent:
		// an asynchronous commit (see appendRow) keeps a disk flush off
		// every answer.
		var b pgx.Batch
		b.Queue(asyncCommitSQL)
		for _, id := range d.MessageIDs {
			b.Queue(deliveredSQL, string(d.Platform), chat, id, d.ChatID, d.ReplyRef, d.Time)
		}
		return s.pool.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("record delivered answer: %w", err)
	}
	return nil
}

// ShownIn implements brain.FeedbackStore.
func (s *Store) ShownIn(ctx context.Context, p brain.Platform, messageChatID, messageID string) (brain.Shown, bool, error) {
	var sh brain.Shown
	found := true
	err := s.run(ctx, true, func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, shownInSQL, string(p), messageChatID, messageID).Scan(&sh.ChatID, &sh.ReplyRef)
		if errors.Is(err, pgx.ErrNoRows) {
			found = false
			return nil
		}
		return err
	})
	if err != nil {
		return brain.Shown{}, false, fmt.Errorf("find the answer a message showed: %w", err)
	}
	return sh, found, nil
}

// Rate implements brain.FeedbackStore.
func (s *Store) Rate(ctx context.Context, r brain.Rating) error {
	err := s.run(ctx, true, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, rateSQL, string(r.Platform), r.ChatID, r.ReplyRef, r.UserID, r.Value, r.Source, r.Time)
		return err
	})
	if err != nil {
		return fmt.Errorf("store feedback: %w", err)
	}
	return nil
}

// FeedbackOf implements brain.FeedbackStore.
func (s *Store) FeedbackOf(ctx context.Context, from, to time.Time) (map[string]int, error) {
	var out map[string]int
	err := s.run(ctx, true, func(ctx context.Context) error {
		out = map[string]int{}
		rows, err := s.pool.Query(ctx, feedbackOfSQL, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p, chat, ref string
			var v int
			if err := rows.Scan(&p, &chat, &ref, &v); err != nil {
				return err
			}
			out[brain.FeedbackKey(brain.Platform(p), chat, ref)] = v
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read feedback: %w", err)
	}
	return out, nil
}
