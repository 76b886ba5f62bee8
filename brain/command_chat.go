package brain

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// chatCommands are the conversation's own commands.
func chatCommands() []commandSpec {
	return []commandSpec{
		{Command{Name: "start", Description: "Karşılama ve neler yapabildiğim"},
			func(b *Brain, _ context.Context, m Message, _ string) Reply {
				return Reply{Kind: ReplyCommand, Text: b.welcome(m.UserName)}
			}},
		{Command{Name: "help", Description: "Komutlar ve kullanım"},
			func(*Brain, context.Context, Message, string) Reply {
				return Reply{Kind: ReplyCommand, Text: helpText()}
			}},
		{Command{Name: "reset", Description: "Kısa süreli bağlamımı temizle"},
			func(b *Brain, ctx context.Context, m Message, _ string) Reply { return b.reset(ctx, m.Key()) }},
		{Command{Name: "expert", Description: "Uzman seç: /expert python_coder, /expert auto", Args: "uzman"},
			func(b *Brain, _ context.Context, m Message, args string) Reply { return b.setExpert(m.Key(), args) }},
		{Command{Name: "experts", Description: "Uzmanları listele"},
			func(b *Brain, _ context.Context, _ Message, _ string) Reply {
				return Reply{Kind: ReplyCommand, Text: b.expertList()}
			}},
		{Command{Name: "why", Description: "Son cevabı hangi uzmanın neden verdiğini göster"},
			func(b *Brain, ctx context.Context, m Message, _ string) Reply { return b.why(ctx, m.Key()) }},
	}
}

// reset starts a fresh context window; stored messages stay.
func (b *Brain) reset(ctx context.Context, k ConvKey) Reply {
	if err := b.history.Reset(ctx, k); err != nil {
		b.log.Error("reset context", "conv", k.String(), "err", err)
		return Reply{Kind: ReplyError, Text: msgStoreDown}
	}
	return Reply{Kind: ReplyCommand, Text: msgResetDone}
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
