package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"
	"github.com/evo-tr/evo/brain"
)

// Feedback: a reaction (👍, 👎, …) on a message that showed an answer
// becomes brain.Feedback (MESSAGE_REACTION_ADD, with the reaction
// intents). Removing a reaction says nothing and is ignored.

// feedbacks is what the adapter needs from a handler that keeps feedback;
// the brain is one. A handler without it gets no reports.
type feedbacks interface {
	Delivered(ctx context.Context, d brain.Delivery) error
	Feedback(ctx context.Context, f brain.Feedback) error
}

// delivered reports the messages that showed an answer in channelID.
func (b *Bot) delivered(ctx context.Context, channelID, ref string, ids []string) {
	fb, ok := b.h.(feedbacks)
	if !ok || ref == "" || len(ids) == 0 {
		return
	}
	d := brain.Delivery{Platform: brain.PlatformDiscord, ChatID: channelID, MessageChatID: channelID, ReplyRef: ref, MessageIDs: ids}
	if err := fb.Delivered(ctx, d); err != nil {
		b.log.Warn("discord: reactions on this answer will not be found", "chat_id", channelID, "err", err)
	}
}

func (b *Bot) onReactionAdd(_ *discordgo.Session, e *discordgo.MessageReactionAdd) {
	if e.MessageReaction == nil || e.UserID == "" {
		return
	}
	r := *e.MessageReaction
	b.enqueue(func(ctx context.Context) { b.handleReaction(ctx, r) })
}

// handleReaction turns a user's reaction into feedback on the answer the
// message showed.
func (b *Bot) handleReaction(ctx context.Context, r discordgo.MessageReaction) {
	fb, ok := b.h.(feedbacks)
	if !ok || r.UserID == b.selfID() {
		return
	}
	value := brain.ReactionValue(r.Emoji.Name)
	if value == 0 || r.Emoji.ID != "" { // custom emoji say nothing we know
		b.log.Debug("discord: reaction ignored", "chat_id", r.ChannelID)
		return
	}
	f := brain.Feedback{Platform: brain.PlatformDiscord, ChatID: r.ChannelID, UserID: r.UserID, Admin: b.admins[r.UserID],
		BotMessageID: r.MessageID, Value: value, Source: brain.SourceReaction}
	if err := fb.Feedback(ctx, f); err != nil {
		b.log.Warn("discord: reaction not stored", "chat_id", r.ChannelID, "err", err)
	}
}
