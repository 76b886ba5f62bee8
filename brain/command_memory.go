package brain

import (
	"context"
	"fmt"
	"strings"
)

// memoryCommands show and delete what EVO-TR keeps of the user: private.
func memoryCommands() []commandSpec {
	return []commandSpec{
		{Command{Name: "memory", Description: "Uzun süreli hafızamda senin hakkında neler var", Private: true},
			func(b *Brain, ctx context.Context, m Message, _ string) Reply { return b.listMemories(ctx, m) }},
		{Command{Name: "forget", Description: "Beni unut: mesajlarını, anılarını ve eğitim verisindeki satırlarını sil (onay kodu ister)", Args: "kod", Private: true},
			(*Brain).forgetMe},
	}
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

// forgetMe erases everything EVO-TR keeps of the user, once they send
// back the code the first "/forget" gave them.
func (b *Brain) forgetMe(ctx context.Context, m Message, args string) Reply {
	u := UserRef{Platform: m.Platform, UserID: m.UserID}
	key := "forget|" + u.String()
	now := b.clock.Now()
	if strings.TrimSpace(args) == "" {
		code, err := b.erasing.codes.issue(key, "", now)
		if err != nil {
			b.log.Error("forget: confirmation code", "err", err)
			return Reply{Kind: ReplyError, Text: msgCodeFailed}
		}
		return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgForgetAsk, code)}
	}
	if _, ok := b.erasing.codes.take(key, args, now); !ok {
		return Reply{Kind: ReplyCommand, Text: msgForgetBadCode}
	}
	e := b.erase(ctx, u)
	if len(e.failed) > 0 {
		return Reply{Kind: ReplyError, Text: fmt.Sprintf(msgForgetPartial, e.done(), strings.Join(e.failed, ", "))}
	}
	return Reply{Kind: ReplyCommand, Text: fmt.Sprintf(msgForgetDone, e.done(), b.nightNote(msgForgetNight))}
}
