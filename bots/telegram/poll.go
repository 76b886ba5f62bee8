package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// Long polling, at least once.
//
// Telegram confirms an update, and never sends it again, once getUpdates
// is called with an offset higher than its update_id. go-telegram/bot's
// own loop (Bot.Start, get_updates.go) stores lastUpdateID as it queues
// each update into its handler channel and polls again at once with
// offset = lastUpdateID+1: an update is confirmed before our handler has
// stored anything, and a crash then loses it. The library offers no hook
// between "the handler returned" and "the next offset".
//
// So the adapter polls by itself and uses the library only to send. The
// loop is: getUpdates(offset) → hand each update, in order and
// synchronously, to onUpdate (whose brain.Submit returns only once the
// message is stored) → offset = that update's id + 1 → poll again. An
// update is therefore confirmed only after onUpdate returned for it and for
// every earlier one. The alternative, an http.Client wrapper that holds
// the library's next getUpdates and rewrites the multipart offset field,
// would depend on the library's request order and encoding and would have
// to parse its responses; a loop of our own is shorter and states the rule
// where it is kept.
//
// When ctx ends, updates already received but not yet handed over (or
// whose handling overlapped the end of ctx) are not confirmed: Telegram
// sends them again at the next start, and the brain, which deduplicates by
// chat and message id, answers a stored one with brain.ReplyNone. Updates
// seen twice in one process (Telegram resending one, a webhook retry) are
// dropped by update_id.

// maxPollBackoff bounds the wait between failed getUpdates calls.
const maxPollBackoff = 5 * time.Second

// recentUpdates is how many update ids the adapter remembers to drop
// redeliveries.
const recentUpdates = 4096

// poll receives updates until ctx ends.
func (b *Bot) poll(ctx context.Context) {
	var offset int64 // 0: the oldest unconfirmed update
	sent := offset   // the offset of the last getUpdates call
	var backoff time.Duration
	for ctx.Err() == nil {
		if backoff > 0 {
			if b.cfg.Sleep(ctx, backoff) != nil {
				break
			}
		}
		timeout := max(int((b.cfg.PollTimeout - time.Second).Seconds()), 1)
		sent = offset
		raws, err := b.getUpdates(ctx, offset, timeout, 100)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			backoff = b.pollBackoff(backoff, err)
			continue
		}
		backoff = 0
		for _, raw := range raws {
			u, ok := b.decodeUpdate(raw)
			if !ok {
				// No readable update_id: it cannot be confirmed alone and
				// comes back with the batch; wait as after an error.
				backoff = b.pollBackoff(backoff, errors.New("update without update_id"))
				break
			}
			if u != nil && !b.handle(ctx, u) {
				break // ctx ended: neither this update nor later ones count
			}
			offset = rawID(raw) + 1
		}
	}
	if offset != sent {
		b.confirm(offset)
	}
}

// confirm tells Telegram, at shutdown, that every update before offset is
// handled, so that they are not sent again at the next start. It waits
// for nothing (timeout 0) and asks for one update at most, which is not
// handled and stays unconfirmed.
func (b *Bot) confirm(offset int64) {
	ctx, cancel := context.WithTimeout(context.Background(), min(b.cfg.RequestTimeout, 5*time.Second))
	defer cancel()
	if _, err := b.getUpdates(ctx, offset, 0, 1); err != nil {
		b.log.Debug("telegram: confirming the last updates failed; they will be sent again", "err", err)
	}
}

// pollBackoff logs a failed poll and returns the wait before the next one:
// Telegram's retry_after on 429, else 100 ms doubling up to 5 s.
func (b *Bot) pollBackoff(prev time.Duration, err error) time.Duration {
	next := min(max(2*prev, 100*time.Millisecond), maxPollBackoff)
	var api *pollError
	if errors.As(err, &api) {
		switch {
		case api.Code == http.StatusTooManyRequests && api.RetryAfter > 0:
			next = time.Duration(api.RetryAfter) * time.Second
		case api.Code == http.StatusConflict:
			b.log.Warn("telegram getUpdates conflict: another instance polls with this token, or a webhook is set", "err", err)
			return maxPollBackoff
		}
	}
	b.log.Warn("telegram getUpdates failed; retrying", "in", next, "err", err)
	return next
}

