package brain

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
)

// UserRef names one user on one platform.
type UserRef struct {
	Platform Platform
	UserID   string
}

// String renders the ref as training lines carry it: "telegram:42".
func (u UserRef) String() string { return string(u.Platform) + ":" + u.UserID }

// TrainingData is the training data the night wrote (TRAINING_DIR): the
// expert examples and the router's review lines, each line owned by the
// user whose conversation it came from.
type TrainingData interface {
	// UserLines returns, as stored (JSON), every line of the user.
	UserLines(ctx context.Context, p Platform, userID string) ([]string, error)
	// ForgetUser deletes every line of the user and reports how many.
	ForgetUser(ctx context.Context, p Platform, userID string) (int, error)
}

// Tombstones remember who was forgotten and when, so that a night that is
// running or comes later learns nothing from what they wrote before.
type Tombstones interface {
	// Bury records that the user was forgotten at at; burying again keeps
	// the later time.
	Bury(ctx context.Context, p Platform, userID string, at time.Time) error
	// Buried returns the users forgotten at or after since, with when.
	Buried(ctx context.Context, since time.Time) (Graves, error)
}

// Graves are tombstones: when each user was forgotten.
type Graves map[UserRef]time.Time

// Hides reports whether r was written before its user was forgotten: a
// record no night may learn from.
func (g Graves) Hides(r Record) bool {
	at, ok := g[UserRef{r.Key.Platform, r.Key.UserID}]
	return ok && r.Time.Before(at)
}

// UserMatch is one user FindUsers found.
type UserMatch struct {
	Platform Platform
	UserID   string
	// Name is the display name, Handle the username without "@".
	Name   string
	Handle string
}

// UserFinder finds users by what an admin calls them (/wipe).
type UserFinder interface {
	// FindUsers returns the users of p that query names, ordered by id:
	// "@name" matches the username, case-insensitively; anything else
	// matches the id exactly or the username or display name
	// case-insensitively. An empty query returns every user of p.
	FindUsers(ctx context.Context, p Platform, query string) ([]UserMatch, error)
}

// eraseParts are the stores /forget and /wipe erase from, besides the
// history, the spool and long-term memory.
type eraseParts struct {
	training TrainingData
	tombs    Tombstones
	users    UserFinder
	codes    confirmCodes
}

// WithTrainingData lets /forget and /wipe delete the user's training lines.
func WithTrainingData(t TrainingData) Option { return func(b *Brain) { b.erasing.training = t } }

// WithTombstones lets /forget and /wipe keep the user out of every night
// that is running or comes later.
func WithTombstones(t Tombstones) Option { return func(b *Brain) { b.erasing.tombs = t } }

// WithUserFinder lets /wipe find users by username and name. Without it
// the history is asked, when it is one.
func WithUserFinder(f UserFinder) Option { return func(b *Brain) { b.erasing.users = f } }

// finder is the UserFinder /wipe asks, nil when there is none.
func (b *Brain) finder() UserFinder {
	if b.erasing.users != nil {
		return b.erasing.users
	}
	f, _ := b.history.(UserFinder)
	return f
}

// erasure is what erasing users did: counts of what was deleted and the
// Turkish names of what could not be.
type erasure struct {
	users     int
	messages  int64
	memories  int // -1: deleted, count unknown
	training  int
	spooled   int
	memoryOff bool
	failed    []string
}

// add sums another user's erasure into e.
func (e *erasure) add(o erasure) {
	e.users += o.users
	e.messages += o.messages
	if e.memories >= 0 && o.memories >= 0 {
		e.memories += o.memories
	} else {
		e.memories = -1
	}
	e.training += o.training
	e.spooled += o.spooled
	e.memoryOff = o.memoryOff
	for _, f := range o.failed {
		e.fail(f)
	}
}

func (e *erasure) fail(what string) {
	for _, f := range e.failed {
		if f == what {
			return
		}
	}
	e.failed = append(e.failed, what)
}

// memoryListMax bounds the memories counted before they are deleted.
const memoryListMax = 100000

