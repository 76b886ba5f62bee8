package brain

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateWindow is the window of the rate limit: one notice per user per
// window, and the limit counts messages per window.
const rateWindow = time.Minute

// rateLimit bounds how many messages of one user reach the model.
type rateLimit struct {
	perMinute int

	mu    sync.Mutex
	users map[UserRef]*userRate
}

// userRate is one user's bucket and their last notice.
type userRate struct {
	lim     *rate.Limiter
	noticed time.Time
}

// WithRateLimit lets at most perMinute messages of one user (bursts of
// perMinute, refilled evenly over a minute) reach the model; the rest are
// stored but not answered, with one notice per minute. Admins are exempt.
// perMinute <= 0 turns it off (the default).
func WithRateLimit(perMinute int) Option {
	return func(b *Brain) {
		b.limit = nil
		if perMinute > 0 {
			b.limit = &rateLimit{perMinute: perMinute, users: map[UserRef]*userRate{}}
		}
	}
}

// take spends one message of u's allowance at now. It reports whether the
// message may go on and, when not, whether u gets a notice.
func (l *rateLimit) take(u UserRef, now time.Time) (ok, notice bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ur := l.users[u]
	if ur == nil {
		if len(l.users) >= accessMapMax {
			for k, v := range l.users {
				if v.lim.TokensAt(now) >= float64(l.perMinute) && now.Sub(v.noticed) >= rateWindow {
					delete(l.users, k)
				}
			}
		}
		ur = &userRate{lim: rate.NewLimiter(rate.Every(rateWindow/time.Duration(l.perMinute)), l.perMinute)}
		l.users[u] = ur
	}
	if ur.lim.AllowN(now, 1) {
		return true, false
	}
	if !ur.noticed.IsZero() && now.Sub(ur.noticed) < rateWindow {
		return false, false
	}
	ur.noticed = now
	return false, true
}

// throttle is the rate check, run once the user's message is stored and
// before it is queued: nil lets it on; otherwise it returns what to send
// instead — one notice per window, then nothing — and the message stays
// stored but unanswered. The reply (or silence) is stored as a failed
// reply so that a restart does not answer the message.
func (b *Brain) throttle(ctx context.Context, m Message, user *Record) *Reply {
	if b.limit == nil || user == nil || m.Admin || m.Resumed {
		return nil
	}
	ok, notice := b.limit.take(UserRef{Platform: m.Platform, UserID: m.UserID}, b.clock.Now())
	if ok {
		return nil
	}
	b.log.Warn("rate limit: message stored, not answered", "conv", m.Key().String(), "per_minute", b.limit.perMinute, "notice", notice)
	if notice {
		r := b.notice(ctx, user, fmt.Sprintf(msgRateLimited, b.limit.perMinute))
		return &r
	}
	// Stored as an empty failed reply: the user saw nothing, and a restart
	// does not answer the message.
	b.notice(ctx, user, "")
	return &Reply{Kind: ReplyNone}
}