// handle passes u to onUpdate unless it was handled already in this
// process. It reports false when ctx ended before or while u was handled:
// u must then not be confirmed (nor remembered), so that it comes again.
func (b *Bot) handle(ctx context.Context, u *models.Update) bool {
	if ctx.Err() != nil {
		return false
	}
	if b.seen.has(u.ID) {
		b.log.Debug("telegram update received again; dropped", "update_id", u.ID)
		return true
	}
	b.onUpdate(ctx, u)
	if ctx.Err() != nil {
		return false
	}
	b.seen.add(u.ID)
	return true
}

// decodeUpdate decodes one update of a batch. An update whose body does
// not decode but whose id does is logged and skipped (nil, true): it would
// fail the same way every time. ok is false when not even the id can be
// read.
func (b *Bot) decodeUpdate(raw json.RawMessage) (u *models.Update, ok bool) {
	id := rawID(raw)
	if id == 0 {
		b.log.Error("telegram update without update_id", "update", truncate(string(raw), 200))
		return nil, false
	}
	u = &models.Update{}
	if err := json.Unmarshal(raw, u); err != nil {
		b.log.Error("telegram update does not decode; skipped", "update_id", id, "err", err)
		return nil, true
	}
	return u, true
}

func rawID(raw json.RawMessage) int64 {
	var head struct {
		ID int64 `json:"update_id"`
	}
	_ = json.Unmarshal(raw, &head)
	return head.ID
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// pollError is an error answer to getUpdates.
type pollError struct {
	Code        int
	Description string
	RetryAfter  int
}

func (e *pollError) Error() string {
	return fmt.Sprintf("getUpdates: %d %s", e.Code, e.Description)
}

// getUpdates calls the Bot API's getUpdates and returns the raw updates.
func (b *Bot) getUpdates(ctx context.Context, offset int64, timeout, limit int) ([]json.RawMessage, error) {
	params := struct {
		Offset         int64    `json:"offset,omitempty"`
		Limit          int      `json:"limit,omitempty"`
		Timeout        int      `json:"timeout"`
		AllowedUpdates []string `json:"allowed_updates"`
	}{offset, limit, timeout, allowedUpdates}
	body, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimRight(b.cfg.APIURL, "/") + "/bot" + b.cfg.Token + "/getUpdates"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %w", b.redact(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %w", b.redact(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: read: %w", b.redact(err))
	}
	var answer struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return nil, fmt.Errorf("getUpdates: HTTP %d, undecodable answer: %w", resp.StatusCode, err)
	}
	if !answer.OK {
		return nil, &pollError{Code: answer.ErrorCode, Description: answer.Description, RetryAfter: answer.Parameters.RetryAfter}
	}
	return answer.Result, nil
}

// redact removes the token from an error's URL.
func (b *Bot) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = strings.ReplaceAll(ue.URL, b.cfg.Token, "***")
	}
	return err
}

// idSet remembers the last recentUpdates update ids handled, to drop
// redeliveries. It is safe for concurrent use.
type idSet struct {
	mu   sync.Mutex
	ids  map[int64]struct{}
	ring []int64
	next int
}

func newIDSet(n int) *idSet {
	return &idSet{ids: make(map[int64]struct{}, n), ring: make([]int64, n)}
}

func (s *idSet) has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

// add remembers id, forgetting the oldest one when full.
func (s *idSet) add(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return
	}
	if old := s.ring[s.next]; old != 0 {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.ids[id] = struct{}{}
	s.next = (s.next + 1) % len(s.ring)
}