// erase deletes everything EVO-TR keeps of u: the tombstone first, so that
// a night running now skips them, then the spooled records and the stored
// messages and identity, long-term memories, training lines and the
// in-memory sessions. Each part is tried even when another fails.
func (b *Brain) erase(ctx context.Context, u UserRef) erasure {
	log := b.log.With("platform", u.Platform, "user", u.UserID)
	e := erasure{users: 1}
	if t := b.erasing.tombs; t != nil {
		if err := t.Bury(ctx, u.Platform, u.UserID, b.clock.Now()); err != nil {
			log.Error("erase: write tombstone", "err", err)
			e.fail(msgPartTombstone)
		}
	}

	// No flush may write a spooled record of u back between the two.
	b.outbox.flushing.Lock()
	n, err := b.spool.RemoveUser(ctx, u.Platform, u.UserID)
	if err != nil {
		log.Error("erase: spooled records", "err", err)
		e.fail(msgPartSpool)
	}
	e.spooled = n
	msgs, err := b.history.DeleteUser(ctx, u.Platform, u.UserID)
	b.outbox.flushing.Unlock()
	if err != nil {
		log.Error("erase: messages", "err", err)
		e.fail(msgPartMessages)
	}
	e.messages = msgs

	switch {
	case b.forget == nil:
		e.memoryOff = true
	default:
		e.memories = -1
		if b.lister != nil {
			if ms, err := b.lister.List(ctx, u.Platform, u.UserID, memoryListMax); err == nil {
				e.memories = len(ms)
			}
		}
		if err := b.forget.ForgetUser(ctx, u.Platform, u.UserID); err != nil {
			log.Error("erase: long-term memory", "err", err)
			e.fail(msgPartMemories)
			e.memories = 0
		}
	}

	if t := b.erasing.training; t != nil {
		n, err := t.ForgetUser(ctx, u.Platform, u.UserID)
		if err != nil {
			log.Error("erase: training data", "err", err)
			e.fail(msgPartTraining)
		}
		e.training = n
	}

	b.mu.Lock()
	for k := range b.sessions {
		if k.Platform == u.Platform && k.UserID == u.UserID {
			delete(b.sessions, k)
		}
	}
	b.mu.Unlock()
	log.Info("erased user", "messages", e.messages, "memories", e.memories, "training_lines", e.training,
		"spooled", e.spooled, "failed", len(e.failed))
	return e
}

// nightNote is note when tombstones keep the erased out of the nights,
// else nothing.
func (b *Brain) nightNote(note string) string {
	if b.erasing.tombs == nil {
		return ""
	}
	return note
}

// done lists what was deleted, in Turkish: "12 mesaj, 3 anı, …".
func (e erasure) done() string {
	var parts []string
	if !e.has(msgPartMessages) {
		parts = append(parts, fmt.Sprintf("%d mesaj", e.messages))
	}
	switch {
	case e.memoryOff, e.has(msgPartMemories):
	case e.memories < 0:
		parts = append(parts, "uzun süreli hafızadaki anılar")
	default:
		parts = append(parts, fmt.Sprintf("%d anı", e.memories))
	}
	if !e.has(msgPartTraining) {
		parts = append(parts, fmt.Sprintf("eğitim verisinde %d satır", e.training))
	}
	if !e.has(msgPartSpool) {
		parts = append(parts, fmt.Sprintf("veritabanını bekleyen %d mesaj", e.spooled))
	}
	if len(parts) == 0 {
		return "hiçbir şey"
	}
	return strings.Join(parts, ", ")
}

func (e erasure) has(part string) bool {
	for _, f := range e.failed {
		if f == part {
			return true
		}
	}
	return false
}

// confirmTTL is how long a confirmation code stays valid.
const confirmTTL = 10 * time.Minute

// confirmCodes are the pending confirmations of /forget and /wipe, in
// memory: a restart forgets them, and the user asks again. The zero value
// is ready to use.
type confirmCodes struct {
	mu      sync.Mutex
	pending map[string]pendingCode
}

type pendingCode struct {
	code    string
	label   string // what the confirmation erases, for the reply
	expires time.Time
}

// issue makes a new code for key, replacing an earlier one.
func (c *confirmCodes) issue(key, label string, now time.Time) (string, error) {
	code, err := newConfirmCode()
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string]pendingCode{}
	}
	for k, p := range c.pending {
		if !now.Before(p.expires) {
			delete(c.pending, k)
		}
	}
	c.pending[key] = pendingCode{code: code, label: label, expires: now.Add(confirmTTL)}
	return code, nil
}

// take consumes key's code: it reports whether code is the one issued and
// still valid, and its label. Any attempt, right or wrong, uses the code
// up.
func (c *confirmCodes) take(key, code string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pending[key]
	delete(c.pending, key)
	if !ok || !now.Before(p.expires) || !strings.EqualFold(strings.TrimSpace(code), p.code) {
		return "", false
	}
	return p.label, true
}

// Codes are three letters and three digits ("KXT-482" without the dash):
// easy to type, and never a word of a name, so that "/wipe Ali VELI" is
// no confirmation.
const (
	codeLetters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	codeDigits  = "0123456789"
)

func newConfirmCode() (string, error) {
	var s strings.Builder
	for i := range 6 {
		set := codeLetters
		if i >= 3 {
			set = codeDigits
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return "", fmt.Errorf("confirmation code: %w", err)
		}
		s.WriteByte(set[n.Int64()])
	}
	return s.String(), nil
}

// looksLikeCode tells a confirmation code from a word of a name.
func looksLikeCode(s string) bool {
	s = strings.ToUpper(s)
	if len(s) != 6 {
		return false
	}
	for i := range 6 {
		set := codeLetters
		if i >= 3 {
			set = codeDigits
		}
		if !strings.ContainsRune(set, rune(s[i])) {
			return false
		}
	}
	return true
}
