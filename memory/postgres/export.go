package postgres

import (
	"context"
	"fmt"

	"github.com/evo-tr/evo/brain"
	"github.com/jackc/pgx/v5"
)

var _ brain.UserExporter = (*Store)(nil)

// userMessagesSQL is every message of one user, in every chat, oldest
// first; it reads the user's rows of messages_pkey (user_ref, chat_ref, id).
const userMessagesSQL = `
SELECT ` + recordColumns + `
FROM users u
JOIN messages m ON m.user_ref = u.id
JOIN chats c ON c.id = m.chat_ref
WHERE u.platform = $1 AND u.platform_user_id = $2
ORDER BY m.id`

// UserMessages returns every message of the user's conversations on the
// platform (theirs and the replies to them), oldest first (/export).
func (s *Store) UserMessages(ctx context.Context, p brain.Platform, userID string) ([]brain.Record, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return nil, fmt.Errorf("export messages: %w", err)
	}
	var recs []brain.Record
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, userMessagesSQL, p, userID)
		if err != nil {
			return err
		}
		recs, err = pgx.CollectRows(rows, scanRecord)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("export messages of %s/%s: %w", p, userID, err)
	}
	return recs, nil
}
