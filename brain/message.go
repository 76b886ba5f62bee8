package brain

import (
	"strings"
	"time"
)

// Platform names where a message came from.
type Platform string

// Platforms EVO-TR speaks.
const (
	PlatformTelegram Platform = "telegram"
	PlatformDiscord  Platform = "discord"
	PlatformCLI      Platform = "cli"
)

// ChatKind is the shape of the conversation a message belongs to.
type ChatKind string

// Chat kinds.
const (
	ChatPrivate ChatKind = "private"
	ChatGroup   ChatKind = "group"
	ChatChannel ChatKind = "channel"
	ChatThread  ChatKind = "thread"
)

// Role is who wrote a stored message.
type Role string

// Roles, as Ollama's chat API names them.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one incoming message, normalized by an adapter. The brain never
// sees a platform type.
type Message struct {
	Platform Platform
	ChatID   string
	ChatKind ChatKind
	UserID   string
	// UserName is the display name the platform shows for the user.
	UserName string
	// Handle is the user's platform username, without "@" ("" when the
	// user has none): what /wipe @name finds them by.
	Handle string
	// Text is the message text with mentions of the bot removed.
	Text string
	// PlatformMessageID identifies the message on its platform (for replies).
	PlatformMessageID string
	// Mentioned is true when the bot was @mentioned or replied to.
	Mentioned bool
	// Admin is set by the adapter from the platform's *_ADMIN_IDS.
	Admin bool
	Time  time.Time
	// Ref identifies the stored user message (Record.Ref). Adapters leave
	// it empty; the brain sets it when it stores the message, and a resumed
	// message (Resumed) carries the stored one.
	Ref string
	// Resumed marks a message that is stored already and was never
	// answered (a crash, a shutdown): the brain answers it without storing
	// it again. Brain.Resume sets it.
	Resumed bool
}

// Key returns the conversation the message belongs to.
func (m Message) Key() ConvKey {
	return ConvKey{Platform: m.Platform, ChatID: m.ChatID, UserID: m.UserID}
}

// ConvKey identifies one user's conversation in one chat: the unit of
// context windows and of in-order processing.
type ConvKey struct {
	Platform Platform
	ChatID   string
	UserID   string
}

// String renders the key for logs and lock names.
func (k ConvKey) String() string {
	return strings.Join([]string{string(k.Platform), k.ChatID, k.UserID}, "/")
}

// Record is one stored message: the user's, or the assistant's reply with
// the routing decision and the model's figures.
type Record struct {
	ID       int64
	Key      ConvKey
	ChatKind ChatKind
	UserName string
	// Handle is the user's platform username, without "@"; the identity
	// keeps the latest non-empty one, as it does UserName.
	Handle string
	Role   Role
	Text   string
	// PlatformMessageID is the platform's id of the user's message, if any.
	PlatformMessageID string
	// Decision is set on assistant messages.
	Decision *Decision
	// PromptTokens and ReplyTokens are Ollama's prompt_eval_count and eval_count.
	PromptTokens int
	ReplyTokens  int
	// Latency is the time from receiving the user's message to the full reply.
	Latency time.Duration
	// Failed marks an assistant message that reports an error to the user;
	// it is kept out of the model's context.
	Failed bool
	Time   time.Time
	// Ref makes the record unique within its chat, so that storing it twice
	// (a spool replayed after a crash, a redelivered platform update) keeps
	// one row: "m:<platform message id>" for a user message the platform
	// identifies, "r:<random>" for one it does not, "a:<user ref>" for the
	// reply to a user message. Empty refs are never deduplicated.
	Ref string
	// ReplyTo is, on an assistant record, the Ref of the user message it
	// answers; a user message with no such reply is unanswered.
	ReplyTo string
}
