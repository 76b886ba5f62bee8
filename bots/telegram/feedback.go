package telegram

import (
	"context"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/evo-tr/evo/brain"
)

// Feedback: a reaction (👍, 👎, …) on a message that showed an answer
// becomes brain.Feedback. Telegram sends message_reaction updates only to
// a bot that asks for them in allowed_updates (getUpdates and setWebhook
// both send allowedUpdates), and in groups only to a bot that is an
// administrator there. Removing a reaction says nothing and is ignored.

// feedbacks is what the adapter needs from a handler that keeps feedback;
// the brain is one. A handler without it gets no reports.
type feedbacks interface {
	Delivered(ctx context.Context, d brain.Delivery) error
	Feedback(ctx context.Context, f brain.Feedback) error
}

// delivered reports the messages that showed an answer, so that reactions
// on them find it.
func (b *Bot) delivered(ctx context.Context, to target, ref string, shown []shownPart) {
	fb, ok := b.h.(feedbacks)
	if !ok || ref == "" || len(shown) == 0 {
		return
	}
	ids := make([]string, len(shown))
	for i, p := range shown {
		ids[i] = strconv.Itoa(p.id)
	}
	chat := strconv.FormatInt(to.chatID, 10)
	d := brain.Delivery{Platform: brain.PlatformTelegram, ChatID: chat, MessageChatID: chat, ReplyRef: ref, MessageIDs: ids}
	if to.threadID != 0 {
		d.ChatID += ":" + strconv.Itoa(to.threadID)
	}
	if err := fb.Delivered(ctx, d); err != nil {
		b.log.Warn("telegram: reactions on this answer will not be found", "chat", to.chatID, "err", err)
	}
}

// onReaction turns a user's new reaction into feedback on the answer the
// message showed.
func (b *Bot) onReaction(ctx context.Context, r *models.MessageReactionUpdated) {
	fb, ok := b.h.(feedbacks)
	if !ok || r.User == nil || r.User.IsBot {
		return // anonymous reactions (actor_chat) name no user
	}
	value := reactionValue(r.NewReaction)
	if value == 0 {
		b.log.Debug("telegram reaction ignored", "chat", r.Chat.ID)
		return
	}
	f := brain.Feedback{Platform: brain.PlatformTelegram, ChatID: strconv.FormatInt(r.Chat.ID, 10),
		UserID: strconv.FormatInt(r.User.ID, 10), Admin: b.admins[r.User.ID],
		BotMessageID: strconv.Itoa(r.MessageID), Value: value, Source: brain.SourceReaction}
	if err := fb.Feedback(ctx, f); err != nil {
		b.log.Warn("telegram: reaction not stored", "chat", r.Chat.ID, "err", err)
	}
}

// reactionValue is what a set of reactions says: bad when any says bad,
// else good when any says good, else nothing.
func reactionValue(rs []models.ReactionType) int {
	value := 0
	for _, rt := range rs {
		if rt.ReactionTypeEmoji == nil {
			continue
		}
		switch brain.ReactionValue(strings.TrimSpace(rt.ReactionTypeEmoji.Emoji)) {
		case brain.FeedbackBad:
			return brain.FeedbackBad
		case brain.FeedbackGood:
			value = brain.FeedbackGood
		}
	}
	return value
}
