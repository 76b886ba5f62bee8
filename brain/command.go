package brain

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// parseCommand splits "/name@bot args" into its name and arguments. The
// name must be one word of ASCII letters, digits and underscores, so a
// pasted path such as "/usr/bin/python" is a message, not a command.
func parseCommand(text string) (name, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	head, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		rest = head[i+1:] + " " + rest
		head = head[:i]
	}
	head, _, _ = strings.Cut(head, "@")
	if head == "" || len(head) > 32 {
		return "", "", false
	}
	for _, r := range head {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", "", false
		}
	}
	return strings.ToLower(head), strings.TrimSpace(rest), true
}

// command answers one chat command.
func (b *Brain) command(ctx context.Context, m Message, name, args string) Reply {
	reply := func(format string, a ...any) Reply {
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(format, a...)}
	}
	for _, c := range Commands() {
		if c.Name == name && c.Admin && !m.Admin {
			return reply("%s", msgAdminOnly)
		}
	}
	switch name {
	case "start":
		return reply("%s", b.welcome(m.UserName))
	case "help":
		return reply("%s", helpText())
	case "reset":
		if err := b.history.Reset(ctx, m.Key()); err != nil {
			b.log.Error("reset context", "conv", m.Key().String(), "err", err)
			return Reply{Kind: ReplyError, Text: msgStoreDown}
		}
		return reply("%s", msgResetDone)
	case "expert":
		return b.setExpert(m.Key(), args)
	case "experts":
		return reply("%s", b.expertList())
	case "why":
		return b.why(ctx, m.Key())
	case "wipe":
		return b.wipe(ctx, m, args)
	case "sleep":
		return b.sleep(ctx, m, args)
	case "memory":
		return b.listMemories(ctx, m)
	case "forget":
		return b.forgetMe(ctx, m, args)
	}
	return reply(msgUnknownCmd, name)
}

func (b *Brain) welcome(name string) string {
	hello := "Merhaba!"
	if name != "" {
		hello = fmt.Sprintf("Merhaba %s!", oneLine(name, 64))
	}
	return hello + " Ben EVO-TR, kendi bilgisayarında çalışan Türkçe yapay zekâ asistanınım.\n\n" +
		"Bana her konuda yazabilirsin; her mesajı en uygun uzmana yönlendiririm:\n" + b.expertLines() +
		"\nKonuşmalarımızı hatırlarım; geceleri öğrendiklerimi düzenlerim.\nKomutlar için /help yaz."
}

func helpText() string {
	var b strings.Builder
	b.WriteString("Kullanabileceğin komutlar:\n")
	for _, c := range Commands() {
		if c.Admin {
			continue
		}
		arg := ""
		if c.Args != "" {
			arg = " <" + c.Args + ">"
		}
		fmt.Fprintf(&b, "/%s%s — %s\n", c.Name, arg, c.Description)
	}
	b.WriteString("\nGruplarda bana @adımla seslen ya da mesajıma yanıt ver.")
	return b.String()
}

// expertNames lists the experts a user can choose, base first.
func (b *Brain) expertNames() []string {
	names := make([]string, 0, len(b.experts))
	for n := range b.experts {
		if n != b.cfg.Base.Name {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append([]string{b.cfg.Base.Name}, names...)
}

func (b *Brain) expertLines() string {
	var s strings.Builder
	for _, n := range b.expertNames() {
		e := b.experts[n]
		desc := e.Description
		if n == b.cfg.Base.Name && desc == "" {
			desc = "temel model; emin olmadığımda o cevaplar"
		}
		fmt.Fprintf(&s, "• %s — %s\n", n, oneLine(desc, 120))
	}
	return s.String()
}

func (b *Brain) expertList() string {
	return "Uzmanlar:\n" + b.expertLines() + "\nBirini seçmek için: /expert <ad>; otomatiğe dönmek için: /expert auto"
}

func (b *Brain) setExpert(k ConvKey, args string) Reply {
	want := strings.ToLower(strings.TrimSpace(args))
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessionLocked(k)
	switch {
	case want == "":
		cur := "otomatik"
		if s.forced != "" {
			cur = s.forced
		}
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf("Şu anki seçim: **%s**.\n\n%s", cur, b.expertList())}
	case want == "auto" || want == "otomatik":
		s.forced = ""
		return Reply{Kind: ReplyCommand, Text: msgExpertAuto}
	}
	if _, ok := b.experts[want]; !ok {
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgExpertUnknown, oneLine(args, 40), b.expertList())}
	}
	s.forced = want
	return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgExpertSet, want)}
}

