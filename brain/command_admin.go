package brain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// adminCommands work for admins only (*_ADMIN_IDS, the terminal user).
func adminCommands() []commandSpec {
	return []commandSpec{
		{Command{Name: "sleep", Description: "(yönetici) Gece işini şimdi çalıştır: /sleep, /sleep dün, /sleep 2026-01-31", Args: "gün", Admin: true},
			(*Brain).sleep},
		{Command{Name: "wipe", Description: "(yönetici) Bir kullanıcının tüm hafızasını sil", Args: "kullanıcı", Admin: true},
			(*Brain).wipe},
	}
}

// wipe deletes a user's messages and long-term memories (admins only).
// With no argument it wipes the admin's own data.
func (b *Brain) wipe(ctx context.Context, m Message, args string) Reply {
	target := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(args), "@"))
	if target == "" {
		target = m.UserID
	}
	n, err := b.history.DeleteUser(ctx, m.Platform, target)
	if err != nil {
		b.log.Error("wipe user", "platform", m.Platform, "user", target, "err", err)
		return Reply{Kind: ReplyError, Text: msgStoreDown}
	}
	b.mu.Lock()
	for k := range b.sessions {
		if k.Platform == m.Platform && k.UserID == target {
			delete(b.sessions, k)
		}
	}
	b.mu.Unlock()
	if b.forget != nil {
		if err := b.forget.ForgetUser(ctx, m.Platform, target); err != nil {
			b.log.Error("wipe long-term memory", "platform", m.Platform, "user", target, "err", err)
			return Reply{Kind: ReplyError, Text: fmt.Sprintf(msgWipeRecallErr, target, n)}
		}
	}
	b.log.Info("wiped user", "platform", m.Platform, "user", target, "messages", n, "by", m.UserID)
	return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgWipeDone, target, n)}
}

// sleep runs the night job now over a day: today by default, "dün"
// (yesterday) or a YYYY-MM-DD date (admins only).
func (b *Brain) sleep(ctx context.Context, m Message, args string) Reply {
	if b.sleeper == nil {
		return Reply{Kind: ReplyCommand, Text: msgSleepOff}
	}
	var loc *time.Location // the night's zone, when the sleeper tells it (sleep.Job does)
	if z, ok := b.sleeper.(interface{ Location() *time.Location }); ok {
		loc = z.Location()
	}
	day, ok := ParseDay(strings.TrimSpace(args), b.clock.Now(), loc)
	if !ok {
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgSleepBadDay, oneLine(args, 40))}
	}
	b.log.Info("sleep requested", "by", m.UserID, "platform", m.Platform, "day", day.Format(time.DateOnly))
	report, err := b.sleeper.Sleep(ctx, day)
	if err != nil {
		b.log.Error("sleep on demand", "day", day.Format(time.DateOnly), "err", err)
		return Reply{Kind: ReplyError, Text: fmt.Sprintf(msgSleepFailed, oneLine(err.Error(), 200))}
	}
	return Reply{Kind: ReplyCommand, Text: report}
}

// ParseDay reads a day named relative to now, as /sleep and evo sleep take
// it: "" or "bugün" (today), "dün" (yesterday), or a YYYY-MM-DD date that
// is not in the future. Days are those of loc, the night's zone
// (SLEEP_TIMEZONE): now is read there, whatever zone it carries (the
// host's), and a date names loc's day. The day is returned at noon in
// loc, safely inside it. A nil loc means now's own zone.
func ParseDay(arg string, now time.Time, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = now.Location()
	}
	now = now.In(loc)
	noon := func(y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 12, 0, 0, 0, loc)
	}
	switch strings.ToLower(strings.ReplaceAll(arg, "İ", "i")) {
	case "", "bugün", "bugun", "today":
		return noon(now.Date()), true
	case "dün", "dun", "yesterday":
		y, m, d := now.Date()
		return noon(y, m, d-1), true
	}
	d, err := time.ParseInLocation(time.DateOnly, arg, loc)
	if err != nil || d.After(now) {
		return time.Time{}, false
	}
	return noon(d.Date()), true
}
