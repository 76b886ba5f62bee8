package brain

import (
	"context"
	"errors"
	"sort"
	"time"
)

// History stores every message and serves context windows.
type History interface {
	// Append stores r and sets r.ID.
	Append(ctx context.Context, r *Record) error
	// Recent returns the last n messages of the conversation after its last
	// reset, oldest first. Failed replies are included (callers filter).
	Recent(ctx context.Context, k ConvKey, n int) ([]Record, error)
	// Reset starts a fresh context window for the conversation; stored
	// messages are kept.
	Reset(ctx context.Context, k ConvKey) error
	// DeleteUser removes every message and identity of a user on a
	// platform and reports how many messages were deleted.
	DeleteUser(ctx context.Context, p Platform, userID string) (int64, error)
	// Between returns every message with from <= Time < to, oldest first.
	Between(ctx context.Context, from, to time.Time) ([]Record, error)
	// Unanswered returns the user messages with Time >= since and a Ref
	// that no assistant record's ReplyTo names, oldest first (by ID).
	Unanswered(ctx context.Context, since time.Time) ([]Record, error)
}

// ErrDuplicate is wrapped by History.Append when a record with the same
// chat and Ref is stored already: nothing was written, and r.ID is set to
// the stored record's ID.
var ErrDuplicate = errors.New("message stored already")

// Spool keeps, durably and in arrival order, the records the database
// cannot take right now, so that an outage, a restart or a kill -9 loses
// none of them. It is safe for concurrent use.
type Spool interface {
	// Put appends r and returns only once r is on disk (fsync).
	Put(ctx context.Context, r Record) error
	// Head returns the oldest record; false when the spool is empty.
	Head(ctx context.Context) (Record, bool, error)
	// Pop removes the oldest record, once it is stored.
	Pop(ctx context.Context) error
	// Len reports how many records wait.
	Len() int
	// Has reports whether a record of the conversation waits.
	Has(k ConvKey) bool
	// RemoveUser deletes every record of the user on the platform and
	// reports how many were deleted (/forget, /wipe).
	RemoveUser(ctx context.Context, p Platform, userID string) (int, error)
}

// ChatMessage is one message of a prompt.
type ChatMessage struct {
	Role    Role
	Content string
}

// ChatRequest asks a model for one reply.
type ChatRequest struct {
	Model    string
	Messages []ChatMessage
	// Options are per-expert generation options; the LLM adds its fixed
	// options (num_ctx, keep_alive) to every request.
	Options map[string]any
}

// ChatStats are the model's figures for one reply.
type ChatStats struct {
	PromptTokens int
	ReplyTokens  int
	LoadDuration time.Duration
	Total        time.Duration
	// DoneReason is "stop", "length" or "load".
	DoneReason string
}

// LLM streams chat replies from a model server.
type LLM interface {
	// Chat streams the reply, calling fn with each new piece of text in
	// order. An error returned by fn aborts the request.
	Chat(ctx context.Context, req ChatRequest, fn func(delta string) error) (ChatStats, error)
}

// Embedder turns texts into vectors.
type Embedder interface {
	Embed(ctx context.Context, model string, texts []string) ([][]float32, error)
}

// Errors an LLM wraps so that the brain can tell the user what happened.
var (
	// ErrModelUnavailable: the model server cannot be reached.
	ErrModelUnavailable = errors.New("model server unavailable")
	// ErrModelNotFound: the server does not have the model.
	ErrModelNotFound = errors.New("model not found")
)

// ErrStoreUnavailable is wrapped by History implementations when the
// database cannot be reached.
var ErrStoreUnavailable = errors.New("store unavailable")

// Router decides which expert answers a text.
type Router interface {
	Route(ctx context.Context, text string) Decision
}

// Memory is one long-term memory of a user: a fact or a summary the night
// job distilled from a day of conversation.
type Memory struct {
	// ID is chosen by the writer and stable, so that writing the same
	// memory twice replaces it instead of adding a copy.
	ID   string
	Text string
	// Tags are short topic words ("python", "aile", "tercih").
	Tags []string
	// Time is when what the memory remembers happened.
	Time time.Time
	// Day is the night's day (YYYY-MM-DD, in its time zone) that distilled
	// the memory; "" for a memory no night wrote.
	Day string
	// Sources are the IDs of the stored messages the memory came from.
	Sources []int64
	// Distance is set by Recall.Top: 0 is identical, larger is farther.
	Distance float64
}

// Recall serves long-term memories of a user.
type Recall interface {
	// Top returns up to k memories of the user nearest to text, nearest
	// first. A user with no memories gets none and no error.
	Top(ctx context.Context, p Platform, userID, text string, k int) ([]Memory, error)
}

// MemoryLister lists what long-term memory keeps of a user (/memory).
type MemoryLister interface {
	// List returns up to limit memories of the user, newest first (ties by
	// ID). A user with no memories gets none and no error.
	List(ctx context.Context, p Platform, userID string, limit int) ([]Memory, error)
}

// Memorizer keeps long-term memories of a user.
type Memorizer interface {
	// Remember stores memories of the user; a memory whose ID the user
	// already has replaces it.
	Remember(ctx context.Context, p Platform, userID string, ms []Memory) error
}

// SortNewestFirst orders memories as MemoryLister.List returns them.
func SortNewestFirst(ms []Memory) {
	sort.Slice(ms, func(i, j int) bool {
		if !ms[i].Time.Equal(ms[j].Time) {
			return ms[i].Time.After(ms[j].Time)
		}
		return ms[i].ID < ms[j].ID
	})
}

// ErrMemoryUnavailable is wrapped by long-term memory implementations when
// their store cannot be reached.
var ErrMemoryUnavailable = errors.New("long-term memory unavailable")

// NightLog records the night job's runs, so that a day is consolidated once
// even with several instances or a restart in the middle of the night.
type NightLog interface {
	// ClaimNight marks day (YYYY-MM-DD) as running and reports true, or
	// reports false when the day is finished already or another run holds
	// it. A run that started before now-stale and never finished has died:
	// its claim is taken over. A failed run can be claimed again.
	ClaimNight(ctx context.Context, day string, now time.Time, stale time.Duration) (bool, error)
	// FinishNight records the end of the claimed run: its report (a short
	// JSON summary) and runErr, nil when it succeeded.
	FinishNight(ctx context.Context, day string, now time.Time, report string, runErr error) error
}

// Clock tells the time; tests and the night job inject a fixed one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Deliverer opens the way back to a chat for a reply the brain starts on
// its own, such as a message resumed after a restart. Adapters implement
// it.
type Deliverer interface {
	// SinkFor returns a sink that delivers the reply to m in m's chat
	// (m.ChatID, m.ChatKind), quoting m.PlatformMessageID where the
	// platform shows replies that way. The sink behaves like the ones the
	// adapter passes to Submit.
	SinkFor(m Message) Sink
}