// why shows the last decision: from memory, else from the stored reply.
func (b *Brain) why(ctx context.Context, k ConvKey) Reply {
	b.mu.Lock()
	var d *Decision
	if s := b.sessions[k]; s != nil && s.last != nil {
		c := *s.last
		d = &c
	}
	b.mu.Unlock()
	if d == nil {
		recs, err := b.history.Recent(ctx, k, b.cfg.ContextMessages)
		if err != nil && errors.Is(err, ErrStoreUnavailable) {
			return Reply{Kind: ReplyError, Text: msgStoreDown}
		}
		for i := len(recs) - 1; i >= 0 && d == nil; i-- {
			d = recs[i].Decision
		}
	}
	if d == nil {
		return Reply{Kind: ReplyCommand, Text: msgNoDecision}
	}
	return Reply{Kind: ReplyCommand, Text: explainDecision(*d), Decision: d}
}

func explainDecision(d Decision) string {
	var s strings.Builder
	fmt.Fprintf(&s, "Son cevabı **%s** verdi (model: `%s`).\n", d.Expert, d.Model)
	switch {
	case d.Forced:
		s.WriteString("Bu uzmanı sen seçtin (/expert). Otomatiğe dönmek için: /expert auto")
		return s.String()
	case d.Fallback && d.Candidate != "":
		fmt.Fprintf(&s, "Yönlendirici en çok **%s** uzmanını düşündü ama emin değildi (güven %%%.0f), bu yüzden temel model cevap verdi.",
			d.Candidate, d.Confidence*100)
	case d.Fallback:
		s.WriteString("Yönlendirici devrede değildi; temel model cevap verdi.")
	default:
		fmt.Fprintf(&s, "Yönlendiricinin güveni: %%%.0f.", d.Confidence*100)
	}
	if d.RunnerUp != "" {
		fmt.Fprintf(&s, "\nİkinci aday: %s (%%%.0f).", d.RunnerUp, d.RunnerUpConfidence*100)
	}
	return s.String()
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

// memoryListLimit is how many memories /memory shows.
const memoryListLimit = 10

// listMemories shows the user what long-term memory keeps of them.
func (b *Brain) listMemories(ctx context.Context, m Message) Reply {
	if b.lister == nil {
		return Reply{Kind: ReplyCommand, Text: msgMemoryOff}
	}
	ms, err := b.lister.List(ctx, m.Platform, m.UserID, memoryListLimit+1)
	if err != nil {
		b.log.Error("list memories", "platform", m.Platform, "user", m.UserID, "err", err)
		return Reply{Kind: ReplyError, Text: msgMemoryDown}
	}
	if len(ms) == 0 {
		return Reply{Kind: ReplyCommand, Text: msgMemoryNone}
	}
	var s strings.Builder
	s.WriteString(msgMemoryHead)
	for i, mem := range ms {
		if i == memoryListLimit {
			s.WriteString("\n")
			s.WriteString(msgMemoryMore)
			break
		}
		fmt.Fprintf(&s, "\n• %s — %s", mem.Time.In(b.clock.Now().Location()).Format("02.01.2006"), oneLine(mem.Text, 300))
		if len(mem.Tags) > 0 {
			fmt.Fprintf(&s, " _(%s)_", oneLine(strings.Join(mem.Tags, ", "), 80))
		}
	}
	s.WriteString("\n\n")
	s.WriteString(msgMemoryFoot)
	return Reply{Kind: ReplyCommand, Text: s.String()}
}

// forgetMe deletes the user's own long-term memories after "/forget evet".
func (b *Brain) forgetMe(ctx context.Context, m Message, args string) Reply {
	if b.forget == nil {
		return Reply{Kind: ReplyCommand, Text: msgMemoryOff}
	}
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(args), "İ", "i")) {
	case "evet", "yes", "onay", "onaylıyorum":
	default:
		return Reply{Kind: ReplyCommand, Text: msgForgetAsk}
	}
	if err := b.forget.ForgetUser(ctx, m.Platform, m.UserID); err != nil {
		b.log.Error("forget own memories", "platform", m.Platform, "user", m.UserID, "err", err)
		return Reply{Kind: ReplyError, Text: msgMemoryDown}
	}
	b.log.Info("user forgot their long-term memories", "platform", m.Platform, "user", m.UserID)
	return Reply{Kind: ReplyCommand, Text: msgForgetDone}
}
