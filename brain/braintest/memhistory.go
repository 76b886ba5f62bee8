package braintest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/evo-tr/evo/brain"
)

// MemHistory is a brain.History in memory. It behaves like the PostgreSQL
// store: identities keep the latest non-empty user name and chat kind,
// Time is kept to the microsecond and Latency to the millisecond, and
// records that store would refuse are refused. It is safe for concurrent
// use.
type MemHistory struct {
	mu      sync.Mutex
	nextID  int64
	records []brain.Record // in ID order
	names   map[userKey]string
	handles map[userKey]string
	kinds   map[chatKey]brain.ChatKind
	resets  map[brain.ConvKey]int64 // the conversation's context holds IDs above this
}

type userKey struct {
	platform brain.Platform
	userID   string
}

type chatKey struct {
	platform brain.Platform
	chatID   string
}

var (
	_ brain.History    = (*MemHistory)(nil)
	_ brain.UserFinder = (*MemHistory)(nil)
)

// NewMemHistory returns an empty MemHistory.
func NewMemHistory() *MemHistory {
	return &MemHistory{names: map[userKey]string{}, handles: map[userKey]string{}, kinds: map[chatKey]brain.ChatKind{},
		resets: map[brain.ConvKey]int64{}}
}

// Append stores a copy of r and sets r.ID.
func (h *MemHistory) Append(_ context.Context, r *brain.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Ref != "" {
		for _, old := range h.records {
			if old.Ref == r.Ref && old.Key.Platform == r.Key.Platform && old.Key.ChatID == r.Key.ChatID {
				r.ID = old.ID
				return fmt.Errorf("store message of %s: %w", r.Key, brain.ErrDuplicate)
			}
		}
	}
	h.nextID++
	r.ID = h.nextID
	c := clone(*r)
	c.Time = c.Time.Truncate(time.Microsecond).Round(0)
	c.Latency = c.Latency.Round(time.Millisecond)
	h.records = append(h.records, c)
	if r.UserName != "" {
		h.names[userKey{r.Key.Platform, r.Key.UserID}] = r.UserName
	}
	if r.Handle != "" {
		h.handles[userKey{r.Key.Platform, r.Key.UserID}] = r.Handle
	}
	if r.ChatKind != "" {
		h.kinds[chatKey{r.Key.Platform, r.Key.ChatID}] = r.ChatKind
	}
	return nil
}

// Recent returns the last n messages of the conversation after its last
// reset, oldest first.
func (h *MemHistory) Recent(_ context.Context, k brain.ConvKey, n int) ([]brain.Record, error) {
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("load context: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	after := h.resets[k]
	var out []brain.Record
	for i := len(h.records) - 1; i >= 0 && len(out) < n; i-- {
		r := h.records[i]
		if r.ID <= after {
			break
		}
		if r.Key == k {
			out = append(out, h.view(r))
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// Reset hides the conversation's messages so far from Recent.
func (h *MemHistory) Reset(_ context.Context, k brain.ConvKey) error {
	if err := k.Validate(); err != nil {
		return fmt.Errorf("reset context: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.records) - 1; i >= 0; i-- {
		if h.records[i].Key == k {
			h.resets[k] = h.records[i].ID
			return nil
		}
	}
	return nil
}

// DeleteUser removes every message, the identity and the reset markers of
// the user, and reports how many messages were deleted.
func (h *MemHistory) DeleteUser(_ context.Context, p brain.Platform, userID string) (int64, error) {
	if err := brain.ValidateUser(p, userID); err != nil {
		return 0, fmt.Errorf("delete user: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	kept := h.records[:0]
	var n int64
	for _, r := range h.records {
		if r.Key.Platform == p && r.Key.UserID == userID {
			n++
			continue
		}
		kept = append(kept, r)
	}
	clear(h.records[len(kept):])
	h.records = kept
	delete(h.names, userKey{p, userID})
	delete(h.handles, userKey{p, userID})
	for k := range h.resets {
		if k.Platform == p && k.UserID == userID {
			delete(h.resets, k)
		}
	}
	return n, nil
}

// Between returns every message with from <= Time < to, oldest first.
func (h *MemHistory) Between(_ context.Context, from, to time.Time) ([]brain.Record, error) {
	from, to = from.Truncate(time.Microsecond), to.Truncate(time.Microsecond) // as PostgreSQL
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []brain.Record
	for _, r := range h.records {
		if !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, h.view(r))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// Unanswered returns the user messages since since with a Ref that no
// assistant record's ReplyTo names, oldest first.
func (h *MemHistory) Unanswered(_ context.Context, since time.Time) ([]brain.Record, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	answered := map[chatKey]map[string]bool{}
	for _, r := range h.records {
		if r.ReplyTo == "" {
			continue
		}
		ck := chatKey{r.Key.Platform, r.Key.ChatID}
		if answered[ck] == nil {
			answered[ck] = map[string]bool{}
		}
		answered[ck][r.ReplyTo] = true
	}
	var out []brain.Record
	for _, r := range h.records {
		if r.Role == brain.RoleUser && r.Ref != "" && !r.Time.Before(since) &&
			!answered[chatKey{r.Key.Platform, r.Key.ChatID}][r.Ref] {
			out = append(out, h.view(r))
		}
	}
	return out, nil
}

// FindUsers returns the users of p that query names (brain.UserFinder):
// the users with a stored message.
func (h *MemHistory) FindUsers(_ context.Context, p brain.Platform, query string) ([]brain.UserMatch, error) {
	query = strings.TrimSpace(query)
	handleOnly := strings.HasPrefix(query, "@")
	q := strings.ToLower(strings.TrimPrefix(query, "@"))
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	var out []brain.UserMatch
	for _, r := range h.records {
		k := userKey{r.Key.Platform, r.Key.UserID}
		if k.platform != p || seen[k.userID] {
			continue
		}
		u := brain.UserMatch{Platform: p, UserID: k.userID, Name: h.names[k], Handle: h.handles[k]}
		byHandle := u.Handle != "" && strings.ToLower(u.Handle) == q
		other := u.UserID == query || (u.Name != "" && strings.ToLower(u.Name) == q)
		if query == "" || byHandle || (!handleOnly && other) {
			seen[k.userID] = true
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out, nil
}

// All returns every stored message in the order they were stored, resets
// notwithstanding.
func (h *MemHistory) All() []brain.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]brain.Record, len(h.records))
	for i, r := range h.records {
		out[i] = h.view(r)
	}
	return out
}

// view is a copy of a stored record as the caller sees it: with the
// identity's current name and chat kind.
func (h *MemHistory) view(r brain.Record) brain.Record {
	c := clone(r)
	c.UserName = h.names[userKey{r.Key.Platform, r.Key.UserID}]
	c.Handle = h.handles[userKey{r.Key.Platform, r.Key.UserID}]
	c.ChatKind = h.kinds[chatKey{r.Key.Platform, r.Key.ChatID}]
	return c
}

// clone copies r so that the store and the caller share nothing.
func clone(r brain.Record) brain.Record {
	if r.Decision != nil {
		d := *r.Decision
		r.Decision = &d
	}
	return r
}
