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
		{Command{Name: "wipe", Description: "(yönetici) Bir kullanıcının (kimlik, @kullanıcıadı ya da ad) ya da herkesin (all) tüm verisini sil; onay kodu ister", Args: "kullanıcı|all", Admin: true},
			(*Brain).wipe},
	}
}

// wipe erases a user, or with "all" every user, of the admin's platform
// (admins only): "/wipe USER" finds the user by id, @username or display
// name and answers with the command that confirms it, "/wipe ID CODE".
func (b *Brain) wipe(ctx context.Context, m Message, args string) Reply {
	args = strings.TrimSpace(args)
	if args == "" {
		return Reply{Kind: ReplyCommand, Text: msgWipeUsage}
	}
	f := b.finder()
	if f == nil {
		return Reply{Kind: ReplyCommand, Text: msgWipeNoFinder}
	}
	now := b.clock.Now()
	keyOf := func(target string) string {
		return "wipe|" + UserRef{m.Platform, m.UserID}.String() + "|" + target
	}
	if i := strings.LastIndexAny(args, " \t"); i > 0 && looksLikeCode(args[i+1:]) {
		target := strings.TrimSpace(args[:i])
		label, ok := b.erasing.codes.take(keyOf(target), args[i+1:], now)
		if !ok {
			return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgWipeBadCode, target)}
		}
		return b.wipeConfirmed(ctx, m, f, target, label)
	}

	if strings.EqualFold(args, "all") {
		users, err := f.FindUsers(ctx, m.Platform, "")
		if err != nil {
			b.log.Error("wipe all: list users", "platform", m.Platform, "err", err)
			return Reply{Kind: ReplyError, Text: msgWipeFindDown}
		}
		label := fmt.Sprintf(msgWipeAllLabel, len(users), m.Platform)
		code, err := b.erasing.codes.issue(keyOf("all"), label, now)
		if err != nil {
			b.log.Error("wipe: confirmation code", "err", err)
			return Reply{Kind: ReplyError, Text: msgCodeFailed}
		}
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgWipeAllAsk, label, code)}
	}

	matches, err := f.FindUsers(ctx, m.Platform, args)
	if err != nil {
		b.log.Error("wipe: find user", "platform", m.Platform, "err", err)
		return Reply{Kind: ReplyError, Text: msgWipeFindDown}
	}
	for _, u := range matches {
		if u.UserID == args { // an exact id wins over names that happen to match
			matches = []UserMatch{u}
			break
		}
	}
	switch len(matches) {
	case 0:
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgWipeNone, oneLine(args, 64), m.Platform)}
	case 1:
	default:
		var list strings.Builder
		for _, u := range matches {
			fmt.Fprintf(&list, "\n• %s", userLabel(u))
		}
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgWipeMany, oneLine(args, 64), list.String())}
	}
	u := matches[0]
	label := userLabel(u)
	code, err := b.erasing.codes.issue(keyOf(u.UserID), label, now)
	if err != nil {
		b.log.Error("wipe: confirmation code", "err", err)
		return Reply{Kind: ReplyError, Text: msgCodeFailed}
	}
	return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgWipeAsk, label, u.UserID, code)}
}

// wipeConfirmed erases the confirmed target: one user's id, or "all".
func (b *Brain) wipeConfirmed(ctx context.Context, m Message, f UserFinder, target, label string) Reply {
	var e erasure
	if target == "all" {
		users, err := f.FindUsers(ctx, m.Platform, "")
		if err != nil {
			b.log.Error("wipe all: list users", "platform", m.Platform, "err", err)
			return Reply{Kind: ReplyError, Text: msgWipeFindDown}
		}
		label = fmt.Sprintf(msgWipeAllLabel, len(users), m.Platform)
		for _, u := range users {
			e.add(b.erase(ctx, UserRef{u.Platform, u.UserID}))
		}
	} else {
		e = b.erase(ctx, UserRef{m.Platform, target})
	}
	b.log.Info("wiped", "platform", m.Platform, "target", target, "users", e.users, "messages", e.messages, "by", m.UserID)
	if len(e.failed) > 0 {
		return Reply{Kind: ReplyError, Text: fmt.Sprintf(msgWipePartial, label, e.done(), strings.Join(e.failed, ", "), target)}
	}
	return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgWipeDone, label, e.done(), b.nightNote(msgWipeNight))}
}

// userLabel names a user for an admin: "Ayşe (@ayse, 42)", "@ayse (42)"
// or "42".
func userLabel(u UserMatch) string {
	var more []string
	if u.Handle != "" {
		more = append(more, "@"+oneLine(u.Handle, 64))
	}
	more = append(more, u.UserID)
	if u.Name == "" {
		if len(more) == 1 {
			return u.UserID
		}
		return more[0] + " (" + u.UserID + ")"
	}
	return oneLine(u.Name, 64) + " (" + strings.Join(more, ", ") + ")"
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
