package telegramtest

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/go-telegram/bot/models"
)

// Reactions, with Telegram's delivery rules: a message_reaction update is
// sent only to a bot whose allowed_updates (the last getUpdates or
// setWebhook that named it; by default none) lists "message_reaction",
// and in groups only when the bot is an administrator there (MakeAdmin).
// A reaction the bot may not see is never sent: getUpdates drops it from
// the queue, Deliver refuses it.

// React queues the update of user from setting their reactions on the
// message id of chatID to emoji (none: the reactions were removed), and
// returns its update id. old are the reactions it replaces.
func (s *Server) React(chatID int64, id int, from models.User, old []string, emoji ...string) int64 {
	return s.Queue(s.Reaction(chatID, id, from, old, emoji...))
}

// Reaction returns the update React queues, for webhook delivery.
func (s *Server) Reaction(chatID int64, id int, from models.User, old []string, emoji ...string) models.Update {
	s.mu.Lock()
	chat, ok := s.chats[chatID]
	s.mu.Unlock()
	if !ok {
		chat = models.Chat{ID: chatID, Type: models.ChatTypePrivate}
		if chatID < 0 {
			chat.Type = models.ChatTypeSupergroup
		}
	}
	return models.Update{MessageReaction: &models.MessageReactionUpdated{
		Chat: chat, MessageID: id, User: &from, Date: int(time.Now().Unix()),
		OldReaction: reactionTypes(old), NewReaction: reactionTypes(emoji),
	}}
}

func reactionTypes(emoji []string) []models.ReactionType {
	out := []models.ReactionType{}
	for _, e := range emoji {
		out = append(out, models.ReactionType{Type: models.ReactionTypeTypeEmoji,
			ReactionTypeEmoji: &models.ReactionTypeEmoji{Type: models.ReactionTypeTypeEmoji, Emoji: e}})
	}
	return out
}

// MakeAdmin makes the bot an administrator of the group chatID: it then
// sees reactions there.
func (s *Server) MakeAdmin(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.botAdmin == nil {
		s.botAdmin = map[int64]bool{}
	}
	s.botAdmin[chatID] = true
}

// AllowedUpdates returns the allowed_updates setting in force (nil: the
// default, which has no message_reaction).
func (s *Server) AllowedUpdates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.allowed...)
}

// setAllowedLocked keeps the allowed_updates a request names; a request
// without one keeps the setting, as on Telegram.
func (s *Server) setAllowedLocked(p map[string]string) {
	raw, ok := p["allowed_updates"]
	if !ok {
		return
	}
	var list []string
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return
	}
	s.allowed = list
}

// wantedLocked tells whether the bot may receive u.
func (s *Server) wantedLocked(u models.Update) bool {
	r := u.MessageReaction
	if r == nil {
		return true
	}
	if !slices.Contains(s.allowed, models.AllowedUpdateMessageReaction) {
		return false
	}
	group := r.Chat.Type == models.ChatTypeGroup || r.Chat.Type == models.ChatTypeSupergroup || r.Chat.ID < 0
	return !group || s.botAdmin[r.Chat.ID]
}

// dropUnwantedLocked removes the queued updates the bot may not receive.
func (s *Server) dropUnwantedLocked() {
	kept := s.updates[:0]
	for _, u := range s.updates {
		if s.wantedLocked(u) {
			kept = append(kept, u)
		}
	}
	s.updates = kept
}

func kindOf(u models.Update) string {
	if u.MessageReaction != nil {
		return models.AllowedUpdateMessageReaction
	}
	return "these"
}
