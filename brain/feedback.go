package brain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Feedback is what users think of answers: a reaction on a message that
// showed an answer (Telegram, Discord), or /iyi and /kotu right after it.
// The night leaves answers marked bad out of the training files and marks
// the good ones.

// Feedback values.
const (
	FeedbackGood = 1
	FeedbackBad  = -1
)

// Feedback sources.
const (
	SourceReaction = "reaction"
	SourceCommand  = "command"
)

// Delivery says which platform messages showed an answer. An adapter
// reports it once the answer is delivered (Reply.Ref names the answer).
type Delivery struct {
	Platform Platform
	// ChatID is the conversation's chat (Message.ChatID).
	ChatID string
	// MessageChatID is the platform chat the messages are in, when it is
	// not ChatID (a Telegram forum topic: ChatID "<chat>:<topic>",
	// MessageChatID "<chat>"); "" means ChatID.
	MessageChatID string
	// ReplyRef is the answer's Ref (Reply.Ref, "a:<user message ref>").
	ReplyRef string
	// MessageIDs are the platform's ids of the messages that showed it.
	MessageIDs []string
	// Time is set by the brain.
	Time time.Time
}

// Feedback is a user's reaction to a message of the bot.
type Feedback struct {
	Platform Platform
	// ChatID is the platform chat the reacted message is in (a Delivery's
	// MessageChatID, or its ChatID).
	ChatID string
	UserID string
	// Admin is set by the adapter from the platform's *_ADMIN_IDS.
	Admin        bool
	BotMessageID string
	// Value is FeedbackGood or FeedbackBad; 0 is ignored (ReactionValue).
	Value  int
	Source string
}

// Rating is one user's feedback on one answer, as stored.
type Rating struct {
	Platform Platform
	// ChatID is the conversation's chat.
	ChatID   string
	ReplyRef string
	UserID   string
	Value    int
	Source   string
	Time     time.Time
}

// Shown is the answer a platform message showed.
type Shown struct {
	ChatID   string // the conversation's chat
	ReplyRef string
}

// FeedbackStore keeps which messages showed which answer and what users
// think of answers.
type FeedbackStore interface {
	// Delivered records that d's messages showed d's answer; recording one
	// again replaces it.
	Delivered(ctx context.Context, d Delivery) error
	// ShownIn finds the answer the platform message showed; false when no
	// delivery names it.
	ShownIn(ctx context.Context, p Platform, messageChatID, messageID string) (Shown, bool, error)
	// Rate stores r, replacing the user's earlier rating of the answer.
	Rate(ctx context.Context, r Rating) error
	// FeedbackOf returns the feedback given with from <= Time < to, by
	// FeedbackKey of the answer: FeedbackBad when any user found it bad,
	// else FeedbackGood.
	FeedbackOf(ctx context.Context, from, to time.Time) (map[string]int, error)
}

// FeedbackKey names an answer in FeedbackStore.FeedbackOf's map.
func FeedbackKey(p Platform, chatID, replyRef string) string {
	return string(p) + "\x00" + chatID + "\x00" + replyRef
}

// WithFeedback keeps users' feedback on answers (reactions, /iyi, /kotu).
func WithFeedback(s FeedbackStore) Option { return func(b *Brain) { b.feedback = s } }

// reactions are the emoji that say something about an answer.
var reactions = map[string]int{
	"👍": FeedbackGood, "❤": FeedbackGood, "🔥": FeedbackGood, "👏": FeedbackGood, "🎉": FeedbackGood,
	"👎": FeedbackBad, "💩": FeedbackBad, "🤮": FeedbackBad, "😡": FeedbackBad,
}

// ReactionValue is what an emoji reaction says about an answer:
// FeedbackGood, FeedbackBad, or 0 for the others. Skin tones and the
// emoji variation selector are ignored.
func ReactionValue(emoji string) int {
	e := strings.Map(func(r rune) rune {
		if r == '\uFE0F' || r == '\uFE0E' || (r >= 0x1F3FB && r <= 0x1F3FF) {
			return -1
		}
		return r
	}, emoji)
	return reactions[e]
}

// Delivered records which platform messages showed an answer, so that a
// reaction on any of them finds it. Without a FeedbackStore it does
// nothing.
func (b *Brain) Delivered(ctx context.Context, d Delivery) error {
	if b.feedback == nil || d.ReplyRef == "" || len(d.MessageIDs) == 0 {
		return nil
	}
	if d.MessageChatID == "" {
		d.MessageChatID = d.ChatID
	}
	d.Time = b.clock.Now()
	if err := b.feedback.Delivered(ctx, d); err != nil {
		return fmt.Errorf("record delivered answer: %w", err)
	}
	return nil
}

// errNoAnswer: the reacted message showed no answer the brain knows.
var errNoAnswer = errors.New("the message showed no known answer")

// Feedback stores a user's reaction to a message that showed an answer.
// A reaction that says nothing (Value 0), one on a message that showed no
// answer, or one of a user who may not use EVO-TR is ignored (nil).
func (b *Brain) Feedback(ctx context.Context, f Feedback) error {
	if b.feedback == nil || f.Value == 0 {
		return nil
	}
	if f.Value != FeedbackGood && f.Value != FeedbackBad {
		return fmt.Errorf("feedback: value %d", f.Value)
	}
	if !b.mayRate(ctx, f) {
		b.log.Debug("feedback of a user who may not use EVO-TR; ignored", "platform", f.Platform, "user", f.UserID)
		return nil
	}
	shown, ok, err := b.feedback.ShownIn(ctx, f.Platform, f.ChatID, f.BotMessageID)
	if err != nil {
		return fmt.Errorf("feedback: find the answer: %w", err)
	}
	if !ok {
		b.log.Debug("feedback on a message that showed no answer; ignored", "platform", f.Platform, "chat", f.ChatID, "err", errNoAnswer)
		return nil
	}
	if f.Source == "" {
		f.Source = SourceReaction
	}
	return b.rate(ctx, Rating{Platform: f.Platform, ChatID: shown.ChatID, ReplyRef: shown.ReplyRef,
		UserID: f.UserID, Value: f.Value, Source: f.Source})
}

// rate stores r at the clock's time.
func (b *Brain) rate(ctx context.Context, r Rating) error {
	r.Time = b.clock.Now()
	if err := b.feedback.Rate(ctx, r); err != nil {
		return fmt.Errorf("feedback: store: %w", err)
	}
	b.log.Info("feedback", "platform", r.Platform, "chat", r.ChatID, "ref", r.ReplyRef, "value", r.Value, "source", r.Source)
	return nil
}

// mayRate tells whether the user may give feedback: whoever may use
// EVO-TR. A stranger's reaction is not stored, as their messages are not.
func (b *Brain) mayRate(ctx context.Context, f Feedback) bool {
	a := b.access
	if a == nil || a.mode == AccessOpen || f.Admin {
		return true
	}
	u := UserRef{Platform: f.Platform, UserID: f.UserID}
	if a.allowed[u] {
		return true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), accessTimeout)
	defer cancel()
	ok, _ := b.approved(ctx, u, b.clock.Now())
	return ok
}
